"""Lighting of synthetic shots: a static grade of the photo and a per-frame light level.

The grade is one lookup table per colour channel, so it costs nothing per frame:
- temperature: the photo is white-balanced (shades-of-grey estimate of its light, p = 6), then
  given warm (low), neutral (medium) or cool (high) white-balance gains, in linear light;
- key and contrast: a tone curve y = sigmoid(a * logit(x) + b) solved so the frame's mean luma
  hits the key's target and its luma spread hits the contrast's target (so the labels mean the
  same on every photo). Contrast is rendered as tonal contrast of the whole frame, not as a
  key-to-fill ratio on a face (a photo cannot be relit).
Light motion multiplies linear light frame by frame: flicker (a dip every 1/f s, each of a
random depth, so it is irregular but its spectrum peaks at f), pulse (regular), fade up/down,
switch (the light snaps on or off, at random, once, from one frame to the next, in the middle
part of the shot).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from ._synth_spec import ShotSpec

KEY_MEAN = {"low": 0.22, "medium": 0.42, "high": 0.66}  # mean Rec.601 luma (0-1, gamma coded)
CONTRAST_STD = {"low": 0.11, "medium": 0.18, "high": 0.26}  # standard deviation of luma
# Linear-light white-balance gains (R, G, B) after neutralising the photo's own light.
TEMPERATURE_GAINS = {
    "low": (1.25, 1.0, 0.62),  # warm, as tungsten (about 3,200 K) on a daylight balance
    "medium": (1.0, 1.0, 1.0),
    "high": (0.84, 0.97, 1.25),  # cool, as open shade (about 7,500 K)
}
FADE_FLOOR = 0.2  # linear light level at the dark end of a fade
SWITCH_OFF = 0.25  # linear light level with the switched light off (other light remains)
SWITCH_SPAN = (0.3, 0.7)  # share of the shot's duration the switch falls in, at random
FLICKER_DEPTH = (0.35, 0.75)  # range of each flicker dip's depth
PULSE_DEPTH = 0.35
_SAMPLE = 4096  # pixels the photo's own light is estimated on


@dataclass(frozen=True)
class Grade:
    """A static grade: per-channel white balance, then a tone curve on luma (hue kept)."""

    balance: NDArray[np.uint8]  # (1, 256, 3) lookup table for cv2.LUT
    ratio: NDArray[np.float32]  # (256,) output / input luma, indexed by 8-bit luma
    mean_luma: float  # what the graded photo measures
    std_luma: float
    gains: tuple[float, float, float]
    curve: tuple[float, float]  # (a, b) of the tone curve

    def apply(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """The graded copy of an RGB image."""
        import cv2
        import numpy as np

        balanced = np.asarray(cv2.LUT(image, self.balance), dtype=np.uint8)
        if self.curve == (1.0, 0.0):
            return balanced
        luma = cv2.cvtColor(balanced, cv2.COLOR_RGB2GRAY)  # Rec.601 weights, 8-bit
        scaled = balanced * self.ratio[luma][:, :, None]
        return np.asarray(np.clip(scaled + 0.5, 0, 255), dtype=np.uint8)


def srgb_to_linear() -> NDArray[np.float64]:
    """Linear light of each 8-bit sRGB code value (256 entries)."""
    import numpy as np

    x = np.arange(256) / 255.0
    result: NDArray[np.float64] = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
    return result


def linear_to_srgb(linear: NDArray[np.float64]) -> NDArray[np.float64]:
    """sRGB coded values (0-1) of linear light, clipped to 0-1."""
    import numpy as np

    x = np.clip(linear, 0.0, 1.0)
    result: NDArray[np.float64] = np.where(
        x <= 0.0031308, x * 12.92, 1.055 * x ** (1 / 2.4) - 0.055
    )
    return result


def grade(photo: NDArray[np.uint8], spec: ShotSpec) -> Grade:
    """The static grade of ``photo`` for the spec's key, contrast and temperature."""
    import cv2
    import numpy as np

    linear = srgb_to_linear()
    gains = (1.0, 1.0, 1.0)
    if spec.temperature is not None:
        gains = _white_balance(linear[_sample(photo)], TEMPERATURE_GAINS[spec.temperature])
    table = np.stack([linear_to_srgb(linear * g) for g in gains], axis=1)  # (256, 3)
    balance = np.round(table * 255).astype(np.uint8).reshape(1, 256, 3)
    curve = (1.0, 0.0)
    if spec.key is not None or spec.contrast is not None:
        luma = cv2.cvtColor(cv2.LUT(photo, balance), cv2.COLOR_RGB2GRAY)
        histogram = np.bincount(luma.ravel(), minlength=256) / luma.size
        curve = _solve_curve(histogram, spec)
    levels = np.arange(256) / 255.0
    ratio = (_tone(levels, *curve) / np.maximum(levels, 0.5 / 255)).astype(np.float32)
    result = Grade(balance, ratio, 0.0, 0.0, gains, curve)
    graded = cv2.cvtColor(result.apply(photo), cv2.COLOR_RGB2GRAY) / 255.0
    return Grade(balance, ratio, float(graded.mean()), float(graded.std()), gains, curve)


def light_levels(spec: ShotSpec, rng: np.random.Generator) -> NDArray[np.float64] | None:
    """Per-frame linear-light multipliers for the spec's light motion, or None."""
    import numpy as np

    if spec.light_motion is None:
        return None
    t = np.arange(spec.frames) / spec.fps
    duration = (spec.frames - 1) / spec.fps
    if spec.light_motion in ("fade_up", "fade_down"):
        x = t / duration if spec.light_motion == "fade_up" else 1 - t / duration
        ramp = x * x * (3 - 2 * x)
        result: NDArray[np.float64] = FADE_FLOOR + (1 - FADE_FLOOR) * ramp
        return result
    if spec.light_motion == "switch":
        at = rng.uniform(*SWITCH_SPAN) * duration
        on = t >= at if rng.random() < 0.5 else t < at
        return np.where(on, 1.0, SWITCH_OFF)
    hz = spec.resolved_light_hz
    assert hz is not None
    cycles = t * hz
    dip = (1 - np.cos(2 * math.pi * cycles)) / 2
    if spec.light_motion == "pulse":
        return np.asarray(1 - PULSE_DEPTH * dip, dtype=np.float64)
    depths = rng.uniform(*FLICKER_DEPTH, size=int(cycles[-1]) + 1)
    return np.asarray(1 - depths[np.floor(cycles).astype(int)] * dip, dtype=np.float64)


def level_lut(level: float) -> NDArray[np.uint8]:
    """A (256,) lookup table multiplying linear light by ``level``."""
    import numpy as np

    return np.round(linear_to_srgb(srgb_to_linear() * level) * 255).astype(np.uint8)


# -- helpers --------------------------------------------------------------------------------


def _sample(photo: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """About ``_SAMPLE`` pixels of the photo on a regular grid, as (n, 3) code values."""
    pixels = photo.reshape(-1, 3)
    stride = max(1, len(pixels) // _SAMPLE)
    return pixels[::stride]


def _white_balance(
    sample_linear: NDArray[np.float64], target: tuple[float, float, float]
) -> tuple[float, float, float]:
    """Gains that neutralise the photo's light, then apply ``target``, keeping mean luminance."""
    import numpy as np

    light = (sample_linear**6).mean(axis=0) ** (1 / 6)
    neutral = light.mean() / np.maximum(light, 1e-6)
    gains = neutral * np.asarray(target)
    weights = (0.2126, 0.7152, 0.0722)
    before = sum(w * float(np.sum(sample_linear[:, c])) for c, w in enumerate(weights))
    after = sum(
        w * g * float(np.sum(sample_linear[:, c]))
        for c, (w, g) in enumerate(zip(weights, gains, strict=True))
    )
    gains *= before / max(after, 1e-9)
    return (float(gains[0]), float(gains[1]), float(gains[2]))


def _tone(table: NDArray[np.float64], a: float, b: float) -> NDArray[np.float64]:
    """The tone curve sigmoid(a * logit(x) + b) applied to a table of values in 0-1."""
    import numpy as np

    if a == 1.0 and b == 0.0:
        return table
    x = np.clip(table, 1 / 1024, 1 - 1 / 1024)
    result: NDArray[np.float64] = 1 / (1 + np.exp(-(a * np.log(x / (1 - x)) + b)))
    return result


def _solve_curve(histogram: NDArray[np.float64], spec: ShotSpec) -> tuple[float, float]:
    """(a, b) whose curve gives the target mean (key) and spread (contrast) of luma."""
    import numpy as np

    levels = np.arange(256) / 255.0

    def stats(a: float, b: float) -> tuple[float, float]:
        mapped = _tone(levels, a, b)
        mean = float(np.sum(histogram * mapped))  # not a BLAS dot: same bits on every run
        return mean, math.sqrt(max(float(np.sum(histogram * (mapped - mean) ** 2)), 0.0))

    own_mean = float(np.sum(histogram * levels))
    mean_target = KEY_MEAN[spec.key] if spec.key is not None else own_mean

    def b_for(a: float) -> float:
        return _bisect(lambda b: stats(a, b)[0], mean_target)

    if spec.contrast is None:
        return 1.0, b_for(1.0)
    std_target = CONTRAST_STD[spec.contrast]
    a = _bisect(lambda a: stats(a, b_for(a))[1], std_target, low=0.15, high=6.0, steps=24)
    return a, b_for(a)


def _bisect(
    function: Callable[[float], float],
    target: float,
    low: float = -8.0,
    high: float = 8.0,
    steps: int = 30,
) -> float:
    """The argument where an increasing ``function`` reaches ``target`` (clamped to the range)."""
    for _ in range(steps):
        middle = (low + high) / 2
        if function(middle) < target:
            low = middle
        else:
            high = middle
    return (low + high) / 2

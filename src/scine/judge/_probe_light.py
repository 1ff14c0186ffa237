"""Lighting key, contrast, colour temperature and light motion, measured from pixel values.

- Key and contrast: the mean and the standard deviation of each frame's luma (0-1), their
  medians over the frames (so a fade or a flash does not dominate), compared with the level
  each value stands for in log space. A single colour has no contrast to read.
- Colour temperature: the light is estimated by shades of grey (the p-norm, p = 6, of each
  channel in linear light, a middle way between grey world and white patch); the log ratio of
  its red to its blue, median over frames, is warm (low) when high and cool (high) when low.
  A single colour, or a cast no light gives (far redder, bluer, greener or more magenta than
  tungsten or shade), is the scene's own colour: the probe abstains.
- Light motion: a change of light moves every pixel's luma, and the mean luma, by the same
  factor; a camera move or a moving subject changes pixels both ways (the median log ratio of
  a pixel's luma to the frame before stays near zero) or brings brighter or darker things into
  view (only the mean changes). So each frame's step of light level is the smaller of the
  two log ratios when they agree in sign, else zero. The summed level is split into a slow
  part (a cubic in time: a fade is its net change), the best sinusoid left over (a pulse:
  regular and slow) and what neither explains (a flicker: irregular dips, or a rise and fall
  faster than a pulse). Flicker at 2.5-8 Hz, sampled at 8 frames a second, folds to any
  frequency up to 4 Hz, so it is told from a pulse by its irregularity as much as by its
  frequency. A switch (a light snapping on or off) is one large step between two frames with
  the level flat on both sides; what it explains is not read as a flicker or a fade.

Each leaf gets a belief for every value the probe can tell apart: a soft nearest-level rule
(a Gaussian of the distance to each level, normalised) for the graded leaves, logistic ramps
for light motion. A black clip is never read. All constants were calibrated on synthetic
shots of known lighting (``scine.video.synth``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pydantic import JsonValue

from ._reading import Clip, Reading, abstain, black_frames, is_black, too_few_frames

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["probe_exposure", "probe_light_motion", "probe_temperature"]

KEY = "lighting.conditions.key"
CONTRAST = "lighting.conditions.contrast"
TEMPERATURE = "lighting.color_temperature"
LIGHT_MOTION = "lighting.advanced.motion"

# -- shared ---------------------------------------------------------------------------------
STATS_STRIDE = 2  # every this many rows and columns are read for percentiles
FLAT_STD = 3.0 / 255  # a frame whose channels all vary less than this is one colour

# -- key and contrast -----------------------------------------------------------------------
# Median over frames of the mean luma (0-1) and of its standard deviation at each level.
KEY_LEVELS = {"low": 0.22, "medium": 0.42, "high": 0.66}
CONTRAST_LEVELS = {"low": 0.096, "medium": 0.172, "high": 0.241}
KEY_SPREAD = 0.12  # standard deviation (log of mean luma) of the Gaussian around each level
CONTRAST_SPREAD = 0.1  # the same for the log of the luma standard deviation

# -- colour temperature ---------------------------------------------------------------------
SHADES_P = 6  # p of the shades-of-grey p-norm estimate of the light
TEMPERATURE_FRAMES = 8  # frames (evenly spread) the light is estimated on
TEMPERATURE_STRIDE = 4  # every this many rows and columns of those frames
# log(red / blue) of the estimated light in linear light: warm, neutral and cool.
TEMPERATURE_LEVELS = {"low": 0.69, "medium": 0.0, "high": -0.37}
TEMPERATURE_SPREAD = 0.12  # standard deviation (log ratio) of the Gaussian around each level
# Beyond these the estimate is a coloured scene, not a coloured light (lights lie near the
# warm-cool locus): |log(red / blue)| (twice tungsten's) and |log(green / mean of red, blue)|.
MAX_RED_BLUE = 1.4
MAX_GREEN = 1.0

# -- light motion ---------------------------------------------------------------------------
MOTION_STRIDE = 4  # every this many rows and columns are compared between frames
VALID_LUMA = (12, 245)  # pixels outside this 8-bit luma range (noise, clipping) are not read
MIN_VALID_SHARE = 0.05  # fewer valid pixels in a pair: its change is read from mean luma
POLY_DEGREE = 3  # the slow part of the light level (a fade is a smoothstep: a cubic)
PULSE_HZ = (0.4, 4.0)  # frequencies searched for the periodic part, Hz (up to Nyquist)
HZ_STEP = 0.05  # of the coarse search; the best is refined on a grid of HZ_REFINE
HZ_REFINE = 21
FADE_CHANGE = 0.35  # net log change of luma of the slow part where a fade is half believed
FADE_SOFTNESS = 0.06
SWING = 0.03  # std (log luma) of the variation around the slow part where it is half believed
SWING_SOFTNESS = 0.006
IRREGULAR = 0.06  # share of that variation no sinusoid explains where it is half a flicker
IRREGULAR_SOFTNESS = 0.012
PULSE_MAX_HZ = 2.0  # a regular rise and fall faster than this is a flicker, not a pulse
PULSE_MAX_SOFTNESS = 0.2
SWITCH_STEP = 0.15  # log luma change between two frames where a switch is half believed
SWITCH_STEP_SOFTNESS = 0.03
SWITCH_FLAT = 0.25  # the level's farthest departure from flat on either side of that one
SWITCH_FLAT_SOFTNESS = 0.05  # step, over the step, where a switch is half believed
MOTIONS = ("flicker", "pulse", "fade_up", "fade_down", "switch")


def probe_exposure(clip: Clip) -> list[Reading]:
    """Key (from the median mean luma) and contrast (from the median luma spread) of the clip."""
    import cv2
    import numpy as np

    if is_black(clip):
        return [abstain(KEY, "black frames"), abstain(CONTRAST, "black frames")]
    stats = np.array([cv2.meanStdDev(frame) for frame in clip.gray]).reshape(-1, 2) / 255
    means, spreads = stats[:, 0], stats[:, 1]
    mean, spread = float(np.median(means)), float(np.median(spreads))
    middle = clip.gray[int(np.argsort(means)[len(means) // 2]), ::STATS_STRIDE, ::STATS_STRIDE]
    low, median, high = (float(v) / 255 for v in np.percentile(middle, (5, 50, 95)))
    measure: dict[str, JsonValue] = {
        "mean_luma": round(mean, 4),
        "std_luma": round(spread, 4),
        "p05_luma": round(low, 4),
        "p50_luma": round(median, 4),
        "p95_luma": round(high, 4),
        "mean_luma_range": [round(float(means.min()), 4), round(float(means.max()), 4)],
    }
    key = _graded(KEY, math.log(max(mean, 1e-3)), _logs(KEY_LEVELS), KEY_SPREAD, measure)
    if _is_flat(clip):
        return [key, abstain(CONTRAST, "single colour: no contrast to measure", measure)]
    contrast = _graded(
        CONTRAST, math.log(max(spread, 1e-3)), _logs(CONTRAST_LEVELS), CONTRAST_SPREAD, measure
    )
    return [key, contrast]


def probe_temperature(clip: Clip) -> list[Reading]:
    """Colour temperature from the red-to-blue ratio of the shades-of-grey estimate of the light."""
    import numpy as np

    if is_black(clip):
        return [abstain(TEMPERATURE, "black frames")]
    if _is_flat(clip):
        return [abstain(TEMPERATURE, "single colour: its hue cannot be told from the light's")]
    picks = np.unique(np.linspace(0, len(clip.frames) - 1, TEMPERATURE_FRAMES).round().astype(int))
    stride = TEMPERATURE_STRIDE
    pixels = clip.frames[picks, ::stride, ::stride].reshape(len(picks), -1, 3)
    light = np.maximum(_power_table()[pixels].mean(axis=1) ** (1 / SHADES_P), 1e-6)
    logs = np.log(light)  # (frames, 3)
    red_blue = float(np.median(logs[:, 0] - logs[:, 2]))
    green = float(np.median(logs[:, 1] - (logs[:, 0] + logs[:, 2]) / 2))
    gains = light / light.mean(axis=1, keepdims=True)
    measure: dict[str, JsonValue] = {
        "log_red_blue": round(red_blue, 4),
        "log_green": round(green, 4),
        "light_rgb": [round(float(v), 4) for v in np.median(gains, axis=0)],
        "frames": len(picks),
    }
    if abs(red_blue) > MAX_RED_BLUE or abs(green) > MAX_GREEN:
        reason = "colour too strong for a light: the scene's own colour, not the light's"
        return [abstain(TEMPERATURE, reason, measure)]
    return [_graded(TEMPERATURE, red_blue, TEMPERATURE_LEVELS, TEMPERATURE_SPREAD, measure)]


def probe_light_motion(clip: Clip) -> list[Reading]:
    """Flicker, pulse or fade of the light, from the frame-to-frame change of the light level."""
    import numpy as np

    if len(clip.gray) < 2:
        return [abstain(LIGHT_MOTION, too_few_frames(clip))]
    if is_black(clip):
        return [abstain(LIGHT_MOTION, "black frames")]
    gray, times = _without_black_ends(clip)
    if len(gray) < 2:
        return [abstain(LIGHT_MOTION, "fewer than 2 frames besides black ones")]
    level = _light_level(gray)
    times = times - times[0]
    if times[-1] <= 0:  # no usable timestamps: the frames are taken as evenly spaced
        times = np.arange(len(times)) / clip.fps
    slow, periodic, hz = _decompose(level, times)
    step, around_step = _largest_step(level)
    switched = _ramp(abs(step), SWITCH_STEP, SWITCH_STEP_SOFTNESS) * (
        1 - _ramp(around_step, SWITCH_FLAT, SWITCH_FLAT_SOFTNESS)
    )
    swing = float(np.std(level - slow))
    left = float(np.std(level - slow - periodic))
    irregular = (left / swing) ** 2 if swing > 0 else 0.0
    change = float(slow[-1] - slow[0])
    faded = _ramp(abs(change), FADE_CHANGE, FADE_SOFTNESS)
    varies = _ramp(swing, SWING, SWING_SOFTNESS)
    flickery = max(
        _ramp(irregular, IRREGULAR, IRREGULAR_SOFTNESS),
        _ramp(hz, PULSE_MAX_HZ, PULSE_MAX_SOFTNESS),
    )
    support = {
        "flicker": varies * flickery * (1 - switched),
        "pulse": varies * (1 - flickery) * (1 - switched),
        "fade_up": faded * (1 - switched) if change > 0 else 0.0,
        "fade_down": faded * (1 - switched) if change < 0 else 0.0,
        "switch": switched,
    }
    support = {name: round(belief, 4) for name, belief in support.items()}
    measure: dict[str, JsonValue] = {
        "net_change": round(change, 4),
        "swing": round(swing, 4),
        "irregular_share": round(irregular, 4),
        "black_frames_left_out": len(clip.gray) - len(gray),
        "peak_hz": round(hz, 3),
        "largest_step": round(step, 4),
        "spread_around_step": round(around_step, 4),
        "level": [round(float(v), 4) for v in level],
    }
    steady = (1 - faded) * (1 - varies) * (1 - switched)
    best = max(MOTIONS, key=lambda name: support[name])
    if support[best] <= steady:
        return [
            Reading(LIGHT_MOTION, None, round(steady, 4), support, measure, reason="steady light")
        ]
    return [Reading(LIGHT_MOTION, best, support[best], support, measure)]


# -- helpers --------------------------------------------------------------------------------


def _without_black_ends(clip: Clip) -> tuple[NDArray[np.uint8], NDArray[np.float64]]:
    """The luma frames and timestamps without the black frames that open or close the clip:
    a cut from or to black is no change of the scene's light (a fade keeps its dim frames)."""
    import numpy as np

    shown = np.flatnonzero(~black_frames(clip))
    first, last = int(shown[0]), int(shown[-1]) + 1
    return clip.gray[first:last], clip.timestamps[first:last]


def _is_flat(clip: Clip) -> bool:
    """Whether the middle frame is one colour (every channel nearly constant)."""
    import cv2

    _, spread = cv2.meanStdDev(clip.frames[len(clip.frames) // 2])
    return bool((spread / 255 < FLAT_STD).all())


def _logs(levels: dict[str, float]) -> dict[str, float]:
    return {name: math.log(value) for name, value in levels.items()}


def _graded(
    node: str,
    value: float,
    levels: dict[str, float],
    spread: float,
    measure: dict[str, JsonValue],
) -> Reading:
    """A reading of the level nearest ``value``, each level believed by a normalised Gaussian."""
    weights = {name: math.exp(-0.5 * ((value - at) / spread) ** 2) for name, at in levels.items()}
    total = sum(weights.values())
    if total <= 0:  # far outside every level: all belief on the nearest
        nearest = min(levels, key=lambda name: abs(value - levels[name]))
        weights, total = {name: float(name == nearest) for name in levels}, 1.0
    support = {name: round(weight / total, 4) for name, weight in weights.items()}
    best = max(support, key=lambda name: support[name])
    return Reading(node, best, support[best], support, measure)


def _power_table() -> NDArray[np.float64]:
    """Linear light to the power ``SHADES_P`` of each 8-bit sRGB code value."""
    import numpy as np

    x = np.arange(256) / 255.0
    linear = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
    result: NDArray[np.float64] = linear**SHADES_P
    return result


def _light_level(gray: NDArray[np.uint8]) -> NDArray[np.float64]:
    """Log light level of each frame relative to the first (log of luma units).

    Each step is the smaller of two estimates when they agree in sign, else nothing: the
    median log ratio of the pixels valid in both frames (which a moving camera can bias on
    fine texture) and the log ratio of the frames' mean luma (which a moving camera changes by
    bringing other things into view). A change of light moves both alike. With too few valid
    pixels (nearly black or clipped frames), the step is the mean luma's alone.
    """
    import numpy as np

    codes = gray[:, ::MOTION_STRIDE, ::MOTION_STRIDE].reshape(len(gray), -1)
    logs = np.log(np.maximum(np.arange(256), 0.5)).astype(np.float32)[codes]
    valid = (codes >= VALID_LUMA[0]) & (codes <= VALID_LUMA[1])
    both = valid[1:] & valid[:-1]
    ordered = np.sort(np.where(both, logs[1:] - logs[:-1], np.inf), axis=1)
    counts = both.sum(axis=1)
    rows = np.arange(len(ordered))
    lower, upper = np.maximum(counts - 1, 0) // 2, np.maximum(counts, 1) // 2
    medians = (ordered[rows, lower] + ordered[rows, upper]) / 2
    means = np.diff(np.log(np.maximum(codes.mean(axis=1), 0.5)))
    agreed = np.where(
        np.sign(medians) == np.sign(means),
        np.sign(means) * np.minimum(np.abs(medians), np.abs(means)),
        0.0,
    )
    steps = np.where(counts >= MIN_VALID_SHARE * codes.shape[1], agreed, means)
    level: NDArray[np.float64] = np.concatenate([[0.0], np.cumsum(steps, dtype=np.float64)])
    return level


def _largest_step(level: NDArray[np.float64]) -> tuple[float, float]:
    """(the largest change of the light level between two frames, the level's farthest
    departure from flat on either side of it, relative to it): a light switched on or off is
    one step with flat sides; a flicker's deepest dip is undone, so it departs as far."""
    import numpy as np

    steps = np.diff(level)
    at = int(np.argmax(np.abs(steps)))
    step = float(steps[at])
    if step == 0:
        return 0.0, math.inf
    departure = max(float(np.abs(side - side.mean()).max()) for side in np.split(level, [at + 1]))
    return step, departure / abs(step)


def _decompose(
    level: NDArray[np.float64], times: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """(slow part, best sinusoid of the rest, its frequency in Hz) of a light level series."""
    import numpy as np

    span = max(float(times[-1]), 1e-9)
    x = times / span * 2 - 1  # -1 to 1: a well-conditioned polynomial basis
    degree = min(POLY_DEGREE, len(level) - 1)
    fit = np.polynomial.polynomial.polyfit(x, level, degree)
    slow = np.asarray(np.polynomial.polynomial.polyval(x, fit), dtype=np.float64)
    rest = level - slow
    nyquist = 0.5 * (len(times) - 1) / span
    coarse = np.arange(PULSE_HZ[0], min(PULSE_HZ[1], nyquist) + 1e-9, HZ_STEP)
    if len(coarse) == 0 or len(level) <= degree + 2:
        return slow, np.zeros_like(level), 0.0
    hz = float(coarse[np.argmax(_sinusoids(rest, times, coarse)[0])])
    fine = np.clip(np.linspace(hz - HZ_STEP, hz + HZ_STEP, HZ_REFINE), coarse[0], coarse[-1])
    explained, fits = _sinusoids(rest, times, fine)
    best = int(np.argmax(explained))
    return slow, fits[best], float(fine[best])


def _sinusoids(
    series: NDArray[np.float64], times: NDArray[np.float64], hz: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """For each frequency, the sum of squares of ``series`` its best sinusoid explains, and
    that sinusoid (least squares on a cosine and a sine)."""
    import numpy as np

    phase = 2 * math.pi * hz[:, None] * times[None, :]
    cos, sin = np.cos(phase), np.sin(phase)
    cc, ss, cs = (cos * cos).sum(1), (sin * sin).sum(1), (cos * sin).sum(1)
    cr, sr = cos @ series, sin @ series
    det = cc * ss - cs * cs
    solvable = det > 1e-6 * cc * ss  # at Nyquist the sine vanishes at every sample
    det = np.where(solvable, det, 1.0)
    a = np.where(solvable, (ss * cr - cs * sr) / det, cr / np.maximum(cc, 1e-12))
    b = np.where(solvable, (cc * sr - cs * cr) / det, 0.0)
    fits: NDArray[np.float64] = a[:, None] * cos + b[:, None] * sin
    explained: NDArray[np.float64] = a * cr + b * sr
    return explained, fits


def _ramp(value: float, middle: float, softness: float) -> float:
    """A logistic step from 0 to 1, half way at ``middle``."""
    return 1 / (1 + math.exp(-max(-50.0, min(50.0, (value - middle) / softness))))

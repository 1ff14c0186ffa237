"""What the measured probes share: the frames they look at and what each one reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import JsonValue

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "BLACK_LUMA",
    "BLACK_SHARE",
    "Clip",
    "Reading",
    "abstain",
    "black_frames",
    "is_black",
    "too_few_frames",
]

BLACK_LUMA = 16
"""8-bit luma at or below which a pixel is black (video black is 16 in limited range)."""

BLACK_SHARE = 0.001
"""A frame with at most this share of pixels brighter than ``BLACK_LUMA`` is black."""

_BLACK_STRIDE = 2  # every this many rows and columns are looked at


@dataclass(frozen=True)
class Clip:
    """The frames every probe of one video reads, sampled once.

    ``frames`` is uint8 RGB (T, H, W, 3); ``gray`` the same frames as uint8 luma (T, H, W);
    ``timestamps`` the seconds at which each frame is on screen; ``fps`` the sampling rate
    (frames per second of video time); ``source`` the file they came from.
    """

    frames: NDArray[np.uint8]
    gray: NDArray[np.uint8]
    timestamps: NDArray[np.float64]
    fps: float
    source: str


@dataclass(frozen=True)
class Reading:
    """What one probe measured for one taxonomy leaf of one video.

    ``value`` is the value id the probe reads (None: it abstains, and ``reason`` says why);
    ``confidence`` (0-1) is its belief in that value; ``support`` gives a belief (0-1) for
    every value of the leaf the probe can tell apart, so a question about any of those
    values can be scored (a value missing from ``support`` cannot be judged by this probe);
    ``measure`` holds the raw measurements, JSON-ready, that the reading was made from.
    """

    node: str
    value: str | None
    confidence: float
    support: dict[str, float] = field(default_factory=dict)
    measure: dict[str, JsonValue] = field(default_factory=dict)
    reason: str | None = None


def abstain(node: str, reason: str, measure: dict[str, JsonValue] | None = None) -> Reading:
    """A reading that makes no claim about ``node``, with the reason."""
    return Reading(node=node, value=None, confidence=0.0, measure=measure or {}, reason=reason)


def too_few_frames(clip: Clip) -> str:
    """Why a clip of under 2 sampled frames shows no change: how many, at what rate."""
    return (
        f"fewer than 2 frames: {len(clip.gray)} sampled at {clip.fps:g} a second, the clip is "
        "too short to show a change"
    )


def black_frames(clip: Clip) -> NDArray[np.bool_]:
    """For each frame, whether (nearly) no pixel of it is brighter than video black."""
    import numpy as np

    gray = clip.gray[:, ::_BLACK_STRIDE, ::_BLACK_STRIDE].reshape(len(clip.gray), -1)
    black: NDArray[np.bool_] = np.count_nonzero(gray > BLACK_LUMA, axis=1) <= (
        BLACK_SHARE * gray.shape[1]
    )
    return black


def is_black(clip: Clip) -> bool:
    """Whether every frame of the clip is black (see ``black_frames``)."""
    return bool(black_frames(clip).all())

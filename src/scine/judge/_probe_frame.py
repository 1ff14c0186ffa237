"""Framing probes read from the picture alone: the Dutch angle and the shot size.

**Dutch angle** (``camera.extrinsics.angle``). A camera rolled about its lens axis turns every
horizontal and vertical of the scene by the same angle. On a few frames spread over the clip
the probe takes the gradients of the strongest edges (the top fifth by magnitude, after a
light blur that keeps pixel-grid quantisation out of the angles), folds their orientations
modulo 90 degrees (horizontals and verticals count together) into a histogram weighted by
edge strength, and reads the peak: its signed angle is the tilt (positive: the picture turned
counter-clockwise, the horizon rising to the right), its height over a flat histogram the line
strength, and the histogram's height at 0 degrees the level evidence. A tilt of 8-36 degrees
whose peak stands well above the level bin reads as Dutch. A frame whose tilt drifts steadily
from frame to frame is a camera *roll*, not a held Dutch angle: it reads as not Dutch, with
the roll rate in ``measure``. The probe cannot tell eye level from high or low angles, so
a level frame gives no value, only a small belief in ``dutch``. Scenes without straight lines
(grass, gravel, fur) give a weak, uninformative peak: the belief then stays near the base
rate of Dutch shots instead of claiming level.

**Shot size** (``camera.creative_intent.shot_size``). OpenCV's bundled frontal-face Haar
cascade finds the largest face on a few evenly spaced frames; the median face height over
the frame height gives the frame height in head heights (a detected face box is about 0.61
of the head, hair to chin), which maps to a size. An extreme close-up crops the face beyond
the frame, so where no face is found the eye cascade looks for a single large eye (an eye box
is about 0.15 of the head). Where neither is found the probe abstains: it never guesses.
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING

from pydantic import JsonValue

from ._reading import Clip, Reading, abstain

if TYPE_CHECKING:
    import cv2
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["probe_dutch", "probe_shot_size"]

ANGLE = "camera.extrinsics.angle"
SHOT_SIZE = "camera.creative_intent.shot_size"

# -- Dutch angle ----------------------------------------------------------------------------

TILT_FRAMES = 6  # frames read, evenly spread over the clip
EDGE_BLUR = 1.0  # Gaussian sigma (pixels) before the gradients
EDGE_QUANTILE = 80.0  # only edges stronger than this percentile of the frame vote
MIN_EDGE = 4.0  # mean strong-edge magnitude (Scharr, 8-bit luma) below which a frame is flat
MIN_LINE_STRENGTH = 1.15  # peak over a flat histogram below which there are no lines (noise)
LEVEL_TOLERANCE = 8.0  # |tilt| below this (degrees) is level: photos lean a few degrees
DUTCH_LIMIT = 36.0  # |tilt| above this is diagonal content, not a roll (45 is ambiguous)
DUTCH_CONTRAST = 0.38  # 1 - level bin / peak at which the belief in Dutch is one half
CONTRAST_SCALE = 0.06  # logistic width of that belief
STRONG_LINES = 1.5  # line strength from which the histogram is fully trusted
DUTCH_PRIOR = 0.16  # share of Dutch shots in the calibration set: the belief without lines
LEVEL_FLOOR = 0.03  # belief in Dutch left for a clearly level frame
ROLL_SPAN = 8.0  # degrees the per-frame tilt must sweep for a roll
ROLL_FIT = 2.0  # largest RMS residual (degrees) of a steady roll's straight-line fit
NOISE_PAIRS = 3  # pairs of neighbouring frames compared to spot static noise
NOISE_BLOCK = 8  # pixels averaged (each way) before frames are compared
NOISE_CORRELATION = 0.2  # neighbouring frames of any real shot correlate far more than this
LEVEL_REASON = "level: the probe reads only whether the frame is tilted"


def probe_dutch(clip: Clip) -> list[Reading]:
    """Whether the frame is held at a Dutch angle, from the orientation of its lines."""
    import numpy as np

    if len(clip.gray) == 0:
        return [abstain(ANGLE, "no frames")]
    if _is_noise(clip.gray):
        return [abstain(ANGLE, "static noise: nothing holds from frame to frame")]
    picks = np.unique(np.linspace(0, len(clip.gray) - 1, TILT_FRAMES).round().astype(int))
    histograms = [_orientations(clip.gray[i]) for i in picks]
    usable = [(i, h) for i, h in zip(picks, histograms, strict=True) if h is not None]
    if not usable:
        return [abstain(ANGLE, "no edges: the frames are blank or a single colour")]
    total = np.sum([h for _, h in usable], axis=0)
    tilt, strength, level = _peak(total)
    per_frame = [_peak(h)[0] for _, h in usable]
    times = clip.timestamps[[i for i, _ in usable]]
    measure: dict[str, JsonValue] = {
        "tilt_deg": round(tilt, 2),
        "line_strength": round(strength, 3),
        "level_strength": round(level, 3),
        "frame_tilts_deg": [round(t, 1) for t in per_frame],
    }
    if strength < MIN_LINE_STRENGTH:
        return [abstain(ANGLE, "too few lines to read a tilt (noise or featureless)", measure)]
    roll = _roll_rate(times, per_frame)
    if roll is not None:
        measure["roll_deg_per_s"] = round(roll, 2)
        belief = LEVEL_FLOOR
        return [_level(belief, measure, "the frame rolls during the shot: not a held Dutch angle")]
    belief = _dutch_belief(tilt, strength, level)
    if belief > 0.5:
        return [
            Reading(
                node=ANGLE,
                value="dutch",
                confidence=round(belief, 3),
                support={"dutch": round(belief, 3)},
                measure=measure,
                reason=f"the lines lean {abs(tilt):.0f} degrees off level",
            )
        ]
    return [_level(belief, measure, LEVEL_REASON)]


def _is_noise(gray: NDArray[np.uint8]) -> bool:
    """Whether neighbouring frames are unrelated (static noise): the median correlation of
    their block averages (blocks, so a shaking camera on a fine texture still correlates)."""
    import cv2
    import numpy as np

    if len(gray) < 2:
        return False
    firsts = np.unique(np.linspace(0, len(gray) - 2, NOISE_PAIRS).round().astype(int))
    size = (max(gray.shape[2] // NOISE_BLOCK, 1), max(gray.shape[1] // NOISE_BLOCK, 1))

    def blocks(indices: NDArray[np.int64]) -> NDArray[np.float32]:
        small = [cv2.resize(gray[i], size, interpolation=cv2.INTER_AREA) for i in indices]
        return np.asarray(small, np.float32).reshape(len(indices), -1)

    first, second = blocks(firsts), blocks(firsts + 1)
    first -= first.mean(axis=1, keepdims=True)
    second -= second.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1)
    if (norms == 0).any():
        return False
    links = (first * second).sum(axis=1) / norms
    return float(np.median(links)) < NOISE_CORRELATION


def _level(belief: float, measure: dict[str, JsonValue], reason: str) -> Reading:
    return Reading(
        node=ANGLE,
        value=None,
        confidence=round(1 - belief, 3),
        support={"dutch": round(belief, 3)},
        measure=measure,
        reason=reason,
    )


def _orientations(gray: NDArray[np.uint8]) -> NDArray[np.float64] | None:
    """Edge strength per degree of orientation modulo 90 (index 0: -45); None when flat."""
    import cv2
    import numpy as np

    image = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), EDGE_BLUR)
    gx = cv2.Scharr(image, cv2.CV_32F, 1, 0)
    gy = cv2.Scharr(image, cv2.CV_32F, 0, 1)
    magnitude, angle = cv2.cartToPolar(gx, gy, angleInDegrees=True)
    flat = magnitude.ravel()
    cut = int(flat.size * EDGE_QUANTILE / 100)
    strong = magnitude > np.partition(flat, cut)[cut]
    if not strong.any() or float(magnitude[strong].mean()) < MIN_EDGE:
        return None
    folded = (angle[strong] + 45.0) % 90.0
    bins = np.minimum(folded.astype(np.int64), 89)
    return np.bincount(bins, weights=magnitude[strong], minlength=90).astype(np.float64)


def _peak(histogram: NDArray[np.float64]) -> tuple[float, float, float]:
    """(tilt in degrees, peak over the mean, level bin over the mean) of a folded histogram.

    A positive tilt is a picture turned counter-clockwise (the horizon rising to the right).
    """
    import numpy as np

    kernel = np.array([1.0, 2.0, 3.0, 2.0, 1.0]) / 9.0
    wrapped = np.concatenate([histogram[-2:], histogram, histogram[:2]])
    smooth = np.convolve(wrapped, kernel, mode="valid")
    smooth = smooth / max(float(smooth.mean()), 1e-12)
    top = int(np.argmax(smooth))
    left, right = smooth[top - 1], smooth[(top + 1) % 90]
    curvature = left - 2 * smooth[top] + right
    offset = 0.5 * (left - right) / curvature if curvature < 0 else 0.0
    tilt = 45.0 - (top + 0.5 + offset)  # image y points down: negate for counter-clockwise
    level = float(smooth[44:46].mean())
    return float(tilt), float(smooth[top]), level


def _roll_rate(times: NDArray[np.float64], tilts: list[float]) -> float | None:
    """Degrees per second of a steady roll through the frames; None when the tilt holds."""
    import numpy as np

    if len(tilts) < 3:
        return None
    unwrapped = np.unwrap(np.asarray(tilts), period=90.0)
    if float(np.ptp(unwrapped)) < ROLL_SPAN:
        return None
    slope, intercept = np.polyfit(times, unwrapped, 1)
    residual = unwrapped - (slope * times + intercept)
    if float(np.sqrt(np.mean(residual**2))) > ROLL_FIT:
        return None
    return float(slope)


def _dutch_belief(tilt: float, strength: float, level: float) -> float:
    """Belief that the frame is tilted: sharp where the lines are strong, the prior where not."""
    if LEVEL_TOLERANCE <= abs(tilt) <= DUTCH_LIMIT:
        contrast = 1.0 - level / strength
        sharp = 1.0 / (1.0 + math.exp(-(contrast - DUTCH_CONTRAST) / CONTRAST_SCALE))
    else:
        sharp = LEVEL_FLOOR
    trust = min(max((strength - MIN_LINE_STRENGTH) / (STRONG_LINES - MIN_LINE_STRENGTH), 0.0), 1.0)
    return trust * sharp + (1.0 - trust) * DUTCH_PRIOR


# -- shot size ------------------------------------------------------------------------------

SIZE_FRAMES = 3  # frames searched for a face, evenly spread
FACE_TO_HEAD = 0.61  # a frontal-face box's height over the head's (hair to chin)
EYE_TO_HEAD = 0.15  # an eye box's height over the head's
FACE_HEIGHT = 192  # frames taller than this are searched for faces at this height...
MIN_FACE = 24  # ...for faces of at least this many pixels (a medium shot's face is ~0.23 of
# the frame height); smaller searches miss faces the cascade finds at full size
EYE_HEIGHT = 72  # eyes are searched at this height...
MIN_EYE = 18  # ...down to this size: a quarter of the frame, only an extreme close-up's eye
DETECT_SCALE = 1.2  # scale step of the cascade search
DETECT_NEIGHBOURS = 4  # overlapping detections a face needs
HEAD_SPREAD = 0.1  # measurement spread of log(frame height in head heights)
# Frame height in head heights at which each size ends (the last is open-ended); the four
# closest are the bands synthetic shots are rendered in, the wider ones standard framings
# (waist up, knees up, whole body), beyond which a frontal face is too small to find.
SIZE_BANDS: tuple[tuple[str, float], ...] = (
    ("extreme_close_up", 0.8),
    ("close_up", 1.6),
    ("medium_close_up", 2.3),
    ("medium", 3.1),
    ("medium_wide", 4.5),
    ("full", math.inf),
)


def probe_shot_size(clip: Clip) -> list[Reading]:
    """The shot size from the height of the largest face (or eye) over the frame height."""
    import numpy as np

    if len(clip.gray) == 0:
        return [abstain(SHOT_SIZE, "no frames")]
    if _is_noise(clip.gray):
        return [abstain(SHOT_SIZE, "no face found: static noise")]
    picks = np.unique(np.linspace(0, len(clip.gray) - 1, SIZE_FRAMES).round().astype(int))
    frames = [clip.gray[i] for i in picks if float(clip.gray[i].std()) > 1.0]
    if not frames:
        return [abstain(SHOT_SIZE, "no face found: the frames are blank")]
    face = _cascade("haarcascade_frontalface_default.xml")
    found = _majority(face, frames, FACE_HEIGHT, MIN_FACE)
    part, per_head = "face", FACE_TO_HEAD
    if len(found) * 2 <= len(frames):
        eye = _cascade("haarcascade_eye.xml")
        found = _majority(eye, frames, EYE_HEIGHT, MIN_EYE)
        part, per_head = "eye", EYE_TO_HEAD
        if len(found) * 2 <= len(frames):
            return [abstain(SHOT_SIZE, "no face found")]
    ratio = float(np.median(found))
    heads = per_head / ratio
    support = _size_support(heads)
    best = max(support, key=support.__getitem__)
    return [
        Reading(
            node=SHOT_SIZE,
            value=best,
            confidence=support[best],
            support=support,
            measure={
                "part": part,
                f"{part}_height_ratio": round(ratio, 4),
                "head_heights": round(heads, 3),
                "frames_found": len(found),
                "frames_searched": len(frames),
            },
            reason=f"the {part} is {ratio:.0%} of the frame height ({heads:.2f} head heights)",
        )
    ]


_CASCADES = threading.local()
"""Each thread's own classifiers: a cascade's detection keeps state in the object, so two
threads sharing one find different faces."""


def _cascade(name: str) -> cv2.CascadeClassifier:
    """This thread's classifier of OpenCV's bundled cascade ``name``."""
    import cv2

    loaded: dict[str, cv2.CascadeClassifier] = _CASCADES.__dict__.setdefault("loaded", {})
    if name not in loaded:
        folder: str = cv2.data.haarcascades  # type: ignore[attr-defined]  # cv2.data: no stubs
        classifier = cv2.CascadeClassifier(folder + name)
        if classifier.empty():
            raise RuntimeError(f"OpenCV's bundled cascade {name} could not be loaded")
        loaded[name] = classifier
    return loaded[name]


def _majority(
    classifier: cv2.CascadeClassifier, frames: list[NDArray[np.uint8]], height: int, smallest: int
) -> list[float]:
    """``_largest``'s ratios on the frames where it finds something, searched in turn until
    a majority can no longer be reached (the rest could not change the verdict)."""
    found: list[float] = []
    for searched, frame in enumerate(frames, start=1):
        ratio = _largest(classifier, frame, height, smallest)
        if ratio > 0:
            found.append(ratio)
        if (searched - len(found)) * 2 >= len(frames):
            break
    return found


def _largest(
    classifier: cv2.CascadeClassifier, gray: NDArray[np.uint8], height: int, smallest: int
) -> float:
    """Height of the largest detection over the frame height (0 when none), searched with
    the frame resized to ``height`` pixels (smaller frames are searched as they are)."""
    import cv2
    import numpy as np

    scale = min(height / gray.shape[0], 1.0)
    image = gray
    if scale < 1.0:
        image = np.asarray(
            cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), np.uint8
        )
    found = classifier.detectMultiScale(
        image,
        scaleFactor=DETECT_SCALE,
        minNeighbors=DETECT_NEIGHBOURS,
        minSize=(smallest, smallest),
    )
    return max((float(box[3]) for box in found), default=0.0) / float(image.shape[0])


def _size_support(heads: float) -> dict[str, float]:
    """Belief in each size: the mass of a log-normal spread around ``heads`` in its band."""
    centre = math.log(heads)
    support: dict[str, float] = {}
    lower = 0.0
    for size, upper in SIZE_BANDS:
        mass = _normal_cdf(_log(upper), centre) - _normal_cdf(_log(lower), centre)
        support[size] = round(mass, 3)
        lower = upper
    return support


def _log(heads: float) -> float:
    return -math.inf if heads <= 0 else math.log(heads)


def _normal_cdf(x: float, centre: float) -> float:
    if math.isinf(x):
        return 0.0 if x < 0 else 1.0
    return 0.5 * (1.0 + math.erf((x - centre) / (HEAD_SPREAD * math.sqrt(2.0))))

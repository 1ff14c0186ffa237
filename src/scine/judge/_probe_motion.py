"""Camera movement, rig and speed, measured from how the whole picture moves between frames.

Corners (``cv2.goodFeaturesToTrack``) are followed through the sampled frames by pyramidal
Lucas-Kanade optical flow, re-detected every ``CHUNK_FRAMES`` frames. Each consecutive pair of
frames gets a RANSAC similarity (``cv2.estimateAffinePartial2D``): the motion of the frame's
centre, the change of scale and the rotation, turned into rates per second. Their mean over
the clip is the camera's steady motion; its largest part, put in one unit (how fast it moves
the picture at the frame's left and right edges, in frame widths per second), names the
movement, and its size the speed. Shake is the jitter of the per-pair motion around its
smooth trend (a straight line in time). Parallax tells a move (truck, dolly) from a turn or
zoom (pan, tilt, zoom): over each chunk, a homography explains every point of a turn or zoom
whatever its depth, but leaves the points off the dominant plane behind when the camera
moves. Without parallax the move and the turn look alike, so both get the same support.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import JsonValue

from ._reading import Clip, Reading, abstain, too_few_frames

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Points = NDArray[np.float32]

__all__ = ["probe_movement"]

MOVEMENT = "camera.trajectory.movement"
RIG = "camera.trajectory.rig"
SPEED = "camera.trajectory.speed"
NODES = (MOVEMENT, RIG, SPEED)

# -- tracking -------------------------------------------------------------------------------
MAX_CORNERS = 100  # corners followed per chunk
CORNER_QUALITY = 0.01  # of the strongest corner's response
CORNER_SPACING = 8.0  # pixels between corners
CHUNK_FRAMES = 8  # corners are re-detected this often (and when too few survive)
FLOW_WINDOW = (9, 9)  # Lucas-Kanade window, pixels
FLOW_LEVELS = 2  # pyramid levels above the frame (follows moves of ~15 px a frame)
# Lucas-Kanade stops after 10 steps or a step under 0.03 px (cv2.TERM_CRITERIA_COUNT | EPS)
FLOW_STOP = (3, 10, 0.03)
RANSAC_TRIES = 200  # RANSAC draws per fit (most points agree, so few are needed)
RANSAC_PIXELS = 1.0  # a point within this of the fitted motion is an inlier
MIN_POINTS = 12  # fewest inliers for a frame pair's motion to count
MIN_INLIER_SHARE = 0.5  # of the tracked points, for a pair to count
MIN_GOOD_PAIRS = 0.5  # share of frame pairs that must count for any reading
MIN_CONTRAST = 2.0  # grey-level standard deviation below which a frame shows nothing
LEVEL_MEAN, LEVEL_DEVIATION = 128.0, 40.0  # every frame's grey levels are set to these
MIN_PARALLAX_SHIFT = 2.0  # pixels a chunk must move the picture to show parallax
# Parallax is this percentile of the points' residuals: a quarter of the points may stray
# (a subject crossing, a repeating texture) without reading as depth.
PARALLAX_PERCENTILE = 75

# -- reading --------------------------------------------------------------------------------
# Motion is put in frame widths per second at the frame's left and right edges, the unit the
# speed leaf is judged in: a translation as it is, a log-scale rate or a rotation (radians)
# times half the frame width.
STATIC_LIMIT = 0.008  # widths per second: slower steady motion reads as a static camera
STATIC_SOFTNESS = 0.25  # log-space width of the static/moving transition
PARALLAX_LIMIT = 0.15  # residual (of the displacement) past which the camera moves
PARALLAX_SOFTNESS = 0.25  # log-space width of the turn/move transition
JITTER_LIMIT = 0.01  # widths per second of jitter past which the camera is handheld
JITTER_SOFTNESS = 0.3  # log-space width of the tripod/handheld transition
PACE_LIMITS = (0.04, 0.12)  # slow below the first, fast from the second (widths per second)
PACE_SOFTNESS = 0.15  # log-space width of each pace boundary
TIE = 0.5  # each of a turn and a move that look alike gets this share of the belief
# component -> ((turn, the move that looks alike) when its rate is positive, (...) negative);
# a camera turning left or moving left sees the picture move right (a positive rate)
DIRECTIONS = {
    "pan": (("pan_left", "truck_left"), ("pan_right", "truck_right")),
    "tilt": (("tilt_up", None), ("tilt_down", None)),
    "zoom": (("zoom_in", "dolly_in"), ("zoom_out", "dolly_out")),
    "roll": (("roll", None), ("roll", None)),
}
MOVEMENTS = (
    "static",
    "pan_left",
    "pan_right",
    "tilt_up",
    "tilt_down",
    "zoom_in",
    "zoom_out",
    "dolly_in",
    "dolly_out",
    "truck_left",
    "truck_right",
    "roll",
)


@dataclass(frozen=True)
class _Pairs:
    """Per frame pair: the similarity's rates per second, and how well it was found."""

    dx: list[float]  # centre motion, frame widths per second (positive: content moves right)
    dy: list[float]  # also frame widths per second (positive: content moves down)
    zoom: list[float]  # log-scale per second (positive: content grows)
    roll: list[float]  # radians per second
    times: list[float]  # seconds, the middle of each pair
    tracked: list[int]
    inliers: list[int]
    parallax: list[float]  # per chunk: homography residual relative to the displacement
    pairs: int  # frame pairs looked at, counted or not


def probe_movement(clip: Clip) -> list[Reading]:
    """Read the camera's movement, rig and speed from the motion of the picture.

    Returns readings for ``camera.trajectory.movement``, ``.rig`` and ``.speed``, all three
    abstaining when the clip has under 2 frames or nothing that moves consistently. The
    measured rates (``dx_per_s`` and ``dy_per_s`` in frame widths per second,
    ``log_scale_per_s``, ``roll_deg_per_s``, ``edge_widths_per_s``) are in ``measure``.
    """
    if len(clip.gray) < 2:
        return _abstain_all(too_few_frames(clip))
    frames = _levelled(clip)
    if frames is None:
        return _abstain_all("every frame is a single flat colour: nothing to track")
    pairs = _track(frames, clip.timestamps)
    measure: dict[str, JsonValue] = {
        "pairs": pairs.pairs,
        "good_pairs": len(pairs.dx),
        "tracked_points": int(sum(pairs.tracked)),
        "inliers": int(sum(pairs.inliers)),
    }
    if len(pairs.dx) < max(2, MIN_GOOD_PAIRS * pairs.pairs):
        return _abstain_all(
            f"only {len(pairs.dx)} of {pairs.pairs} frame pairs have features that move "
            "together: no trackable picture (blank, noise or cuts)",
            measure,
        )
    return _read(pairs, measure)


def _abstain_all(reason: str, measure: dict[str, JsonValue] | None = None) -> list[Reading]:
    return [abstain(node, reason, measure) for node in NODES]


def _levelled(clip: Clip) -> list[NDArray[np.uint8]] | None:
    """The frames at one mean and contrast (so flicker and fades do not read as motion).

    None when every frame is a single flat colour: nothing to track.
    """
    import cv2

    frames = []
    flat = True
    for frame in clip.gray:
        mean, deviation = (float(value[0, 0]) for value in cv2.meanStdDev(frame))
        flat = flat and deviation < MIN_CONTRAST
        gain = LEVEL_DEVIATION / max(deviation, MIN_CONTRAST)
        frames.append(cv2.addWeighted(frame, gain, frame, 0.0, LEVEL_MEAN - gain * mean))
    return None if flat else frames


def _track(gray: list[NDArray[np.uint8]], times: NDArray[np.float64]) -> _Pairs:
    """Follow corners through the frames and fit a similarity to each pair's motion."""
    import numpy as np

    height, width = gray[0].shape
    centre = np.array([(width - 1) / 2, (height - 1) / 2])
    found = _Pairs([], [], [], [], [], [], [], [], len(gray) - 1)
    start = points = np.empty((0, 1, 2), dtype=np.float32)
    age = 0
    for index in range(len(gray) - 1):
        if age >= CHUNK_FRAMES or len(points) < 2 * MIN_POINTS:
            _add_parallax(found, start, points)
            start = points = _corners(gray[index])
            age = 0
        if not len(points):
            continue
        moved, kept = _flow(gray[index], gray[index + 1], points)
        points, moved, start = points[kept], moved[kept], start[kept]
        age += 1
        if len(points) >= MIN_POINTS:
            _add_pair(found, points, moved, centre, width, times[index : index + 2])
        points = moved
    _add_parallax(found, start, points)
    return found


def _corners(frame: NDArray[np.uint8]) -> Points:
    """The (n, 1, 2) corners worth following in a frame (none in a flat one)."""
    import cv2
    import numpy as np

    found = cv2.goodFeaturesToTrack(frame, MAX_CORNERS, CORNER_QUALITY, CORNER_SPACING)
    if found is None:
        return np.empty((0, 1, 2), dtype=np.float32)
    return np.asarray(found, dtype=np.float32)


def _flow(
    before: NDArray[np.uint8], after: NDArray[np.uint8], points: Points
) -> tuple[Points, NDArray[np.bool_]]:
    """Where ``points`` went in the next frame, and which of them were followed."""
    import cv2
    import numpy as np

    moved, status, _ = cv2.calcOpticalFlowPyrLK(
        before,
        after,
        points,
        np.empty_like(points),
        winSize=FLOW_WINDOW,
        maxLevel=FLOW_LEVELS,
        criteria=FLOW_STOP,
    )
    return np.asarray(moved, dtype=np.float32), np.asarray(status)[:, 0] == 1


def _add_pair(
    found: _Pairs,
    before: Points,
    after: Points,
    centre: NDArray[np.float64],
    width: int,
    times: NDArray[np.float64],
) -> None:
    """Fit one pair's similarity and, when enough points agree on it, record its rates."""
    import cv2

    matrix, inliers = cv2.estimateAffinePartial2D(
        before, after, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PIXELS, maxIters=RANSAC_TRIES
    )
    if matrix is None:
        return
    agree = int(inliers.sum())
    if agree < MIN_POINTS or agree < MIN_INLIER_SHARE * len(before):
        return
    step = max(float(times[1] - times[0]), 1e-6)
    shift = matrix[:, :2] @ centre + matrix[:, 2] - centre
    found.dx.append(float(shift[0]) / width / step)
    found.dy.append(float(shift[1]) / width / step)
    found.zoom.append(math.log(math.hypot(matrix[0, 0], matrix[1, 0])) / step)
    found.roll.append(math.atan2(matrix[1, 0], matrix[0, 0]) / step)
    found.times.append(float(times[0] + times[1]) / 2)
    found.tracked.append(len(before))
    found.inliers.append(agree)


def _add_parallax(found: _Pairs, start: Points, end: Points) -> None:
    """Record how far a chunk's points stray from the homography that best explains them."""
    import cv2
    import numpy as np

    if len(start) < MIN_POINTS:
        return
    shift = np.linalg.norm((end - start)[:, 0], axis=1)
    typical = float(np.median(shift))
    if typical < MIN_PARALLAX_SHIFT:
        return
    matrix, _ = cv2.findHomography(start, end, cv2.RANSAC, RANSAC_PIXELS, maxIters=RANSAC_TRIES)
    if matrix is None:
        return
    residual = np.linalg.norm((cv2.perspectiveTransform(start, matrix) - end)[:, 0], axis=1)
    found.parallax.append(float(np.percentile(residual, PARALLAX_PERCENTILE)) / typical)


def _read(pairs: _Pairs, measure: dict[str, JsonValue]) -> list[Reading]:
    """The three readings from the per-pair motion."""
    import numpy as np

    rates = {
        "pan": float(np.mean(pairs.dx)),
        "tilt": float(np.mean(pairs.dy)),
        "zoom": float(np.mean(pairs.zoom)) / 2,
        "roll": float(np.mean(pairs.roll)) / 2,
    }
    jitter = _jitter(pairs)
    parallax = float(np.median(pairs.parallax)) if pairs.parallax else None
    edge = _edge_speed(rates)
    measure.update(
        {
            "dx_per_s": round(rates["pan"], 5),
            "dy_per_s": round(rates["tilt"], 5),
            "log_scale_per_s": round(2 * rates["zoom"], 5),
            "roll_deg_per_s": round(math.degrees(2 * rates["roll"]), 4),
            "edge_widths_per_s": round(edge, 5),
            "jitter": round(jitter, 5),
            "parallax": None if parallax is None else round(parallax, 4),
        }
    )
    movement = _movement(rates, parallax, measure)
    rig = _rig(jitter, measure)
    moving = movement.value not in (None, "static")
    speed = _speed(edge, measure) if moving else abstain(SPEED, "the camera is static", measure)
    return [movement, rig, speed]


def _jitter(pairs: _Pairs) -> float:
    """Root-mean-square wobble of the per-pair translation around a straight-line trend."""
    import numpy as np

    times = np.asarray(pairs.times)
    spread = 0.0
    for series in (pairs.dx, pairs.dy):
        values = np.asarray(series)
        if len(values) > 2:
            trend = np.polyval(np.polyfit(times, values, 1), times)
        else:
            trend = np.full_like(values, values.mean())
        spread += float(np.mean((values - trend) ** 2))
    return math.sqrt(spread)


def _edge_speed(rates: dict[str, float]) -> float:
    """How fast the steady motion moves the picture at its left or right edge (widths/s)."""
    return max(
        math.hypot(rates["pan"] + side * rates["zoom"], rates["tilt"] + side * rates["roll"])
        for side in (-1.0, 1.0)
    )


def _logistic(value: float, limit: float, softness: float) -> float:
    """Belief (0-1) that a positive ``value`` is past ``limit``, on a log scale."""
    if value <= 0:
        return 0.0
    return 1 / (1 + math.exp(-math.log(value / limit) / softness))


def _movement(
    rates: dict[str, float], parallax: float | None, measure: dict[str, JsonValue]
) -> Reading:
    """Static or the largest steady component; a turn and its look-alike move share support."""
    sizes = {name: abs(rate) for name, rate in rates.items()}
    dominant = max(sizes, key=sizes.__getitem__)
    moving = _logistic(sizes[dominant], STATIC_LIMIT, STATIC_SOFTNESS)
    total = sum(sizes.values())
    support = dict.fromkeys(MOVEMENTS, 0.0)
    support["static"] = 1 - moving
    moved = 0.5 if parallax is None else _logistic(parallax, PARALLAX_LIMIT, PARALLAX_SOFTNESS)
    for name, size in sizes.items():
        if total <= 0:
            break
        turn, move = DIRECTIONS[name][0 if rates[name] >= 0 else 1]
        belief = moving * size / total
        if move is None:
            support[turn] = max(support[turn], belief)
        else:
            support[move] = belief * max(TIE, moved)
            support[turn] = belief * min(TIE, 1 - moved)
    support = {value: round(belief, 4) for value, belief in support.items()}
    value = max(MOVEMENTS, key=support.__getitem__)  # ties go to the simpler value listed first
    return Reading(MOVEMENT, value, support[value], support, measure)


def _rig(jitter: float, measure: dict[str, JsonValue]) -> Reading:
    """Handheld when the motion jitters around its trend, tripod when it is steady."""
    handheld = round(_logistic(jitter, JITTER_LIMIT, JITTER_SOFTNESS), 4)
    support = {"handheld": handheld, "tripod": round(1 - handheld, 4)}
    value = max(support, key=support.__getitem__)
    return Reading(RIG, value, support[value], support, measure)


def _speed(edge: float, measure: dict[str, JsonValue]) -> Reading:
    """Slow, moderate or fast from the picture's speed at the frame edge (widths/s)."""
    past_slow = _logistic(edge, PACE_LIMITS[0], PACE_SOFTNESS)
    fast = _logistic(edge, PACE_LIMITS[1], PACE_SOFTNESS)
    support = {
        "slow": round(1 - past_slow, 4),
        "moderate": round(past_slow * (1 - fast), 4),
        "fast": round(fast, 4),
    }
    value = max(support, key=support.__getitem__)
    return Reading(SPEED, value, support[value], support, measure)

"""The virtual camera: a pinhole camera filming the photograph as a plane in front of it.

Frame by frame the camera turns (pan = yaw, tilt = pitch, roll and Dutch angle = roll about
the lens axis), zooms (focal length) and moves (truck = sideways, dolly = forward). A turn
re-projects the plane through a homography, so pans and tilts show true perspective; a move
shifts or scales the plane, and on a photo with a measured depth map it shifts near things
more than far ones (parallax). A flat photo has no depth, so there a dolly renders exactly
like a zoom. Everything here maps *output* pixels to *photo* pixels (what ``cv2.remap`` and
``cv2.warpPerspective(..., WARP_INVERSE_MAP)`` need).

The framing is planned once per spec: the widest frame of the photo at the output aspect (or
the shot size around the astronaut's head), then the smallest extra magnification (>= 1) that
keeps every frame, shake and Dutch angle included, inside the photo, so no border ever shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from ._synth_photos import DEPTH_RANGE, Photo, photo_info

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from ._synth_spec import ShotSpec

    Array = NDArray[np.float64]

Pace = Literal["slow", "moderate", "fast"]

HFOV_DEGREES = 50.0  # horizontal field of view of the base framing
MAX_MAGNIFICATION = 4.0
# Pace from how fast the picture moves at the frame's edge, in frame widths per second.
PACE_LIMITS = (0.04, 0.12)  # slow below the first, fast from the second
ROLL_SHAKE = 0.5  # handheld roll is this fraction of the yaw/pitch shake
FIXED_POINT_STEPS = 3  # iterations placing each pixel on the depth map (dolly, truck)
HOLE_TOLERANCE = 0.05  # inverse-depth mismatch marking a pixel with no consistent source
_EDGE = 1.0  # photo pixels kept clear of the photo's border (bilinear reads one neighbour)

# Shot sizes as the frame height in head heights (top of the hair to the chin) on the
# astronaut: the size rendered, and the band the size covers once the camera moves.
SHOT_SIZE_HEADS: dict[str, tuple[float, tuple[float, float]]] = {
    "extreme_close_up": (0.42, (0.0, 0.8)),
    "close_up": (1.45, (0.8, 1.6)),
    "medium_close_up": (1.72, (1.6, 2.3)),
    "medium": (2.7, (2.3, 3.1)),
}
_HEADROOM = 0.06  # space above the hair, in head heights


@dataclass(frozen=True)
class Plan:
    """The camera path of one shot, without shake (shake is seeded, added per frame)."""

    width: int
    height: int
    focal: float  # output pixels, before zoom and magnification
    scale: float  # photo pixels per output pixel of the base framing
    centre: tuple[float, float]  # photo pixel the base framing centres on
    magnification: float
    yaw: Array  # radians per frame; positive looks right
    pitch: Array  # positive looks up
    roll: Array  # positive turns the camera clockwise: the picture turns counter-clockwise
    zoom: Array  # focal length multiplier
    tx: Array  # camera position, in units of the subject plane's distance
    ty: Array
    tz: Array  # forward
    depth: bool  # whether moves use the photo's depth map
    edge_rate: float | None  # frame widths per second the picture moves at its edge
    pace: Pace | None
    head_heights: float | None  # frame height in head heights (shot sizes)

    @property
    def frames(self) -> int:
        """Number of frames."""
        return len(self.yaw)

    @property
    def moves(self) -> bool:
        """Whether the camera changes position (truck or dolly)."""
        return bool(self.tx.any() or self.ty.any() or self.tz.any())

    def matrices(self, shake: Array | None = None) -> Array:
        """(frames, 3, 3) homographies from output to photo pixels for a flat photo.

        ``shake`` is (frames, 3) extra yaw, pitch and roll in radians.
        """
        return _matrices(self, self.centre, self.magnification, shake, None)


def pace_of(edge_rate: float) -> Pace:
    """Slow, moderate or fast from the picture's speed at the frame edge (widths per s)."""
    if edge_rate < PACE_LIMITS[0]:
        return "slow"
    return "moderate" if edge_rate < PACE_LIMITS[1] else "fast"


@lru_cache(maxsize=256)
def plan(spec: ShotSpec) -> Plan:
    """Plan the shot; a ``ValueError`` says why a spec cannot be filmed without borders."""
    photo = photo_info(spec.photo)
    width, height = spec.size
    focal = width / (2 * math.tan(math.radians(HFOV_DEGREES) / 2))
    scale, desired, heads = _base_framing(spec, photo)
    path = _path(spec, focal)
    draft = Plan(
        width=width,
        height=height,
        focal=focal,
        scale=scale,
        centre=(0.0, 0.0),
        magnification=1.0,
        **path,
        depth=photo.depth and spec.movement.startswith(("truck", "dolly")),
        edge_rate=None,
        pace=None,
        head_heights=heads,
    )
    _check_dolly(spec, draft)
    magnification = _fit_magnification(spec, photo, draft)
    box = _footprint(spec, draft, magnification)
    centre = (
        _clamp(desired[0], _EDGE - box[0], photo.width - 1 - _EDGE - box[1]),
        _clamp(desired[1], _EDGE - box[2], photo.height - 1 - _EDGE - box[3]),
    )
    edge_rate = _edge_rate(spec, focal, magnification)
    if heads is not None:
        heads /= magnification
        _check_shot_size(spec, heads, magnification)
    result = Plan(
        **{
            **draft.__dict__,
            "centre": centre,
            "magnification": magnification,
            "edge_rate": edge_rate,
            "pace": None if edge_rate is None else pace_of(edge_rate),
            "head_heights": heads,
        }
    )
    for array in (result.yaw, result.pitch, result.roll, result.zoom):
        array.setflags(write=False)
    for array in (result.tx, result.ty, result.tz):
        array.setflags(write=False)
    return result


def source_map(
    plan: Plan,
    index: int,
    shake: Array | None,
    inverse_depth: NDArray[np.float32],
    step: int,
    to_source: Array,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Source coordinates of every output pixel of one frame, with parallax from the depth.

    Solves u = centre + pixels * (t * w(u) + (1 - tz * w(u)) * ray) by fixed-point iteration,
    w being the inverse depth at u, on a grid every ``step`` pixels (which must divide the
    frame size), then interpolated. Where it finds no consistent point (background uncovered
    by a nearer object's move), it takes the farthest point it visited, so the background
    shows there rather than a ghost of the object. ``to_source`` (an axis-aligned scale and
    shift) takes photo pixels to the pixels of the depth map and of the image to be sampled.
    """
    import cv2
    import numpy as np

    rotation = _rotation_to_plane(plan, plan.magnification, shake, index)
    if plan.width % step or plan.height % step:
        raise ValueError(f"map step {step} must divide the frame size")
    # coarse samples sit where cv2.resize expects them: at the centre of each step x step block
    offset = (step - 1) / 2
    xs = np.arange(0, plan.width, step, dtype=np.float64)[None, :] + offset
    ys = np.arange(0, plan.height, step, dtype=np.float64)[:, None] + offset
    den = rotation[2, 0] * xs + rotation[2, 1] * ys + rotation[2, 2]
    ray_x = (rotation[0, 0] * xs + rotation[0, 1] * ys + rotation[0, 2]) / den
    ray_y = (rotation[1, 0] * xs + rotation[1, 1] * ys + rotation[1, 2]) / den
    gain, shift = to_source[0, 0], to_source[0, 2]
    pixels = gain * plan.focal * plan.scale
    centre_u = gain * plan.centre[0] + shift
    centre_v = gain * plan.centre[1] + shift
    tx, ty, tz = plan.tx[index], plan.ty[index], plan.tz[index]
    ray_x, ray_y = ray_x.astype(np.float32), ray_y.astype(np.float32)

    def locate(w: NDArray[np.float32] | float) -> tuple[NDArray[np.float32], ...]:
        u = centre_u + pixels * (tx * w + (1 - tz * w) * ray_x)
        v = centre_v + pixels * (ty * w + (1 - tz * w) * ray_y)
        return u.astype(np.float32), v.astype(np.float32)

    def sample(depth: NDArray[np.float32]) -> NDArray[np.float32]:
        seen = cv2.remap(depth, u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return np.asarray(seen, dtype=np.float32)

    w: NDArray[np.float32] | float = 1.0
    far_w = np.full(ray_x.shape, np.inf, dtype=np.float32)
    far_u, far_v = far_w.copy(), far_w.copy()
    for _ in range(FIXED_POINT_STEPS):
        u, v = locate(w)
        seen = sample(inverse_depth)
        farther = seen < far_w
        far_u = np.where(farther, u, far_u).astype(np.float32)
        far_v = np.where(farther, v, far_v).astype(np.float32)
        far_w = np.minimum(far_w, seen)
        holes = np.abs(seen - w) > HOLE_TOLERANCE
        w = seen
    u = np.where(holes, far_u, u).astype(np.float32)
    v = np.where(holes, far_v, v).astype(np.float32)
    if step > 1:
        size = (plan.width, plan.height)
        u = np.asarray(cv2.resize(u, size, interpolation=cv2.INTER_LINEAR), dtype=np.float32)
        v = np.asarray(cv2.resize(v, size, interpolation=cv2.INTER_LINEAR), dtype=np.float32)
    return u, v


# -- planning -------------------------------------------------------------------------------


def _base_framing(spec: ShotSpec, photo: Photo) -> tuple[float, tuple[float, float], float | None]:
    """Photo pixels per output pixel, the desired centre, and the head heights framed."""
    width, height = spec.size
    aspect = width / height
    room_w, room_h = photo.width - 2 * _EDGE - 1, photo.height - 2 * _EDGE - 1
    if spec.shot_size is None:
        frame_w = min(room_w, room_h * aspect)
        centre = (photo.focus[0] * photo.width, photo.focus[1] * photo.height)
        return frame_w / (width - 1), centre, None
    head = photo.head
    assert head is not None  # checked by ShotSpec
    heads = SHOT_SIZE_HEADS[spec.shot_size][0]
    frame_h = heads * head.height
    frame_w = frame_h * aspect
    if frame_w > room_w or frame_h > room_h:
        raise ValueError(
            f"shot_size {spec.shot_size!r} needs a {frame_w:.0f}x{frame_h:.0f} px frame of the "
            f"{photo.width}x{photo.height} {photo.name} photo at the {width}x{height} aspect, "
            "more than the photo holds; use a squarer size (e.g. 480x480) or a tighter size"
        )
    if spec.shot_size == "extreme_close_up":
        centre_y = head.eyes
    else:
        centre_y = head.top - _HEADROOM * head.height + frame_h / 2
    return frame_w / (width - 1), (head.centre_x, centre_y), heads


def _path(spec: ShotSpec, focal: float) -> dict[str, Array]:
    """Per-frame yaw, pitch, roll, zoom and position of the camera (no shake)."""
    import numpy as np

    frames = spec.frames
    t = np.arange(frames, dtype=np.float64) / spec.fps
    duration = (frames - 1) / spec.fps
    centred = t - duration / 2
    zeros = np.zeros(frames)
    path = {
        "yaw": zeros.copy(),
        "pitch": zeros.copy(),
        "roll": np.full(frames, math.radians(spec.dutch)),
        "zoom": np.ones(frames),
        "tx": zeros.copy(),
        "ty": zeros.copy(),
        "tz": zeros.copy(),
    }
    speed = spec.resolved_speed
    movement = spec.movement
    if speed is None:
        return path
    sign = -1.0 if movement.endswith(("_left", "_down")) else 1.0
    if movement.startswith("pan"):
        path["yaw"] = sign * math.radians(speed) * centred
    elif movement.startswith("tilt"):
        path["pitch"] = sign * math.radians(speed) * centred
    elif movement == "roll":
        path["roll"] = math.radians(speed) * centred
    elif movement.startswith("truck"):
        path["tx"] = sign * speed / focal * centred
    else:
        elapsed = t if movement.endswith("_in") else duration - t
        if movement.startswith("zoom"):
            path["zoom"] = np.exp(speed * elapsed)
        else:
            path["tz"] = 1 - np.exp(-speed * elapsed)
    return path


def _check_dolly(spec: ShotSpec, draft: Plan) -> None:
    nearest = DEPTH_RANGE[1] if draft.depth else 1.0
    forward = float(draft.tz.max()) * nearest
    if forward > 0.8:
        raise ValueError(
            f"dolly of {spec.resolved_speed:g}/s over {spec.seconds:g} s takes the camera "
            f"{forward:.0%} of the way to the nearest surface of {spec.photo!r} (at most 80%); "
            "lower the speed or the duration"
        )


def _fit_magnification(spec: ShotSpec, photo: Photo, draft: Plan) -> float:
    """The smallest magnification >= 1 whose frames all stay inside the photo."""
    room_w = photo.width - 1 - 2 * _EDGE
    room_h = photo.height - 1 - 2 * _EDGE

    def fits(magnification: float) -> bool:
        x0, x1, y0, y1 = _footprint(spec, draft, magnification)
        return x1 - x0 <= room_w and y1 - y0 <= room_h

    if fits(1.0):
        return 1.0
    if not fits(MAX_MAGNIFICATION):
        raise ValueError(
            f"{_describe(spec)} leaves the {photo.width}x{photo.height} {photo.name} photo even at "
            f"{MAX_MAGNIFICATION:g}x magnification; lower the speed or the duration"
        )
    low, high = 1.0, MAX_MAGNIFICATION
    while high - low > 1e-4:
        middle = (low + high) / 2
        low, high = (low, middle) if fits(middle) else (middle, high)
    return high


def _describe(spec: ShotSpec) -> str:
    from ._synth_spec import SPEED_UNITS

    speed = spec.resolved_speed
    text = spec.movement if speed is None else f"{spec.movement} at {speed:g} "
    text += SPEED_UNITS.get(spec.movement, "")
    return f"{text} over {spec.seconds:g} s (shake {spec.handheld:g}, dutch {spec.dutch:g} degrees)"


def _footprint(spec: ShotSpec, draft: Plan, magnification: float) -> tuple[float, ...]:
    """Bounding box (x0, x1, y0, y1) of every frame's corners, relative to the centre.

    Shake is taken at its extremes and depth at its nearest and farthest (the corners move
    linearly with inverse depth), so the box bounds every seed and every pixel.
    """
    import itertools

    import numpy as np

    amplitude = math.radians(spec.handheld)
    shakes = [
        np.array([[yaw, pitch, roll]])
        for yaw, pitch, roll in itertools.product(
            *[(-a, a) if a else (0.0,) for a in (amplitude, amplitude, amplitude * ROLL_SHAKE)]
        )
    ]
    depths: tuple[float | None, ...] = DEPTH_RANGE if draft.depth else (None,)
    corners = np.array(
        [
            [0, 0, 1],
            [draft.width - 1, 0, 1],
            [0, draft.height - 1, 1],
            [draft.width - 1, draft.height - 1, 1],
        ],
        dtype=np.float64,
    ).T
    boxes = []
    for shake, depth in itertools.product(shakes, depths):
        matrices = _matrices(draft, (0.0, 0.0), magnification, shake, depth)
        points = apply(matrices, corners)
        if (points[:, 2] <= 1e-6).any():
            raise ValueError(f"{spec.movement} turns the camera away from the photo")
        xy = points[:, :2] / points[:, 2:]
        boxes.append((xy[:, 0].min(), xy[:, 0].max(), xy[:, 1].min(), xy[:, 1].max()))
    array = np.array(boxes)
    return (
        float(array[:, 0].min()),
        float(array[:, 1].max()),
        float(array[:, 2].min()),
        float(array[:, 3].max()),
    )


def _edge_rate(spec: ShotSpec, focal: float, magnification: float) -> float | None:
    speed = spec.resolved_speed
    if speed is None:
        return None
    width = spec.size[0]
    movement = spec.movement
    if movement.startswith(("pan", "tilt")):
        return math.radians(speed) * focal * magnification / width
    if movement.startswith("truck"):
        return speed * magnification / width
    if movement == "roll":
        return math.radians(speed) / 2
    return speed / 2


def _check_shot_size(spec: ShotSpec, heads: float, magnification: float) -> None:
    assert spec.shot_size is not None
    low, high = SHOT_SIZE_HEADS[spec.shot_size][1]
    if not low <= heads < high:
        raise ValueError(
            f"to stay inside the photo the camera needs {magnification:.2f}x magnification, "
            f"which turns the {spec.shot_size} ({low:g}-{high:g} head heights tall) into "
            f"{heads:.2f}; lower the speed, shake or Dutch angle, or pick a tighter shot size"
        )


def _clamp(value: float, low: float, high: float) -> float:
    if low > high:  # the footprint fills the photo exactly: centre it
        return (low + high) / 2
    return min(max(value, low), high)


# -- geometry -------------------------------------------------------------------------------


def compose(a: Array, b: Array) -> Array:
    """The matrix product of (..., 3, 3) stacks, as explicit sums.

    The same inputs give the same bits on every run: BLAS may round differently with memory
    alignment, and the warps quantise coordinates to 1/32 pixel, so a last-bit change can
    move a pixel.
    """
    result: Array = (
        a[..., :, 0, None] * b[..., None, 0, :]
        + a[..., :, 1, None] * b[..., None, 1, :]
        + a[..., :, 2, None] * b[..., None, 2, :]
    )
    return result


def apply(matrices: Array, points: Array) -> Array:
    """(..., 3, 3) matrices times (3, p) homogeneous points, as explicit sums (see compose)."""
    result: Array = (
        matrices[..., :, 0, None] * points[0]
        + matrices[..., :, 1, None] * points[1]
        + matrices[..., :, 2, None] * points[2]
    )
    return result


def _rotations(yaw: Array, pitch: Array, roll: Array) -> Array:
    """(n, 3, 3) camera-to-world rotations: yaw about y (down), pitch about x, roll about z."""
    import numpy as np

    cy, sy = np.cos(yaw), np.sin(yaw)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cr, sr = np.cos(roll), np.sin(roll)
    one, zero = np.ones_like(yaw), np.zeros_like(yaw)
    r_yaw = np.stack([cy, zero, sy, zero, one, zero, -sy, zero, cy], -1).reshape(-1, 3, 3)
    r_pitch = np.stack([one, zero, zero, zero, cp, -sp, zero, sp, cp], -1).reshape(-1, 3, 3)
    r_roll = np.stack([cr, -sr, zero, sr, cr, zero, zero, zero, one], -1).reshape(-1, 3, 3)
    return compose(compose(r_yaw, r_pitch), r_roll)


def _angles(plan: Plan, shake: Array | None) -> tuple[Array, Array, Array]:
    yaw, pitch, roll = plan.yaw, plan.pitch, plan.roll
    if shake is not None:
        yaw, pitch, roll = yaw + shake[:, 0], pitch + shake[:, 1], roll + shake[:, 2]
    return yaw, pitch, roll


def _intrinsics_inverse(plan: Plan, magnification: float) -> Array:
    """(n, 3, 3) inverse camera matrices: output pixel -> ray with z = 1."""
    import numpy as np

    focal = plan.focal * plan.zoom * magnification
    cx, cy = (plan.width - 1) / 2, (plan.height - 1) / 2
    inverse = np.zeros((len(focal), 3, 3))
    inverse[:, 0, 0] = inverse[:, 1, 1] = 1 / focal
    inverse[:, 0, 2] = -cx / focal
    inverse[:, 1, 2] = -cy / focal
    inverse[:, 2, 2] = 1
    return inverse


def _rotation_to_plane(plan: Plan, magnification: float, shake: Array | None, index: int) -> Array:
    """Output pixel -> point where the turned camera's ray meets the plane z = 1."""
    yaw, pitch, roll = _angles(plan, shake)
    pick = slice(index, index + 1)
    rotation = _rotations(yaw[pick], pitch[pick], roll[pick])
    result: Array = compose(rotation, _intrinsics_inverse(plan, magnification)[pick])[0]
    return result


def _matrices(
    plan: Plan,
    centre: tuple[float, float],
    magnification: float,
    shake: Array | None,
    inverse_depth: float | None,
) -> Array:
    """(n, 3, 3) output -> photo homographies for the plane at inverse depth 1 (or the given)."""
    import numpy as np

    yaw, pitch, roll = _angles(plan, shake)  # a (1, 3) shake applies to every frame
    frames = len(yaw)
    turn = compose(_rotations(yaw, pitch, roll), _intrinsics_inverse(plan, magnification))
    w = 1.0 if inverse_depth is None else inverse_depth
    move = np.zeros((frames, 3, 3))
    move[:, 0, 0] = move[:, 1, 1] = 1 - plan.tz * w
    move[:, 0, 2] = plan.tx * w
    move[:, 1, 2] = plan.ty * w
    move[:, 2, 2] = 1
    pixels = plan.focal * plan.scale
    to_photo = np.array([[pixels, 0, centre[0]], [0, pixels, centre[1]], [0, 0, 1]])
    return compose(compose(to_photo, move), turn)

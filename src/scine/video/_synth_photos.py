"""The photographs synthetic shots are filmed on: scikit-image's bundled images, with facts.

Each photo carries what we know about it for sure: its size, a point the framing centres on,
the camera angle it was taken from (only where it is evident), whether it shows a horizon or
lines known to be level or plumb (a Dutch angle is a roll against them: on grass, gravel, a
cat's face or a cup seen from above, a rolled camera shows nothing a viewer could call
tilted), the astronaut's head (for shot sizes) and, for the motorcycle, a measured depth map
(its stereo disparity) so a dolly or truck shows real parallax. Every photo is read offline
from the scikit-image wheel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

PhotoName = Literal[
    "astronaut",
    "camera",
    "chelsea",
    "coffee",
    "rocket",
    "motorcycle_left",
    "brick",
    "grass",
    "gravel",
]

# Inverse depth of the motorcycle, relative to the bike itself (1.0): the garage wall behind
# is about 0.15-0.4, the floor in front up to 1.25. Clipped to this range, so bounds are exact.
DEPTH_RANGE = (0.15, 1.25)
_BIKE_DISPARITY = 48.0  # median stereo disparity (pixels) over the motorcycle


@dataclass(frozen=True)
class Head:
    """Where the astronaut's head is, in photo pixels (measured on the 512x512 photo)."""

    top: float  # top of the hair
    eyes: float  # the line of the eyes
    chin: float
    centre_x: float

    @property
    def height(self) -> float:
        """Top of the head to the chin."""
        return self.chin - self.top


@dataclass(frozen=True)
class Photo:
    """One photograph and the facts we know about it."""

    name: PhotoName
    width: int
    height: int
    focus: tuple[float, float]  # the point the whole-photo framing centres on (0-1, 0-1)
    angle: Literal["eye_level", "high"] | None  # the camera angle, where evident
    horizon: bool = False  # a horizon, level or plumb lines show: a Dutch angle can be seen
    head: Head | None = None
    depth: bool = False  # a measured depth map exists (dolly/truck show parallax)


PHOTOS: dict[str, Photo] = {
    photo.name: photo
    for photo in (
        Photo(
            "astronaut",
            512,
            512,
            (0.45, 0.0),
            "eye_level",
            horizon=True,  # the shuttle model and the flagpole stand upright
            head=Head(top=15, eyes=102, chin=180, centre_x=224),
        ),
        Photo("camera", 512, 512, (0.4, 0.3), "eye_level", horizon=True),
        Photo("chelsea", 451, 300, (0.55, 0.4), "eye_level"),
        Photo("coffee", 600, 400, (0.4, 0.4), "high"),
        Photo("rocket", 640, 427, (0.55, 0.5), None, horizon=True),
        Photo("motorcycle_left", 741, 500, (0.5, 0.55), None, horizon=True, depth=True),
        Photo("brick", 512, 512, (0.5, 0.5), None, horizon=True),  # courses of a wall
        Photo("grass", 512, 512, (0.5, 0.5), None),
        Photo("gravel", 512, 512, (0.5, 0.5), None),
    )
}

HORIZON_PHOTOS: tuple[str, ...] = tuple(sorted(name for name, p in PHOTOS.items() if p.horizon))
"""The photos a Dutch angle can be filmed on, by name."""


def photo_info(name: str) -> Photo:
    """The facts of one photo; a clear error for an unknown name."""
    try:
        return PHOTOS[name]
    except KeyError:
        raise ValueError(f"unknown photo {name!r}; expected one of: {', '.join(PHOTOS)}") from None


@cache
def load_photo(name: str) -> NDArray[np.uint8]:
    """The photo as a read-only RGB uint8 array (grey photos are repeated on three channels)."""
    import numpy as np
    from skimage import data

    info = photo_info(name)
    image = _stereo_pair()[0] if name == "motorcycle_left" else getattr(data, name)()
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    image = np.ascontiguousarray(image[:, :, :3], dtype=np.uint8)
    if image.shape[:2] != (info.height, info.width):
        raise RuntimeError(
            f"scikit-image photo {name!r} is {image.shape[1]}x{image.shape[0]}, "
            f"expected {info.width}x{info.height}"
        )
    image.setflags(write=False)
    return image


@cache
def load_inverse_depth(name: str) -> NDArray[np.float32]:
    """Inverse depth (1.0 = the main subject's plane) of a photo with a measured depth map."""
    import cv2
    import numpy as np

    if not photo_info(name).depth:
        raise ValueError(f"photo {name!r} has no depth map")
    disparity = np.asarray(_stereo_pair()[2], dtype=np.float32)
    smooth = cv2.medianBlur(_fill_occlusions(disparity), 5)
    inverse = np.asarray(np.clip(smooth / _BIKE_DISPARITY, *DEPTH_RANGE), dtype=np.float32)
    inverse.setflags(write=False)
    return inverse


def _stereo_pair() -> tuple[Any, Any, Any]:
    """scikit-image's motorcycle stereo pair: left view, right view, disparity of the left."""
    from skimage import data

    loader: Callable[[], tuple[Any, Any, Any]] = data.stereo_motorcycle
    return loader()


def _fill_occlusions(disparity: NDArray[np.float32]) -> NDArray[np.float32]:
    """Fill unmatched pixels (inf) with the farther of the nearest valid values on their row.

    Stereo matching fails where the left view sees what the right one cannot: beside an
    object's edge, on the background, hence the farther (smaller disparity) neighbour.
    """
    import numpy as np

    valid = np.isfinite(disparity)
    if valid.all():
        return disparity
    rows, cols = disparity.shape
    index = np.where(valid, np.arange(cols)[None, :], -1)
    left = np.maximum.accumulate(index, axis=1)
    right_index = np.where(valid, np.arange(cols)[None, :], cols)
    right = np.minimum.accumulate(right_index[:, ::-1], axis=1)[:, ::-1]
    row_ids = np.arange(rows)[:, None]
    big = np.float32(np.inf)
    from_left = np.where(left >= 0, disparity[row_ids, np.clip(left, 0, cols - 1)], big)
    from_right = np.where(right < cols, disparity[row_ids, np.clip(right, 0, cols - 1)], big)
    nearest = np.minimum(from_left, from_right)
    fallback = float(np.median(disparity[valid]))
    nearest = np.where(np.isfinite(nearest), nearest, fallback)
    return np.where(valid, disparity, nearest).astype(np.float32)

"""The moving subject of a synthetic shot: a shaded ball crossing the frame.

The ball lives on the photo (so camera shake, perspective and lighting apply to it as to the
rest of the picture), on a path planned in screen space against the smooth camera: it enters
beyond one edge and leaves beyond the other at constant screen speed, whatever the camera
does, so its screen direction is exactly the one asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from ._synth_camera import Plan
    from ._synth_spec import Direction

BALL_RADIUS = 0.09  # of the frame height, at the base framing
BALL_HEIGHT = 0.62  # screen height of the path, as a fraction of the frame height
BALL_COLOURS = ((214, 48, 39), (33, 113, 204), (242, 190, 34), (46, 160, 88))
_LIGHT = (-0.45, -0.55, 0.70)  # direction towards the light (x right, y down, z to camera)


@dataclass(frozen=True)
class Track:
    """Photo-pixel centre of the ball in each frame, its radius and colour."""

    u: NDArray[np.float64]
    v: NDArray[np.float64]
    radius: float
    colour: tuple[int, int, int]


def plan_track(plan: Plan, direction: Direction, rng: np.random.Generator) -> Track:
    """The ball's path across the screen, mapped onto the photo with the smooth camera."""
    import numpy as np

    radius = BALL_RADIUS * plan.height * plan.scale / plan.magnification
    # screen radius grows with zoom and dolly; enter and leave beyond the largest
    screen = radius * plan.zoom * plan.magnification / (plan.scale * (1 - plan.tz))
    margin = 1.2 * float(screen.max())
    start, end = -margin, plan.width - 1 + margin
    if direction == "right_to_left":
        start, end = end, start
    xs = np.linspace(start, end, plan.frames)
    ys = np.full(plan.frames, BALL_HEIGHT * (plan.height - 1))
    matrices = plan.matrices()
    points = [
        matrices[:, row, 0] * xs + matrices[:, row, 1] * ys + matrices[:, row, 2]
        for row in range(3)
    ]
    u, v = points[0] / points[2], points[1] / points[2]
    colour = BALL_COLOURS[int(rng.integers(len(BALL_COLOURS)))]
    return Track(u, v, radius, colour)


def paint_ball(
    image: NDArray[np.uint8],
    u: float,
    v: float,
    radius: float,
    colour: tuple[int, int, int],
    look: Callable[[NDArray[np.uint8]], NDArray[np.uint8]],
    inverse_depth: NDArray[np.float32] | None = None,
) -> None:
    """Paint a shaded, anti-aliased ball centred at (u, v) into ``image`` in place.

    The ball's colours go through the shot's grade ``look``; where ``inverse_depth`` is given,
    the ball is put on the subject plane (inverse depth 1) there too.
    """
    import numpy as np

    height, width = image.shape[:2]
    x0, x1 = max(int(u - radius) - 2, 0), min(int(u + radius) + 3, width)
    y0, y1 = max(int(v - radius) - 2, 0), min(int(v + radius) + 3, height)
    if x0 >= x1 or y0 >= y1:
        return
    dx = np.arange(x0, x1)[None, :] - u
    dy = np.arange(y0, y1)[:, None] - v
    distance = np.sqrt(dx * dx + dy * dy)
    alpha = np.clip(radius - distance + 0.5, 0.0, 1.0)[:, :, None]
    nx, ny = dx / radius, dy / radius
    nz = np.sqrt(np.clip(1 - nx * nx - ny * ny, 0.0, 1.0))
    light = np.asarray(_LIGHT) / np.linalg.norm(_LIGHT)
    diffuse = np.clip(nx * light[0] + ny * light[1] + nz * light[2], 0.0, 1.0)
    half = light + np.array([0.0, 0.0, 1.0])
    half /= np.linalg.norm(half)
    specular = np.clip(nx * half[0] + ny * half[1] + nz * half[2], 0.0, 1.0) ** 40
    shade = (0.22 + 0.78 * diffuse)[:, :, None] * np.asarray(colour, dtype=np.float64)
    ball = np.clip(shade + 200 * specular[:, :, None], 0, 255).astype(np.uint8)
    ball = look(ball)
    region = image[y0:y1, x0:x1].astype(np.float64)
    image[y0:y1, x0:x1] = np.round(region * (1 - alpha) + ball * alpha).astype(np.uint8)
    if inverse_depth is not None:
        inverse_depth[y0:y1, x0:x1][alpha[:, :, 0] > 0.5] = 1.0

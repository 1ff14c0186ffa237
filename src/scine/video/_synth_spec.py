"""``ShotSpec``: everything a synthetic shot is, as data, checked when it is built."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ._synth_photos import HORIZON_PHOTOS, PhotoName, photo_info

Movement = Literal[
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
]
ShotSize = Literal["extreme_close_up", "close_up", "medium_close_up", "medium"]
Level = Literal["low", "medium", "high"]
LightMotion = Literal["flicker", "pulse", "fade_up", "fade_down", "switch"]
Direction = Literal["left_to_right", "right_to_left"]

MOVEMENTS: tuple[Movement, ...] = get_args(Movement)
SHOT_SIZES: tuple[ShotSize, ...] = get_args(ShotSize)
LEVELS: tuple[Level, ...] = get_args(Level)
LIGHT_MOTIONS: tuple[LightMotion, ...] = get_args(LightMotion)
DIRECTIONS: tuple[Direction, ...] = get_args(Direction)

# What `speed` means for each movement, and its default (a moderate pace).
SPEED_UNITS: dict[str, str] = {
    "pan_left": "degrees per second",
    "pan_right": "degrees per second",
    "tilt_up": "degrees per second",
    "tilt_down": "degrees per second",
    "roll": "degrees per second",
    "truck_left": "output pixels per second (at the photo's plane)",
    "truck_right": "output pixels per second (at the photo's plane)",
    "zoom_in": "scale rate per second (log; 0.15 = x2.1 over 5 s)",
    "zoom_out": "scale rate per second (log; 0.15 = x2.1 over 5 s)",
    "dolly_in": "scale rate per second of the subject plane (log)",
    "dolly_out": "scale rate per second of the subject plane (log)",
}
DUTCH_RANGE = (5.0, 30.0)  # |dutch| in degrees, or exactly 0 (level)
FLICKER_HZ = 4.0  # default frequencies of light_motion flicker and pulse
PULSE_HZ = 1.0


def default_speed(movement: Movement, width: int) -> float | None:
    """The default speed of a movement (a moderate pace), in the units of ``SPEED_UNITS``."""
    if movement == "static":
        return None
    if movement.startswith(("pan", "tilt")):
        return 2.5
    if movement == "roll":
        return 8.0
    if movement.startswith("truck"):
        return round(0.05 * width, 1)
    return 0.15


class ShotSpec(BaseModel):
    """A synthetic shot: a photograph filmed by a virtual camera, with known controls.

    ``handheld`` is the peak shake in degrees (0 = none); ``dutch`` the static roll of the
    camera in degrees (positive: the picture turns counter-clockwise, the horizon rising to
    the right), 0 or 5-30 in size; ``speed`` is in the units of ``SPEED_UNITS[movement]``
    (None: a moderate default); ``light_hz`` sets the flicker (default 4 Hz) or pulse (1 Hz)
    frequency. ``key``, ``contrast`` and ``temperature`` left at None keep the photo's own look.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    photo: PhotoName = "astronaut"
    size: tuple[int, int] = (854, 480)
    fps: Annotated[float, Field(gt=0, le=120)] = 24.0
    seconds: Annotated[float, Field(gt=0, le=60)] = 5.0
    movement: Movement = "static"
    speed: Annotated[float, Field(gt=0)] | None = None
    handheld: Annotated[float, Field(ge=0, le=3)] = 0.0
    dutch: Annotated[float, Field(ge=-DUTCH_RANGE[1], le=DUTCH_RANGE[1])] = 0.0
    shot_size: ShotSize | None = None
    key: Level | None = None
    contrast: Level | None = None
    temperature: Level | None = None
    light_motion: LightMotion | None = None
    light_hz: Annotated[float, Field(gt=0)] | None = None
    subject: Direction | None = None

    @field_validator("size")
    @classmethod
    def _even_size(cls, size: tuple[int, int]) -> tuple[int, int]:
        width, height = size
        if not (64 <= width <= 4096 and 64 <= height <= 4096):
            raise ValueError(f"size {width}x{height}: each side must be 64-4096 pixels")
        if width % 2 or height % 2:
            raise ValueError(f"size {width}x{height}: both sides must be even (4:2:0 video)")
        return size

    @field_validator("dutch")
    @classmethod
    def _dutch_or_level(cls, dutch: float) -> float:
        if dutch != 0 and abs(dutch) < DUTCH_RANGE[0]:
            raise ValueError(
                f"dutch {dutch} degrees is neither level (0) nor a visible Dutch angle "
                f"({DUTCH_RANGE[0]:g}-{DUTCH_RANGE[1]:g} degrees either way)"
            )
        return dutch

    @property
    def frames(self) -> int:
        """Number of frames: seconds x fps, rounded."""
        return round(self.seconds * self.fps)

    @property
    def resolved_speed(self) -> float | None:
        """The speed used: the given one or the movement's default; None for a static shot."""
        if self.movement == "static":
            return None
        return self.speed if self.speed is not None else default_speed(self.movement, self.size[0])

    @property
    def resolved_light_hz(self) -> float | None:
        """The flicker or pulse frequency used; None for other light motions."""
        if self.light_motion == "flicker":
            return self.light_hz or FLICKER_HZ
        if self.light_motion == "pulse":
            return self.light_hz or PULSE_HZ
        return None

    @model_validator(mode="after")
    def _consistent(self) -> ShotSpec:
        if self.frames < 2:
            raise ValueError(f"{self.seconds} s at {self.fps} fps is fewer than 2 frames")
        if self.speed is not None and self.movement == "static":
            raise ValueError("speed is set but the movement is static; leave speed at None")
        if self.light_hz is not None and self.light_motion not in ("flicker", "pulse"):
            raise ValueError("light_hz is only for light_motion 'flicker' or 'pulse'")
        hz = self.resolved_light_hz
        if hz is not None and hz >= self.fps / 2:
            raise ValueError(
                f"light_hz {hz:g} must be below half the frame rate ({self.fps / 2:g} Hz) "
                "to be visible in the frames"
            )
        if self.dutch and self.movement == "roll":
            raise ValueError("dutch and movement 'roll' both roll the camera; use one of them")
        if self.dutch and self.photo not in HORIZON_PHOTOS:
            raise ValueError(
                "dutch needs a photo with a horizon or level lines to tilt "
                f"({', '.join(HORIZON_PHOTOS)}), "
                f"not {self.photo!r}: rolled, it shows no Dutch angle"
            )
        if self.shot_size is not None:
            if photo_info(self.photo).head is None:
                raise ValueError(
                    f"shot_size needs a photo with a known face (astronaut), not {self.photo!r}"
                )
            if self.movement.startswith(("zoom", "dolly")):
                raise ValueError(
                    f"shot_size {self.shot_size!r} with movement {self.movement!r}: the shot "
                    "size changes during the shot; set shot_size to None or another movement"
                )
        from ._synth_camera import plan

        plan(self)  # raises ValueError when the camera cannot stay inside the photo
        return self

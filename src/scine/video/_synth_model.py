"""The synthetic renderer as a text-to-video "model" of chosen fidelity, for offline demos.

Given a prompt, the model reads the controls recorded with it (``Prompt.controls``), keeps the
ones it can show, and honours each with probability ``fidelity``; otherwise it renders a
different value of the same control, or none where "none" is possible. What the video really
shows is then read off the rendered spec, so the provenance is ground truth.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from scine.records import Control, Prompt, Video

from ._synth_camera import Pace
from ._synth_names import (
    ANGLE,
    CONTRAST,
    KEY,
    LIGHT_MOTION,
    MOVEMENT,
    RIG,
    SCREEN_DIRECTION,
    SHOT_SIZE,
    SPEED,
    TEMPERATURE,
)
from ._synth_photos import HORIZON_PHOTOS, PHOTOS
from ._synth_spec import DIRECTIONS, LEVELS, LIGHT_MOTIONS, MOVEMENTS, SHOT_SIZES, ShotSpec

if TYPE_CHECKING:
    from collections.abc import Sequence

SYNTHETIC_MODELS: dict[str, float] = {"synth-good": 0.95, "synth-fair": 0.7, "synth-poor": 0.35}
_PACES: tuple[Pace, ...] = get_args(Pace)
# Controls whose failure may also be "not shown at all" (the others always show some value).
_CAN_BE_ABSENT = frozenset(
    {ANGLE, SHOT_SIZE, KEY, CONTRAST, TEMPERATURE, LIGHT_MOTION, SCREEN_DIRECTION}
)
_LEVEL_FIELDS = ((KEY, "key"), (CONTRAST, "contrast"), (TEMPERATURE, "temperature"))


@dataclass(frozen=True)
class PromptShot:
    """What a model makes of a prompt: the spec, and the controls asked, shown and skipped."""

    spec: ShotSpec
    asked: tuple[Control, ...]  # the prompt's controls the renderer can show
    unsupported: tuple[Control, ...]  # the prompt's other controls (or repeats of a leaf)
    shown: tuple[Control, ...]  # the controls the rendered video carries

    @property
    def honoured(self) -> tuple[Control, ...]:
        """The asked controls the video shows."""
        return tuple(control for control in self.asked if control in self.shown)


@dataclass(frozen=True)
class SyntheticModel:
    """A stand-in text-to-video model: honours each showable control with ``fidelity``."""

    name: str
    fidelity: float
    seed: int = 0
    size: tuple[int, int] = (854, 480)
    fps: float = 24.0
    seconds: float = 5.0
    codec: str = "libx264"
    crf: int = 18
    options: dict[str, Any] = field(default_factory=dict)  # more `render` keywords (preset)

    def __post_init__(self) -> None:
        if not 0.0 <= self.fidelity <= 1.0:
            raise ValueError(f"model {self.name!r}: fidelity {self.fidelity} is not within 0-1")
        if not self.name or self.name.strip() != self.name or "/" in self.name:
            raise ValueError(
                f"model name {self.name!r}: must be non-empty, without surrounding spaces "
                "or '/' (video ids are model/prompt)"
            )

    def shoot(self, prompt: Prompt) -> PromptShot:
        """Decide the shot for a prompt (no rendering): seeded by model seed, name and prompt."""
        rng = random.Random(f"scine-synth-model:{self.seed}:{self.name}:{prompt.id}")
        showable = _showable(self.size, self.fps, self.seconds)
        asked: list[Control] = []
        unsupported: list[Control] = []
        for control in prompt.controls:
            fits = control.value in showable.get(control.node, ())
            if fits and all(control.node != seen.node for seen in asked):
                asked.append(control)
            else:
                unsupported.append(control)
        targets: dict[str, str | None] = {}
        avoid: dict[str, str] = {}
        for control in asked:
            assert control.value is not None
            if rng.random() < self.fidelity:
                targets[control.node] = control.value
                continue
            others: list[str | None] = [v for v in showable[control.node] if v != control.value]
            if control.node in _CAN_BE_ABSENT:
                others.append(None)
            targets[control.node] = rng.choice(others)
            avoid[control.node] = control.value
        spec = _build(targets, avoid, rng, self.size, self.fps, self.seconds)
        from .synth import controls

        return PromptShot(spec, tuple(asked), tuple(unsupported), tuple(controls(spec)))

    def render_prompt(self, prompt: Prompt, path: str | Path) -> Video:
        """Render the prompt's shot to ``path``; the record's id is ``<name>/<prompt id>``."""
        from .synth import render

        shot = self.shoot(prompt)
        render_seed = random.Random(f"scine-synth-render:{self.seed}:{self.name}:{prompt.id}")
        seed = render_seed.getrandbits(31)
        video = render(
            shot.spec,
            path,
            self.codec,
            self.crf,
            seed,
            video_id=f"{self.name}/{prompt.id}",
            prompt_id=prompt.id,
            model=self.name,
            provenance={
                "model": self.name,
                "fidelity": self.fidelity,
                "render_seed": seed,
                "asked": _dump(shot.asked),
                "shown": _dump(shot.shown),
                "honoured": len(shot.honoured),
                "unsupported": _dump(shot.unsupported),
            },
            **self.options,
        )
        return video.model_copy(update={"seed": self.seed})


def synthetic_models(seed: int = 0, **options: Any) -> list[SyntheticModel]:
    """The models of ``SYNTHETIC_MODELS``, good to poor, with shared render options."""
    return [
        SyntheticModel(name, fidelity, seed, **options)
        for name, fidelity in SYNTHETIC_MODELS.items()
    ]


@cache
def _showable(size: tuple[int, int], fps: float, seconds: float) -> dict[str, tuple[str, ...]]:
    """Every (leaf, values) the renderer can show at this size."""
    sizes = []
    for shot_size in SHOT_SIZES:
        try:
            ShotSpec(shot_size=shot_size, size=size, fps=fps, seconds=seconds)
        except ValueError:
            continue
        sizes.append(shot_size)
    angles = sorted({p.angle for p in PHOTOS.values() if p.angle is not None} | {"dutch"})
    return {
        MOVEMENT: MOVEMENTS,
        SPEED: _PACES,
        RIG: ("tripod", "handheld"),
        ANGLE: tuple(angles),
        SHOT_SIZE: tuple(sizes),
        KEY: LEVELS,
        CONTRAST: LEVELS,
        TEMPERATURE: LEVELS,
        LIGHT_MOTION: LIGHT_MOTIONS,
        SCREEN_DIRECTION: DIRECTIONS,
    }


def _build(
    targets: dict[str, str | None],
    avoid: dict[str, str],
    rng: random.Random,
    size: tuple[int, int],
    fps: float,
    seconds: float,
) -> ShotSpec:
    """A valid spec showing as many targets as can be shown together."""
    movement = targets.get(MOVEMENT) or "static"
    fields: dict[str, Any] = {"size": size, "fps": fps, "seconds": seconds, "movement": movement}
    if targets.get(RIG) == "handheld":
        fields["handheld"] = round(rng.uniform(0.4, 0.9), 2)
    angle = targets.get(ANGLE)
    if angle == "dutch" and movement != "roll":
        fields["dutch"] = round(rng.choice((-1, 1)) * rng.uniform(10.0, 25.0), 1)
    shot_size = targets.get(SHOT_SIZE)
    if shot_size is not None and not movement.startswith(("zoom", "dolly")):
        fields["shot_size"] = shot_size
    for node, name in _LEVEL_FIELDS:
        if targets.get(node) is not None:
            fields[name] = targets[node]
    motion = targets.get(LIGHT_MOTION)
    if motion is not None:
        fields["light_motion"] = motion
        if motion == "flicker":
            fields["light_hz"] = round(rng.uniform(3.0, 8.0), 1)
    if targets.get(SCREEN_DIRECTION) is not None:
        fields["subject"] = targets[SCREEN_DIRECTION]
    fields["photo"] = _photo(fields, angle, avoid.get(ANGLE), rng)
    wanted = targets.get(SPEED)
    paces = sorted((p for p in _PACES if p != avoid.get(SPEED)), key=lambda p: p != wanted)
    return _first_valid(fields, paces)


def _photo(
    fields: dict[str, Any], angle: str | None, avoided: str | None, rng: random.Random
) -> str:
    names = sorted(PHOTOS)
    if "shot_size" in fields:
        names = ["astronaut"]
    elif fields["movement"].startswith("dolly"):
        names = [name for name in names if PHOTOS[name].depth]
    if "dutch" in fields:
        names = [name for name in names if name in HORIZON_PHOTOS]
    if angle in ("eye_level", "high") and "dutch" not in fields:
        names = [name for name in names if PHOTOS[name].angle == angle] or names
    if avoided is not None and "dutch" not in fields:
        names = [name for name in names if PHOTOS[name].angle != avoided] or names
    return rng.choice(names)


def _first_valid(fields: dict[str, Any], paces: Sequence[Pace]) -> ShotSpec:
    """The spec, dropping shake, Dutch angle and shot size (in that order) until it is valid."""
    from .synth import speed_for

    dropped = dict(fields)
    for drop in ((), ("handheld",), ("dutch",), ("shot_size",)):
        for name in drop:
            dropped.pop(name, None)
        try:
            spec = ShotSpec(**dropped)
        except ValueError:
            continue
        if spec.movement == "static":
            return spec
        for pace in paces:
            try:
                return speed_for(spec, pace)
            except ValueError:
                continue
    return ShotSpec(**{**dropped, "movement": "static"})


def _dump(controls: Sequence[Control]) -> list[dict[str, Any]]:
    return [control.model_dump(mode="json") for control in controls]

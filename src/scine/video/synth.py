"""Synthetic shots with known controls: a virtual camera filming real photographs.

A ``ShotSpec`` names a photograph bundled with scikit-image and the controls of the shot:
camera movement and its speed, handheld shake, Dutch angle, shot size (on the astronaut's
face), lighting key, contrast, colour temperature, light motion and a subject (a ball) crossing
the frame. ``render`` films it with a pinhole camera (pans and tilts turn the camera, so they
show perspective; dollies and trucks show parallax on the one photo with measured depth, the
motorcycle, and elsewhere a dolly looks exactly like a zoom), grades it and encodes it with
PyAV. ``controls`` lists the taxonomy controls the shot really carries, so these videos are
ground truth for probes and evaluators; ``synth_suite`` renders a varied set of them, and
``SyntheticModel`` stands in for a text-to-video model of a chosen fidelity.

The same spec and seed give the same frames; with the same FFmpeg build, the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, get_args

from pydantic import ValidationError

from scine.records import Control, Video, write_jsonl

from ._synth_camera import PACE_LIMITS, Pace, pace_of, plan
from ._synth_model import SYNTHETIC_MODELS, PromptShot, SyntheticModel, synthetic_models
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
    TRIPOD_MOVES,
)
from ._synth_photos import HORIZON_PHOTOS, PHOTOS, photo_info
from ._synth_spec import (
    DIRECTIONS,
    LEVELS,
    LIGHT_MOTIONS,
    MOVEMENTS,
    SHOT_SIZES,
    SPEED_UNITS,
    Direction,
    Level,
    LightMotion,
    Movement,
    ShotSize,
    ShotSpec,
)

__all__ = [
    "KINDS",
    "PACES",
    "PHOTOS",
    "SPEED_UNITS",
    "SUITE_MODEL",
    "SYNTHETIC_MODELS",
    "Direction",
    "Level",
    "LightMotion",
    "Movement",
    "Pace",
    "PromptShot",
    "ShotSize",
    "ShotSpec",
    "SyntheticModel",
    "controls",
    "random_spec",
    "render",
    "shows",
    "speed_for",
    "suite_shot",
    "synth_suite",
    "synthetic_models",
    "write_synth_suite",
]

PACES: tuple[Pace, ...] = get_args(Pace)
KINDS = (
    "movement",
    "handheld",
    "dutch",
    "shot_size",
    "key",
    "contrast",
    "temperature",
    "light_motion",
    "subject",
)
SUITE_MODEL = "synth"  # the model id of ground-truth shots (video ids "synth/shot-0000")
# Picture speed at the frame edge (frame widths per second) aimed at for each pace.
_PACE_TARGETS: dict[str, tuple[float, ...]] = {
    "slow": (0.025, 0.015),
    "moderate": (0.075, 0.05, 0.1),
    "fast": (0.16, 0.14, PACE_LIMITS[1] * 1.05),
}
_PACE_WEIGHTS = (0.3, 0.5, 0.2)


def controls(spec: ShotSpec) -> list[Control]:
    """The taxonomy controls the shot carries, and only those.

    Always the movement; its pace when the camera moves; the rig when it is certain (handheld
    when shaking, tripod for a steady static, pan, tilt or zoom shot); the angle (Dutch, or
    the photo's own evident angle, never for a roll); and each control the spec sets.
    """
    shot = plan(spec)
    found = [Control(node=MOVEMENT, value=spec.movement)]
    if shot.pace is not None:
        found.append(Control(node=SPEED, value=shot.pace))
    if spec.handheld > 0:
        found.append(Control(node=RIG, value="handheld"))
    elif spec.movement in TRIPOD_MOVES:
        found.append(Control(node=RIG, value="tripod"))
    if spec.movement != "roll":
        angle = "dutch" if spec.dutch else photo_info(spec.photo).angle
        if angle is not None:
            found.append(Control(node=ANGLE, value=angle))
    for node, value in (
        (SHOT_SIZE, spec.shot_size),
        (KEY, spec.key),
        (CONTRAST, spec.contrast),
        (TEMPERATURE, spec.temperature),
        (LIGHT_MOTION, spec.light_motion),
        (SCREEN_DIRECTION, spec.subject),
    ):
        if value is not None:
            found.append(Control(node=node, value=value))
    return found


def shows(video: Video, node: str, value: str | None) -> bool | None:
    """Whether a synthetic video shows ``value`` of ``node``, from the renderer's record:
    True when it does; False when the shot carries another value of the leaf, or the prompt
    asked for the leaf and the shot left it out; None when nobody knows (a video not made
    by the renderer, a leaf it does not render, a question naming no value)."""
    shown = video.provenance.get("shown")
    asked = video.provenance.get("asked", [])
    if not isinstance(shown, list) or not isinstance(asked, list) or value is None:
        return None
    if not any(isinstance(c, dict) and c.get("node") == node for c in [*shown, *asked]):
        return None
    return any(
        isinstance(c, dict) and (c.get("node"), c.get("value")) == (node, value) for c in shown
    )


def render(
    spec: ShotSpec,
    path: str | Path,
    codec: str = "libx264",
    crf: int = 18,
    seed: int = 0,
    *,
    preset: str | None = None,
    video_id: str | None = None,
    prompt_id: str | None = None,
    model: str = SUITE_MODEL,
    provenance: dict[str, Any] | None = None,
) -> Video:
    """Render the shot to ``path`` (.mp4, .mkv, .webm or .mov) and return its record.

    ``seed`` drives the shake, the flicker's irregularity and the ball's colour. Without ids
    the prompt id is ``shot-<hash of spec and seed>`` and the video id ``<model>/<prompt id>``.
    ``preset`` overrides the codec's speed preset (libx264: ultrafast, the fastest and largest
    files; veryfast gives files 2-5x smaller and takes 2-4x longer). The record's
    provenance holds the spec, the controls and what the render measured.
    """
    from ._synth_render import encode, frames, prefetch

    path = Path(path)
    images, shot, look = frames(spec, seed)
    options = encode(prefetch(images), path, spec.fps, spec.size, codec, crf, preset)
    if prompt_id is None:
        digest = hashlib.sha256(f"{spec.model_dump_json()}|{seed}".encode()).hexdigest()
        prompt_id = f"shot-{digest[:12]}"
    return Video(
        id=video_id or f"{model}/{prompt_id}",
        prompt_id=prompt_id,
        model=model,
        seed=seed,
        path=str(path),
        fps=spec.fps,
        frames=spec.frames,
        width=spec.size[0],
        height=spec.size[1],
        provenance={
            "generator": "scine.video.synth",
            "spec": spec.model_dump(mode="json"),
            "controls": [control.model_dump(mode="json") for control in controls(spec)],
            "codec": codec,
            "encoder_options": dict(options),
            "magnification": round(shot.magnification, 4),
            "edge_rate": None if shot.edge_rate is None else round(shot.edge_rate, 4),
            "parallax": shot.depth,
            "mean_luma": round(look.mean_luma, 4),
            "std_luma": round(look.std_luma, 4),
            **(provenance or {}),
        },
    )


def speed_for(spec: ShotSpec, pace: Pace) -> ShotSpec:
    """The spec with the speed that gives its movement the pace asked for.

    Pace is judged on screen (how fast the picture moves at the frame edge), which depends on
    the magnification the move needs, hence a few rounds of adjustment. A ``ValueError`` when
    no speed of that pace fits in the photo.
    """
    if spec.movement == "static":
        raise ValueError("a static shot has no pace")
    failure: ValueError | None = None
    fallback: ShotSpec | None = None
    for target in _PACE_TARGETS[pace]:
        speed = _nominal_speed(spec, target)
        for _ in range(8):
            try:
                candidate = ShotSpec(**{**spec.model_dump(), "speed": round(speed, 4)})
            except ValueError as exc:
                failure = exc
                break
            rate = plan(candidate).edge_rate
            assert rate is not None
            if pace_of(rate) == pace:
                if abs(rate / target - 1) < 0.1:
                    return candidate
                fallback = fallback or candidate
            speed *= target / rate
    if fallback is not None:
        return fallback
    raise ValueError(f"no {pace} speed for {spec.movement} fits this shot: {failure}")


def random_spec(
    rng: random.Random,
    kinds: Sequence[str] = KINDS,
    n_kinds: int = 1,
    *,
    size: tuple[int, int] = (854, 480),
    fps: float = 24.0,
    seconds: float = 5.0,
) -> ShotSpec:
    """A random shot varying ``n_kinds`` of ``kinds`` (the rest neutral), on a random photo.

    Dollies are filmed on the photo with measured depth so they show parallax; shot sizes on
    the astronaut; Dutch angles on a photo with a horizon or level lines. Draws that cannot be
    filmed are redrawn (up to 100 times).
    """
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown or not kinds:
        raise ValueError(f"unknown kinds {unknown}; expected some of: {', '.join(KINDS)}")
    base = {"size": size, "fps": fps, "seconds": seconds}
    for _ in range(100):
        chosen = rng.sample(list(kinds), min(n_kinds, len(kinds)))
        fields: dict[str, Any] = {**base, "photo": rng.choice(sorted(PHOTOS))}
        pace = None
        for kind in chosen:
            pace = _draw(kind, rng, fields) or pace
        try:
            spec = ShotSpec(**fields)
            return spec if pace is None else speed_for(spec, pace)
        except ValueError:
            continue
    raise ValueError(f"no valid shot in 100 draws for kinds {list(kinds)} at {size}")


def synth_suite(
    n: int,
    seed: int,
    out_dir: str | Path,
    mix: float = 0.25,
    *,
    size: tuple[int, int] = (854, 480),
    fps: float = 24.0,
    seconds: float = 5.0,
    codec: str = "libx264",
    crf: int = 18,
    preset: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Video], list[dict[str, Any]]]:
    """Render ``n`` varied shots to ``out_dir/videos/synth/shot-NNNN.mp4``.

    Shot i varies one kind of control (the kinds in turn), or with probability ``mix`` two
    or three at once. Shot i depends only on (seed, i), so a larger n extends a smaller one.
    Returns the video records (paths relative to ``out_dir``) and one truth row per video:
    ``{"video_id", "controls": [{"node", "value"}], "spec"}``.
    """
    if n < 0 or not 0 <= mix <= 1:
        raise ValueError(f"n must be >= 0 and mix within 0-1 (got n={n}, mix={mix})")
    try:
        ShotSpec(size=size, fps=fps, seconds=seconds)
    except ValidationError as exc:
        problems = "; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors())
        raise ValueError(f"cannot render shots of these settings: {problems}") from None
    out_dir = Path(out_dir)
    videos: list[Video] = []
    truth: list[dict[str, Any]] = []
    for index in range(n):
        spec, render_seed = suite_shot(seed, index, mix, size=size, fps=fps, seconds=seconds)
        shot_id = f"shot-{index:04d}"
        video_id = f"{SUITE_MODEL}/{shot_id}"
        relative = f"videos/{video_id}.mp4"
        video = render(
            spec,
            out_dir / relative,
            codec,
            crf,
            render_seed,
            preset=preset,
            video_id=video_id,
            prompt_id=shot_id,
        )
        videos.append(video.model_copy(update={"path": relative}))
        truth.append(
            {
                "video_id": video_id,
                "controls": [control.model_dump(mode="json") for control in controls(spec)],
                "spec": spec.model_dump(mode="json"),
            }
        )
        if progress is not None:
            progress(index + 1, n)
    return videos, truth


def suite_shot(
    seed: int,
    index: int,
    mix: float = 0.25,
    *,
    size: tuple[int, int] = (854, 480),
    fps: float = 24.0,
    seconds: float = 5.0,
) -> tuple[ShotSpec, int]:
    """Shot ``index`` of the suite of ``seed`` (as ``synth_suite`` draws it): its spec and
    the seed its render uses. Cheap: nothing is rendered."""
    rng = random.Random(f"scine-synth:{seed}:{index}")
    options: dict[str, Any] = {"size": size, "fps": fps, "seconds": seconds}
    if rng.random() < mix:
        spec = random_spec(rng, n_kinds=rng.choice((2, 3)), **options)
    else:
        spec = random_spec(rng, kinds=(KINDS[index % len(KINDS)],), **options)
    return spec, rng.getrandbits(31)


def write_synth_suite(
    out_dir: str | Path,
    n: int,
    seed: int,
    mix: float = 0.25,
    **options: Any,
) -> dict[str, Any]:
    """Render a suite and write ``videos.jsonl``, ``truth.jsonl`` and ``manifest.json``.

    ``options`` go to ``synth_suite`` (size, fps, seconds, codec, crf, preset, progress).
    Returns the manifest (also written): versions, settings and counts of every control.
    """
    import av

    import scine
    from scine.taxonomy import load_taxonomy

    out_dir = Path(out_dir)
    videos, truth = synth_suite(n, seed, out_dir, mix, **options)
    write_jsonl(out_dir / "videos.jsonl", videos)
    _write_text(out_dir / "truth.jsonl", "".join(json.dumps(row) + "\n" for row in truth))
    counts: Counter[str] = Counter(
        f"{control['node']}={control['value']}" for row in truth for control in row["controls"]
    )
    settings = {key: value for key, value in options.items() if key != "progress"}
    manifest = {
        "kind": "synthetic_suite",
        "scine_version": scine.__version__,
        "taxonomy_version": load_taxonomy().version,
        "pyav_version": av.__version__,
        "ffmpeg_versions": {name: ".".join(map(str, v)) for name, v in _ffmpeg(av).items()},
        "seed": seed,
        "n": n,
        "mix": mix,
        "settings": settings,
        "files": {"videos": "videos.jsonl", "truth": "truth.jsonl"},
        "counts": {"videos": len(videos), "controls": dict(sorted(counts.items()))},
    }
    text = json.dumps(manifest, indent=2) + "\n"
    _write_text(out_dir / "manifest.json", text)
    written: dict[str, Any] = json.loads(text)  # what the file holds (tuples are lists)
    return written


# -- helpers --------------------------------------------------------------------------------


def _nominal_speed(spec: ShotSpec, edge_rate: float) -> float:
    """The speed giving ``edge_rate`` before any magnification (see ``SPEED_UNITS``)."""
    import math

    from ._synth_camera import HFOV_DEGREES

    width = spec.size[0]
    movement = spec.movement
    if movement.startswith(("pan", "tilt")):
        focal_per_width = 1 / (2 * math.tan(math.radians(HFOV_DEGREES) / 2))
        return math.degrees(edge_rate / focal_per_width)
    if movement.startswith("truck"):
        return edge_rate * width
    if movement == "roll":
        return math.degrees(2 * edge_rate)
    return 2 * edge_rate


def _draw(kind: str, rng: random.Random, fields: dict[str, Any]) -> Pace | None:
    """Set one kind of control in ``fields``; returns the pace drawn for a movement."""
    if kind == "movement":
        movement = rng.choice(MOVEMENTS[1:])
        fields["movement"] = movement
        if movement.startswith("dolly"):
            fields["photo"] = rng.choice(sorted(name for name, p in PHOTOS.items() if p.depth))
        return rng.choices(PACES, weights=_PACE_WEIGHTS)[0]
    if kind == "handheld":
        fields["handheld"] = round(rng.uniform(0.3, 1.0), 2)
    elif kind == "dutch":
        fields["dutch"] = round(rng.choice((-1, 1)) * rng.uniform(8.0, 25.0), 1)
        if fields["photo"] not in HORIZON_PHOTOS:
            fields["photo"] = rng.choice(HORIZON_PHOTOS)
    elif kind == "shot_size":
        fields["shot_size"] = rng.choice(SHOT_SIZES)
        fields["photo"] = "astronaut"
    elif kind in ("key", "contrast", "temperature"):
        fields[kind] = rng.choice(LEVELS)
    elif kind == "light_motion":
        motion = rng.choice(LIGHT_MOTIONS)
        fields["light_motion"] = motion
        if motion == "flicker":
            fields["light_hz"] = round(rng.uniform(2.5, 8.0), 1)
        elif motion == "pulse":
            fields["light_hz"] = round(rng.uniform(0.5, 1.5), 2)
    else:
        fields["subject"] = rng.choice(DIRECTIONS)
    return None


def _ffmpeg(av: Any) -> dict[str, tuple[int, ...]]:
    return {name: tuple(version) for name, version in av.library_versions.items()}


def _write_text(path: Path, text: str) -> None:
    """Write a text file atomically (a temporary file beside it, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)

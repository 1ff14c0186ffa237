"""The camera-movement probe on rendered synthetic shots with known controls, and on videos
that show nothing to track."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scine.judge._clip import load_clip
from scine.judge._probe_motion import probe_movement
from scine.judge._reading import Reading
from scine.video.synth import ShotSpec, render, speed_for
from tests.judge.videos import write_video

SHOT: dict[str, Any] = {"size": (426, 240), "seconds": 3.0, "fps": 24.0}
MOVEMENT, RIG, SPEED = (
    "camera.trajectory.movement",
    "camera.trajectory.rig",
    "camera.trajectory.speed",
)

Probe = Callable[..., dict[str, Reading]]


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Probe:
    """Render a shot (once per set of fields) and probe it; readings by node."""
    folder = tmp_path_factory.mktemp("motion")
    done: dict[str, dict[str, Reading]] = {}

    def shoot(pace: str | None = None, seed: int = 0, **fields: Any) -> dict[str, Reading]:
        key = f"{sorted(fields.items())}-{pace}-{seed}"
        if key not in done:
            spec = ShotSpec(**{**SHOT, **fields})
            if pace is not None:
                spec = speed_for(spec, pace)  # type: ignore[arg-type]
            path = folder / f"shot-{len(done)}.mp4"
            render(spec, path, seed=seed)
            done[key] = {reading.node: reading for reading in probe_movement(load_clip(path))}
        return done[key]

    return shoot


def assert_valid(reading: Reading) -> None:
    assert 0.0 <= reading.confidence <= 1.0
    assert all(0.0 <= belief <= 1.0 for belief in reading.support.values())
    if reading.value is not None:
        assert reading.confidence == reading.support[reading.value]
        assert reading.support[reading.value] == max(reading.support.values())


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"movement": "static"}, "static"),
        ({"movement": "pan_left"}, "pan_left"),
        ({"movement": "pan_right", "photo": "coffee"}, "pan_right"),
        ({"movement": "tilt_up", "photo": "chelsea"}, "tilt_up"),
        ({"movement": "tilt_down"}, "tilt_down"),
        ({"movement": "zoom_in", "photo": "rocket"}, "zoom_in"),
        ({"movement": "zoom_out"}, "zoom_out"),
        ({"movement": "roll", "photo": "coffee"}, "roll"),
    ],
)
def test_each_movement_is_read(probe: Probe, fields: dict[str, Any], expected: str) -> None:
    readings = probe(**fields)
    movement = readings[MOVEMENT]
    assert movement.value == expected, movement.measure
    # a pan may be a truck, a zoom a dolly: without parallax each gets half the belief
    assert movement.confidence > (0.45 if expected.startswith(("pan", "zoom")) else 0.8)
    for reading in readings.values():
        assert_valid(reading)


def test_directions_follow_the_picture(probe: Probe) -> None:
    """A camera panning left sees the picture move right; one tilting up, move down."""

    def rate(name: str, **fields: Any) -> float:
        return float(probe(**fields)[MOVEMENT].measure[name])  # type: ignore[arg-type]

    assert rate("dx_per_s", movement="pan_left") > 0
    assert rate("dy_per_s", movement="tilt_down") < 0
    assert rate("log_scale_per_s", movement="zoom_in", photo="rocket") > 0


def test_without_parallax_a_zoom_and_a_dolly_share_the_top(probe: Probe) -> None:
    """On a flat photo a dolly looks exactly like a zoom: both values get the same support."""
    movement = probe(movement="dolly_in", photo="coffee")[MOVEMENT]
    assert movement.value == "zoom_in"
    assert movement.support["zoom_in"] == movement.support["dolly_in"]
    assert movement.confidence <= 0.5
    assert "orbit" not in movement.support


def test_a_dolly_with_parallax_is_a_dolly(probe: Probe) -> None:
    movement = probe(movement="dolly_out", photo="motorcycle_left")[MOVEMENT]
    assert movement.value == "dolly_out", movement.measure
    assert movement.support["dolly_out"] > movement.support["zoom_out"]


def test_shake_reads_handheld_and_a_steady_pan_tripod(probe: Probe) -> None:
    shaky = probe(movement="static", handheld=0.6, seed=3)
    assert shaky[RIG].value == "handheld", shaky[RIG].measure
    assert shaky[MOVEMENT].value == "static"
    steady = probe(movement="pan_left")[RIG]
    assert steady.value == "tripod"
    assert steady.support["handheld"] < 0.2


def test_speed_from_the_picture_at_the_frame_edge(probe: Probe) -> None:
    assert probe(movement="pan_right", photo="coffee", pace="slow")[SPEED].value == "slow"
    assert probe(movement="pan_right", photo="coffee", pace="fast")[SPEED].value == "fast"
    assert probe(movement="pan_left")[SPEED].value == "moderate"


def test_a_static_shot_has_no_speed(probe: Probe) -> None:
    speed = probe(movement="static")[SPEED]
    assert speed.value is None
    assert speed.reason


def test_a_flickering_light_is_not_motion(probe: Probe) -> None:
    readings = probe(movement="static", light_motion="flicker", photo="chelsea")
    assert readings[MOVEMENT].value == "static"
    assert readings[RIG].value == "tripod"


def abstains(readings: list[Reading], words: str) -> None:
    assert [reading.value for reading in readings] == [None, None, None]
    for reading in readings:
        assert reading.confidence == 0.0
        assert reading.reason is not None
        assert words in reading.reason


def test_one_frame_abstains(tmp_path: Path) -> None:
    image = np.random.default_rng(0).integers(0, 255, (1, 96, 128, 3), dtype=np.uint8)
    abstains(probe_movement(load_clip(write_video(tmp_path / "one.mp4", image))), "2 frames")


def test_a_black_video_abstains(tmp_path: Path) -> None:
    black = np.zeros((24, 96, 128, 3), dtype=np.uint8)
    abstains(probe_movement(load_clip(write_video(tmp_path / "black.mp4", black))), "flat")


def test_static_noise_abstains(tmp_path: Path) -> None:
    noise = np.random.default_rng(0).integers(0, 255, (48, 96, 128, 3), dtype=np.uint8)
    clip = load_clip(write_video(tmp_path / "noise.mp4", noise))
    abstains(probe_movement(clip), "move together")

"""Lighting probes on rendered synthetic shots of known lighting, and on degenerate videos."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

av = pytest.importorskip("av")
np = pytest.importorskip("numpy")
cv2 = pytest.importorskip("cv2")

from scine.judge._clip import load_clip  # noqa: E402
from scine.judge._probe_light import (  # noqa: E402
    CONTRAST,
    KEY,
    LIGHT_MOTION,
    TEMPERATURE,
    probe_exposure,
    probe_light_motion,
    probe_temperature,
)
from scine.judge._reading import Clip, Reading  # noqa: E402
from scine.video._synth_light import level_lut  # noqa: E402
from scine.video.synth import ShotSpec, render  # noqa: E402
from tests.judge.videos import write_video  # noqa: E402

SMALL: dict[str, Any] = {"size": (426, 240), "seconds": 3.0, "fps": 24.0}
SHOTS: dict[str, dict[str, Any]] = {
    "dark_warm": {"photo": "coffee", "key": "low", "temperature": "low"},
    "bright_cool": {"photo": "brick", "key": "high", "temperature": "high"},
    "soft_neutral": {"photo": "astronaut", "contrast": "low", "temperature": "medium"},
    "hard_pan": {"photo": "rocket", "contrast": "high", "movement": "pan_left"},
    "flicker": {"photo": "chelsea", "light_motion": "flicker"},
    "pulse": {"photo": "camera", "light_motion": "pulse"},
    "fade_up": {"photo": "motorcycle_left", "light_motion": "fade_up"},
    "fade_down": {"photo": "gravel", "light_motion": "fade_down"},
    "switch": {"photo": "brick", "light_motion": "switch", "movement": "pan_right"},
}
SEED = 11
MOTIONS = ("flicker", "pulse", "fade_up", "fade_down", "switch")


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Clip]:
    """Every shot of ``SHOTS``, rendered and sampled as the probes see it."""
    folder = tmp_path_factory.mktemp("light")
    result = {}
    for name, fields in SHOTS.items():
        path = folder / f"{name}.mp4"
        render(ShotSpec(**{**SMALL, **fields}), path, seed=SEED, preset="ultrafast")
        result[name] = load_clip(path)
    return result


def read(probe: Callable[[Clip], list[Reading]], clip: Clip, node: str) -> Reading:
    """The reading of ``node`` among the probe's readings of the clip."""
    readings = {reading.node: reading for reading in probe(clip)}
    return readings[node]


def check(reading: Reading) -> None:
    """What every reading promises: beliefs in 0-1, JSON-ready measures, a reason to abstain."""
    assert 0.0 <= reading.confidence <= 1.0
    assert all(0.0 <= belief <= 1.0 for belief in reading.support.values())
    assert all(not type(value).__module__.startswith("numpy") for value in reading.measure.values())
    if reading.value is None:
        assert reading.reason
    else:
        assert reading.confidence == reading.support[reading.value]


# -- key and contrast ------------------------------------------------------------------------


@pytest.mark.parametrize(("shot", "value"), [("dark_warm", "low"), ("bright_cool", "high")])
def test_key(clips: dict[str, Clip], shot: str, value: str) -> None:
    reading = read(probe_exposure, clips[shot], KEY)
    check(reading)
    assert reading.value == value
    assert reading.confidence > 0.8
    assert set(reading.support) == {"low", "medium", "high"}


def test_low_key_is_darker_than_high_key(clips: dict[str, Clip]) -> None:
    dark = read(probe_exposure, clips["dark_warm"], KEY).measure["mean_luma"]
    bright = read(probe_exposure, clips["bright_cool"], KEY).measure["mean_luma"]
    assert isinstance(dark, float)
    assert isinstance(bright, float)
    assert dark < 0.3 < 0.55 < bright


@pytest.mark.parametrize(("shot", "value"), [("soft_neutral", "low"), ("hard_pan", "high")])
def test_contrast(clips: dict[str, Clip], shot: str, value: str) -> None:
    reading = read(probe_exposure, clips[shot], CONTRAST)
    check(reading)
    assert reading.value == value
    assert reading.confidence > 0.7
    assert set(reading.support) == {"low", "medium", "high"}


# -- colour temperature ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shot", "value"), [("dark_warm", "low"), ("soft_neutral", "medium"), ("bright_cool", "high")]
)
def test_temperature(clips: dict[str, Clip], shot: str, value: str) -> None:
    reading = read(probe_temperature, clips[shot], TEMPERATURE)
    check(reading)
    assert reading.value == value
    assert reading.confidence > 0.8
    assert set(reading.support) == {"low", "medium", "high"}


# -- light motion ----------------------------------------------------------------------------


@pytest.mark.parametrize("shot", MOTIONS)
def test_light_motion(clips: dict[str, Clip], shot: str) -> None:
    reading = read(probe_light_motion, clips[shot], LIGHT_MOTION)
    check(reading)
    assert reading.value == shot
    assert reading.confidence > 0.8
    assert set(reading.support) == set(MOTIONS)
    others = [belief for value, belief in reading.support.items() if value != shot]
    assert max(others) < 0.2


@pytest.mark.parametrize("shot", ["dark_warm", "soft_neutral", "hard_pan"])
def test_steady_light_even_when_the_camera_moves(clips: dict[str, Clip], shot: str) -> None:
    reading = read(probe_light_motion, clips[shot], LIGHT_MOTION)
    check(reading)
    assert reading.value is None
    assert reading.reason == "steady light"
    assert reading.confidence > 0.8
    assert max(reading.support.values()) < 0.1


@pytest.mark.parametrize("factor", [0.3, 0.6, 1.7, 3.0])
def test_a_light_switched_once_is_a_switch_not_a_flicker(
    clips: dict[str, Clip], factor: float
) -> None:
    """A light snapping on or off mid-shot, however far, while the camera holds or moves."""
    for shot in ("soft_neutral", "hard_pan"):
        whole = clips[shot]
        frames = whole.frames.copy()
        later = len(frames) * 2 // 5
        frames[later:] = level_lut(factor)[frames[later:]]
        gray = np.stack([cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in frames])
        switched = Clip(frames, gray, whole.timestamps, whole.fps, whole.source)
        reading = read(probe_light_motion, switched, LIGHT_MOTION)
        assert (reading.value, shot) == ("switch", shot)
        assert reading.support["flicker"] < 0.1
        assert np.sign(reading.measure["largest_step"]) == np.sign(factor - 1)


@pytest.mark.parametrize("shot", ["dark_warm", "fade_up"])
def test_a_cut_from_black_is_no_change_of_light(clips: dict[str, Clip], shot: str) -> None:
    whole = clips[shot]
    black = len(whole.gray) // 5
    gray, frames = whole.gray.copy(), whole.frames.copy()
    gray[:black], frames[:black] = 0, 0
    cut = Clip(frames, gray, whole.timestamps, whole.fps, whole.source)
    reading = read(probe_light_motion, cut, LIGHT_MOTION)
    assert reading.measure["black_frames_left_out"] == black
    assert reading.value == read(probe_light_motion, whole, LIGHT_MOTION).value


def test_one_frame_reads_exposure_and_temperature_but_not_motion(clips: dict[str, Clip]) -> None:
    whole = clips["dark_warm"]
    clip = Clip(whole.frames[:1], whole.gray[:1], whole.timestamps[:1], whole.fps, whole.source)
    assert read(probe_exposure, clip, KEY).value == "low"
    assert read(probe_temperature, clip, TEMPERATURE).value == "low"
    motion = read(probe_light_motion, clip, LIGHT_MOTION)
    assert motion.value is None
    assert motion.support == {}
    assert motion.reason is not None
    assert motion.reason == (
        f"fewer than 2 frames: 1 sampled at {whole.fps:g} a second, "
        "the clip is too short to show a change"
    )


# -- degenerate videos -----------------------------------------------------------------------

ALL_PROBES = (probe_exposure, probe_temperature, probe_light_motion)


def test_black_video_is_never_read(tmp_path: Path) -> None:
    clip = load_clip(write_video(tmp_path / "black.mp4", np.zeros((24, 96, 128, 3), np.uint8)))
    readings = [reading for probe in ALL_PROBES for reading in probe(clip)]
    assert {reading.node for reading in readings} == {KEY, CONTRAST, TEMPERATURE, LIGHT_MOTION}
    for reading in readings:
        assert reading.value is None
        assert reading.confidence == 0.0
        assert reading.reason == "black frames"


def test_single_colour_video(tmp_path: Path) -> None:
    frames = np.zeros((24, 96, 128, 3), np.uint8)
    frames[..., 0] = 200  # saturated red
    frames[..., 2] = 40
    clip = load_clip(write_video(tmp_path / "red.mp4", frames))
    contrast = read(probe_exposure, clip, CONTRAST)
    temperature = read(probe_temperature, clip, TEMPERATURE)
    for reading in (contrast, temperature):
        assert reading.value is None
        assert reading.reason is not None
        assert "single colour" in reading.reason
    check(read(probe_exposure, clip, KEY))
    motion = read(probe_light_motion, clip, LIGHT_MOTION)
    assert motion.value is None
    assert motion.reason == "steady light"


def test_a_textured_saturated_colour_is_not_read_as_a_light(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    frames = np.zeros((24, 96, 128, 3), np.uint8)
    frames[..., 1] = rng.integers(150, 230, size=(24, 96, 128), dtype=np.uint8)  # grassy green
    frames[..., 0] = 30
    clip = load_clip(write_video(tmp_path / "green.mp4", frames))
    reading = read(probe_temperature, clip, TEMPERATURE)
    assert reading.value is None
    assert reading.reason is not None
    assert "colour too strong" in reading.reason


def test_static_noise_is_not_flicker(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    frames = rng.integers(0, 256, size=(48, 96, 128, 3), dtype=np.uint8)
    clip = load_clip(write_video(tmp_path / "noise.mp4", frames))
    readings = [reading for probe in ALL_PROBES for reading in probe(clip)]
    for reading in readings:
        check(reading)
    motion = read(probe_light_motion, clip, LIGHT_MOTION)
    assert motion.value is None
    assert motion.support["flicker"] < 0.2

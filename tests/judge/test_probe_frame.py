"""The framing probes on rendered shots with known controls, and on bad input."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

av = pytest.importorskip("av")
np = pytest.importorskip("numpy")
pytest.importorskip("cv2")

from scine.judge._clip import load_clip  # noqa: E402
from scine.judge._probe_frame import probe_dutch, probe_shot_size  # noqa: E402
from scine.judge._reading import Clip, Reading  # noqa: E402
from scine.video.synth import ShotSpec, render  # noqa: E402
from tests.judge.videos import write_video  # noqa: E402

SHORT: dict[str, Any] = {"seconds": 2.0, "fps": 24.0}
SEED = 11


def shoot(folder: Path, name: str, **fields: Any) -> Clip:
    spec = ShotSpec(**{**SHORT, **fields})
    render(spec, folder / f"{name}.mp4", seed=SEED)
    return load_clip(folder / f"{name}.mp4")


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Clip]:
    folder = tmp_path_factory.mktemp("frame")
    square = (320, 320)
    rng = np.random.default_rng(SEED)
    return {
        "dutch": shoot(folder, "dutch", photo="rocket", size=(426, 240), dutch=15.0),
        "level": shoot(folder, "level", photo="rocket", size=(426, 240)),
        "ecu": shoot(folder, "ecu", shot_size="extreme_close_up", size=square),
        "medium": shoot(folder, "medium", shot_size="medium", size=square),
        "brick": shoot(folder, "brick", photo="brick", size=(426, 240)),
        "black": load_clip(
            write_video(folder / "black.mp4", np.zeros((24, 144, 256, 3), np.uint8))
        ),
        "noise": load_clip(
            write_video(
                folder / "noise.mp4", rng.integers(0, 256, (24, 144, 256, 3), dtype=np.uint8)
            )
        ),
    }


def only(readings: list[Reading]) -> Reading:
    assert len(readings) == 1
    return readings[0]


def test_a_dutch_shot_reads_dutch_with_the_sign_of_its_tilt(shots: dict[str, Clip]) -> None:
    reading = only(probe_dutch(shots["dutch"]))
    assert reading.value == "dutch"
    assert reading.support["dutch"] > 0.8
    tilt = reading.measure["tilt_deg"]
    assert isinstance(tilt, float)
    assert 10 < tilt < 20  # positive: turned counter-clockwise, like the spec's dutch


def test_a_level_shot_is_not_dutch(shots: dict[str, Clip]) -> None:
    reading = only(probe_dutch(shots["level"]))
    assert reading.value is None
    assert reading.support["dutch"] < 0.1
    assert reading.confidence == pytest.approx(1 - reading.support["dutch"])
    assert reading.reason == "level: the probe reads only whether the frame is tilted"


@pytest.mark.parametrize("name", ["black", "noise"])
def test_bad_frames_abstain_with_a_reason(shots: dict[str, Clip], name: str) -> None:
    for reading in (only(probe_dutch(shots[name])), only(probe_shot_size(shots[name]))):
        assert reading.value is None
        assert reading.support == {}
        assert reading.confidence == 0
        assert reading.reason


def test_extreme_close_up_and_medium_are_told_apart(shots: dict[str, Clip]) -> None:
    close = only(probe_shot_size(shots["ecu"]))
    medium = only(probe_shot_size(shots["medium"]))
    assert close.value == "extreme_close_up"
    assert medium.value == "medium"
    assert close.support["extreme_close_up"] > close.support["medium"]
    assert medium.support["medium"] > medium.support["extreme_close_up"]
    heads_close, heads_medium = close.measure["head_heights"], medium.measure["head_heights"]
    assert isinstance(heads_close, float)
    assert isinstance(heads_medium, float)
    assert heads_close < heads_medium  # the face fills more of the frame, closer in


def test_a_photo_without_a_face_abstains(shots: dict[str, Clip]) -> None:
    reading = only(probe_shot_size(shots["brick"]))
    assert reading.value is None
    assert reading.reason == "no face found"


def test_empty_clip_abstains() -> None:
    empty = Clip(
        frames=np.zeros((0, 8, 8, 3), np.uint8),
        gray=np.zeros((0, 8, 8), np.uint8),
        timestamps=np.zeros(0),
        fps=8.0,
        source="none",
    )
    assert only(probe_dutch(empty)).reason == "no frames"
    assert only(probe_shot_size(empty)).reason == "no frames"


def test_threads_find_the_same_faces_as_one_thread(shots: dict[str, Clip]) -> None:
    clips = [shots[name] for name in ("ecu", "medium", "brick")] * 8
    alone = [probe_shot_size(clip)[0].measure for clip in clips]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = [readings[0].measure for readings in pool.map(probe_shot_size, clips)]
    assert together == alone

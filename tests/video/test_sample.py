"""Frame sampling on real files encoded by PyAV: which frame comes back for which time, in
four codecs and at a variable frame rate, with and without seeking."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError
from skimage import data

from scine.video.sample import (
    SampledFrames,
    SamplingError,
    VideoSampling,
    _rgb,
    frames_at,
    resized_size,
    sample_frames,
    sample_many,
    target_times,
)

WIDTH, HEIGHT = 128, 96
BITS = 8  # each frame shows its number in binary: 8 black or white 16x16 squares
FPS = 24
FRAMES = 48  # 2 s at 24 fps
GOP = 6
CODECS = {  # codec -> (container suffix, encoder options)
    "libx264": (".mp4", {}),
    "libx265": (".mp4", {"x265-params": "log-level=error"}),
    "libvpx-vp9": (".webm", {}),
    "libsvtav1": (".mkv", {"preset": "10", "svtav1-params": "enable-stat-report=0"}),
}
VFR_MS = [0, 100, 150, 400, 420, 900, 1000, 1600, 1700, 1990]  # frame times, milliseconds


PHOTO = data.astronaut()


def picture(number: int) -> np.ndarray:
    """A photo panning 2 px a frame, showing ``number`` in its top row: bit b is the b-th
    16x16 square, white for 1."""
    image = PHOTO[100 : 100 + HEIGHT, 2 * number : 2 * number + WIDTH].copy()
    for bit in range(BITS):
        image[:16, bit * 16 : (bit + 1) * 16] = 235 if number >> bit & 1 else 16
    return image


def shown(frame: np.ndarray) -> int:
    """The number a frame decoded from ``picture`` shows (at any size)."""
    row = frame[: frame.shape[0] // 6].mean(axis=(0, 2))
    step = frame.shape[1] / 8
    squares = [row[int((bit + 0.25) * step) : int((bit + 0.75) * step)].mean() for bit in range(8)]
    return sum(1 << bit for bit, level in enumerate(squares) if level > 128)


def encode(
    path: Path,
    codec: str = "libx264",
    count: int = FRAMES,
    *,
    options: dict[str, str] | None = None,
    times_ms: list[int] | None = None,
    rotation: int = 0,
) -> Path:
    """Encode frames 0..count-1 at 24 fps, or at ``times_ms`` (a variable frame rate), with
    a display ``rotation`` (degrees counter-clockwise) if given."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=FPS, options=options or {})
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        if rotation:
            stream.set_display_rotation(rotation)
        stream.codec_context.gop_size = GOP
        if times_ms is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
            stream.time_base = Fraction(1, 1000)
        for number in range(count):
            frame = av.VideoFrame.from_ndarray(picture(number), format="rgb24")
            if times_ms is not None:
                frame.pts, frame.time_base = times_ms[number], Fraction(1, 1000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


@pytest.fixture(scope="module", params=sorted(CODECS))
def clip(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    codec: str = request.param
    suffix, options = CODECS[codec]
    if codec not in av.codecs_available:
        pytest.skip(f"PyAV here cannot encode {codec}")
    return encode(tmp_path_factory.mktemp(codec) / f"clip{suffix}", codec, options=options)


@pytest.fixture(scope="module")
def h264(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return encode(tmp_path_factory.mktemp("h264") / "clip.mp4")


@pytest.fixture(scope="module")
def vfr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return encode(tmp_path_factory.mktemp("vfr") / "vfr.mp4", count=10, times_ms=VFR_MS)


RAW = VideoSampling(max_pixels=WIDTH * HEIGHT, multiple=None)  # no resizing


# -- the config -----------------------------------------------------------------------------


def test_default_is_two_frames_a_second_at_qwen_sizes() -> None:
    sampling = VideoSampling()
    assert (sampling.fps, sampling.frames, sampling.max_pixels) == (2.0, None, 448 * 448)
    assert (sampling.min_pixels, sampling.multiple, sampling.max_frames) == (28 * 28, 28, 768)


def test_frames_replaces_the_default_fps() -> None:
    assert VideoSampling(frames=16).fps is None
    assert VideoSampling.model_validate(VideoSampling(frames=16).model_dump()).frames == 16


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"fps": 2.0, "frames": 8}, "exactly one of fps"),
        ({"fps": None}, "exactly one of fps"),
        ({"fps": 0}, "greater than 0"),
        ({"fps": float("nan")}, "finite"),
        ({"frames": 0}, "greater than or equal to 1"),
        ({"min_pixels": 1000, "max_pixels": 999}, "must not exceed max_pixels"),
        ({"max_pixels": 700, "min_pixels": 100}, "at least one 28x28 block"),
        ({"frames": 10, "max_frames": 8}, "exceeds max_frames"),
        ({"fsp": 2.0}, "Extra inputs are not permitted"),
    ],
)
def test_bad_settings_are_explained(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        VideoSampling.model_validate(settings)


def test_key_is_stable_and_follows_every_setting() -> None:
    base = VideoSampling()
    assert base.key() == VideoSampling(fps=2).key() == VideoSampling(**base.model_dump()).key()
    assert len(base.key()) == 12
    assert int(base.key(), 16) >= 0
    changed = [
        VideoSampling(fps=1.0),
        VideoSampling(frames=16),
        VideoSampling(max_pixels=10**6),
        VideoSampling(min_pixels=100),
        VideoSampling(multiple=None),
        VideoSampling(multiple=14),
        VideoSampling(max_frames=64),
    ]
    assert len({base.key(), *(s.key() for s in changed)}) == len(changed) + 1
    with pytest.raises(ValidationError, match="frozen"):
        base.fps = 1.0  # type: ignore[misc]


def test_target_times() -> None:
    two = VideoSampling()
    assert target_times(5.0, two) == [0.25 + 0.5 * i for i in range(10)]
    assert target_times(4.75, two) == [0.25 + 0.5 * i for i in range(9)]  # 4.75 is not < 4.75
    assert target_times(0.2, two) == [0.1]  # shorter than the first time: its middle
    assert target_times(10.0, VideoSampling(max_frames=4)) == [1.25, 3.75, 6.25, 8.75]
    assert target_times(2.0, VideoSampling(frames=4)) == [0.25, 0.75, 1.25, 1.75]


@pytest.mark.parametrize(
    ("size", "sampling", "expected"),
    [
        ((854, 480), VideoSampling(), (588, 308)),  # qwen-vl-utils' smart_resize, by hand
        ((1280, 720), VideoSampling(), (588, 336)),
        ((160, 120), VideoSampling(), (168, 112)),  # small: only rounded to multiples of 28
        ((20, 10), VideoSampling(), (28, 28)),
        ((20, 10), VideoSampling(min_pixels=28 * 28 * 4), (84, 56)),  # scaled up, ceil
        ((1280, 720), VideoSampling(multiple=None), (597, 336)),
        ((100, 50), VideoSampling(multiple=None), (100, 50)),
        ((10, 5), VideoSampling(multiple=None, min_pixels=200), (20, 10)),
    ],
)
def test_resized_size(
    size: tuple[int, int], sampling: VideoSampling, expected: tuple[int, int]
) -> None:
    assert resized_size(*size, sampling) == expected


# -- real files -----------------------------------------------------------------------------


def test_two_fps_takes_the_frame_on_screen_at_each_interval_middle(clip: Path) -> None:
    result = sample_frames(clip, RAW)
    # 0.25 s, 0.75 s, ... at 24 fps: frame k is on screen from k/24 s, so frames 6, 18, 30, 42
    assert result.timestamps == (0.25, 0.75, 1.25, 1.75)
    assert [shown(frame) for frame in result.frames] == [6, 18, 30, 42]
    assert result.frames.shape == (4, HEIGHT, WIDTH, 3)
    assert result.frames.dtype == np.uint8
    assert result.duration == pytest.approx(2.0, abs=0.001)  # WebM, MKV: whole milliseconds
    assert result.source_fps == pytest.approx(24.0, abs=0.02)


def test_every_frame_is_found_at_its_own_time(clip: Path) -> None:
    result = frames_at(clip, [k / FPS for k in range(FRAMES)], RAW)
    assert [shown(frame) for frame in result.frames] == list(range(FRAMES))


def test_seeking_gives_the_same_frames_as_decoding_everything(clip: Path) -> None:
    times = [0.1, 1.6, 1.65, 1.99]  # frames 2, 38, 39, 47: a jump of six 6-frame GOPs
    fast = frames_at(clip, times, RAW)
    full = frames_at(clip, times, RAW, fast=False)
    assert [shown(frame) for frame in fast.frames] == [2, 38, 39, 47]
    assert np.array_equal(fast.frames, full.frames)
    assert fast.timestamps == full.timestamps
    assert fast.decoded < full.decoded == FRAMES


def test_skipping_unreferenced_frames_gives_the_same_frames(clip: Path) -> None:
    every_fifth = [k / FPS for k in range(0, FRAMES, 5)]  # dense: no seeking, only skipping
    fast = frames_at(clip, every_fifth, RAW)
    full = frames_at(clip, every_fifth, RAW, fast=False)
    assert [shown(frame) for frame in fast.frames] == list(range(0, FRAMES, 5))
    assert np.array_equal(fast.frames, full.frames)
    if clip.parent.name.startswith(("libx264", "libx265")):  # B-frames nothing refers to
        assert fast.decoded < full.decoded
    assert np.array_equal(sample_frames(clip).frames, sample_frames(clip, fast=False).frames)


def test_frames_are_the_ones_a_plain_decode_gives(clip: Path) -> None:
    # the stream probe on opening decodes nothing; the frames' decoder must not inherit that
    times = [k / FPS for k in (0, 7, 30, 47)]
    sampled = frames_at(clip, times, RAW)
    with av.open(str(clip)) as container:
        plain = [frame for k, frame in enumerate(container.decode(video=0)) if k in (0, 7, 30, 47)]
    expected = np.stack([_rgb(frame, (WIDTH, HEIGHT)) for frame in plain])
    assert np.array_equal(sampled.frames, expected)


@pytest.mark.parametrize("suffix", [".mov", ".ts", ".flv"])
def test_other_containers(tmp_path: Path, suffix: str) -> None:
    path = encode(tmp_path / f"clip{suffix}")  # .ts and .flv are read from the start
    times = [k / FPS + 0.01 for k in (2, 14, 20, 38, 39, 47)]
    fast = frames_at(path, times, RAW)
    assert [shown(frame) for frame in fast.frames] == [2, 14, 20, 38, 39, 47]
    assert np.array_equal(fast.frames, frames_at(path, times, RAW, fast=False).frames)


def test_the_frame_returned_is_the_last_one_shown_at_or_before_the_time(h264: Path) -> None:
    times = [0.0, 5 / 24, 5 / 24 - 0.001, 0.5 + 1e-9, 47 / 24 + 0.03, 100.0]
    result = frames_at(h264, times, RAW)
    assert [shown(frame) for frame in result.frames] == [0, 5, 4, 12, 47, 47]
    assert result.timestamps == (0.0, 5 / 24, 4 / 24, 0.5, 47 / 24, 47 / 24)


def test_fixed_count_spreads_frames_evenly(h264: Path) -> None:
    result = sample_frames(h264, VideoSampling(frames=8, multiple=None))
    assert [shown(frame) for frame in result.frames] == [3 + 6 * i for i in range(8)]


def test_more_frames_than_the_video_has_repeat_what_is_on_screen(h264: Path) -> None:
    short = encode(h264.parent / "short.mp4", count=3)  # 0.125 s
    result = sample_frames(short, VideoSampling(frames=6, multiple=None))
    assert [shown(frame) for frame in result.frames] == [0, 0, 1, 1, 2, 2]


def test_variable_frame_rate_uses_each_frames_own_time(vfr: Path) -> None:
    result = sample_frames(vfr, RAW)
    # on screen at 0.25, 0.75, 1.25 and 1.75 s: the frames shown from 0.15, 0.42, 1.0, 1.7 s
    assert result.timestamps == (0.15, 0.42, 1.0, 1.7)
    assert [shown(frame) for frame in result.frames] == [2, 4, 6, 8]
    assert result.duration > 1.99
    assert result.source_fps == pytest.approx(10 / result.duration)
    full = sample_frames(vfr, RAW, fast=False)
    assert np.array_equal(result.frames, full.frames)


def test_frames_are_resized_with_the_aspect_ratio_and_multiples(h264: Path) -> None:
    sampling = VideoSampling(max_pixels=56 * 56)
    result = sample_frames(h264, sampling)
    assert (result.width, result.height) == resized_size(WIDTH, HEIGHT, sampling) == (56, 28)
    assert result.frames.shape == (4, 28, 56, 3)
    assert [shown(frame) for frame in result.frames] == [6, 18, 30, 42]
    assert result.sampling is sampling


def test_same_file_and_config_give_identical_bytes(h264: Path) -> None:
    first, second = sample_frames(h264), sample_frames(h264)
    assert isinstance(first, SampledFrames)
    assert first.frames.tobytes() == second.frames.tobytes()
    assert first.timestamps == second.timestamps


def test_resizing_is_close_to_converting_first_and_resizing_with_pil(h264: Path) -> None:
    sampling = VideoSampling(max_pixels=64 * 48, multiple=None)
    small = sample_frames(h264, sampling)
    full = frames_at(h264, list(small.timestamps), RAW)
    size = (small.width, small.height)
    pil = np.stack(
        [np.asarray(Image.fromarray(f).resize(size, Image.Resampling.BICUBIC)) for f in full.frames]
    )
    difference = np.abs(small.frames.astype(int) - pil)
    assert size == (64, 48)
    assert difference.mean() < 2


def test_sample_many_gives_what_sample_frames_gives_in_order(h264: Path, vfr: Path) -> None:
    paths = [h264, vfr, h264, vfr, vfr]
    results = list(sample_many(paths, RAW, workers=2))
    assert [r.timestamps for r in results] == [sample_frames(p, RAW).timestamps for p in paths]
    for path, result in zip(paths, results, strict=True):
        assert np.array_equal(result.frames, sample_frames(path, RAW).frames)
        assert result.frames.tobytes() == sample_frames(path, RAW, threaded=False).frames.tobytes()


def test_sample_many_raises_at_the_bad_videos_turn(h264: Path, tmp_path: Path) -> None:
    results = sample_many([h264, tmp_path / "gone.mp4", h264], workers=1)
    assert next(results).timestamps == sample_frames(h264).timestamps
    with pytest.raises(SamplingError, match=r"gone\.mp4: no such file"):
        next(results)


def test_sample_many_needs_a_worker(h264: Path) -> None:
    with pytest.raises(ValueError, match="workers must be at least 1"):
        list(sample_many([h264], workers=0))


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_frames_of_a_rotated_video_are_turned_upright(tmp_path: Path, rotation: int) -> None:
    from scine.video.probe import probe

    path = encode(tmp_path / "turned.mp4", count=12, rotation=rotation)
    taken = sample_frames(path, VideoSampling(frames=3, max_pixels=WIDTH * HEIGHT, multiple=None))
    turns = rotation // 90 % 4
    upright = (HEIGHT, WIDTH) if turns % 2 == 0 else (WIDTH, HEIGHT)
    assert taken.frames.shape[1:3] == upright
    assert (taken.width, taken.height) == upright[::-1]
    for frame, time in zip(taken.frames, taken.timestamps, strict=True):
        expected = np.rot90(picture(round(time * FPS)), turns).astype(float)
        assert np.abs(frame.astype(float) - expected).mean() < 8
    found = probe(path)
    assert (found.width, found.height, found.rotation) == (*upright[::-1], turns * 90)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SamplingError, match=r"nothing\.mp4: no such file"):
        sample_frames(tmp_path / "nothing.mp4")


def test_not_a_video(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("not a video\n")
    with pytest.raises(
        SamplingError, match=r"notes\.mp4: not a readable video file \(Invalid data found"
    ):
        sample_frames(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.touch()
    with pytest.raises(SamplingError, match=r"empty\.mp4: empty file \(0 bytes\)$"):
        sample_frames(path)


def test_no_video_stream(tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 800), np.int16), format="s16", layout="mono"
        )
        frame.sample_rate = 8000
        out.mux(stream.encode(frame))
        out.mux(stream.encode())
    with pytest.raises(SamplingError, match=r"tone\.wav: no video stream \(streams found: audio\)"):
        sample_frames(path)


def test_video_stream_without_frames(tmp_path: Path) -> None:
    path = tmp_path / "empty.mkv"
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        audio = out.add_stream("aac", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 8000), np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate, frame.pts = 8000, 0
        out.mux(audio.encode(frame))
        out.mux(audio.encode())
    with pytest.raises(SamplingError, match=r"empty\.mkv: the video stream has no frames"):
        sample_frames(path)


def test_timestamps_out_of_display_order(tmp_path: Path) -> None:
    path = encode(tmp_path / "b-frames.avi")  # AVI stores no presentation times
    with pytest.raises(SamplingError, match=r"b-frames\.avi: .* not in display order"):
        sample_frames(path)


def test_bad_times(h264: Path) -> None:
    with pytest.raises(ValueError, match="at least one time"):
        frames_at(h264, [])
    with pytest.raises(ValueError, match="finite and >= 0"):
        frames_at(h264, [-1.0])
    with pytest.raises(ValueError, match="max_frames is 2"):
        frames_at(h264, [0.0, 0.1, 0.2], VideoSampling(max_frames=2))


def test_import_is_cheap() -> None:
    code = (
        "import json, sys, scine.video, scine.video.sample; "
        "print(json.dumps(sorted({'av', 'numpy', 'cv2', 'torch', 'PIL'} & set(sys.modules))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []

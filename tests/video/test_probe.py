"""Probing real files encoded here with PyAV: figures of good files, a reason for each bad one."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from scine.video.probe import Probe, probe

MP4 = "QuickTime / MOV"


def encode(
    path: Path,
    *,
    width: int = 64,
    height: int = 48,
    frames: int = 12,
    fps: int = 24,
    codec: str = "libx264",
    fmt: str | None = None,
    options: dict[str, str] | None = None,
    seed: int = 0,
) -> Path:
    """Encode a clip of seeded noise (so every frame costs bytes) and return its path."""
    rng = np.random.default_rng(seed)
    pix_fmt = "rgb8" if codec == "gif" else "yuv420p"
    with av.open(path, "w", format=fmt, options=options or {}) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        for _ in range(frames):
            pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def encode_audio(path: Path, codec: str = "aac", fmt: str | None = None) -> Path:
    """Encode half a second of a 440 Hz tone, with no video stream."""
    rate = 48000
    with av.open(path, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "mono"
        size = stream.codec_context.frame_size or 960
        for index in range(rate // 2 // size):
            samples = np.arange(index * size, (index + 1) * size, dtype=np.float32) / rate
            tone = np.sin(2 * np.pi * 440 * samples).astype(np.float32)[None, :]
            frame = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = rate, index * size
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def cut(path: Path, size: int, name: str | None = None) -> Path:
    """A copy of the first ``size`` bytes of a file."""
    target = path.with_name(name or f"cut-{path.name}")
    target.write_bytes(path.read_bytes()[:size])
    return target


def bad(found: Probe) -> str:
    assert not found.ok
    assert found.reason is not None
    return found.reason


@pytest.mark.parametrize(
    ("name", "codec", "container"),
    [
        ("clip.mp4", "libx264", "mov,mp4,m4a,3gp,3g2,mj2"),
        ("clip.mov", "libx264", "mov,mp4,m4a,3gp,3g2,mj2"),
        ("clip.m4v", "libx264", "mov,mp4,m4a,3gp,3g2,mj2"),
        ("clip.mkv", "libx265", "matroska,webm"),
        ("clip.webm", "libvpx-vp9", "matroska,webm"),
        ("clip.avi", "mpeg4", "avi"),
        ("clip.MP4", "libx264", "mov,mp4,m4a,3gp,3g2,mj2"),
    ],
)
def test_good_files_give_what_was_encoded(
    tmp_path: Path, name: str, codec: str, container: str
) -> None:
    fmt = "mp4" if name.lower().endswith((".mp4", ".m4v")) else None
    path = encode(tmp_path / name, codec=codec, fmt=fmt)
    found = probe(path)
    assert found == Probe(
        ok=True,
        duration=pytest.approx(0.5),  # type: ignore[arg-type]
        fps=24.0,
        frames=12,
        width=64,
        height=48,
        codec={"libx264": "h264", "libx265": "hevc", "libvpx-vp9": "vp9"}.get(codec, codec),
        container=container,
        size_bytes=path.stat().st_size,
    )


def test_other_rate_and_length(tmp_path: Path) -> None:
    found = probe(encode(tmp_path / "c.mp4", frames=20, fps=30, width=80, height=32))
    assert found.ok
    assert (found.frames, found.fps, found.width, found.height) == (20, 30.0, 80, 32)
    assert found.duration == pytest.approx(20 / 30)


def test_gif_keeps_its_own_clock(tmp_path: Path) -> None:
    # GIF delays are whole centiseconds: 1/24 s becomes 4 cs, so the average rate reads 25
    found = probe(encode(tmp_path / "c.gif", codec="gif"))
    assert found.ok
    assert (found.frames, found.codec, found.container) == (12, "gif", "gif")
    assert found.fps == pytest.approx(25.0)


def test_missing_file(tmp_path: Path) -> None:
    assert probe(tmp_path / "nothing.mp4") == Probe(ok=False, reason="file not found")


def test_directory(tmp_path: Path) -> None:
    assert bad(probe(tmp_path)) == "not a file but a directory"


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.mp4").write_bytes(b"")
    found = probe(tmp_path / "e.mp4")
    assert (bad(found), found.size_bytes) == ("empty file (0 bytes)", 0)


def test_mp4_cut_in_half_with_index_in_front(tmp_path: Path) -> None:
    path = encode(tmp_path / "c.mp4", options={"movflags": "+faststart"})
    found = probe(cut(path, path.stat().st_size // 2))
    assert bad(found).startswith("truncated: decoding stopped at frame ")
    assert bad(found).endswith(" of 12")
    assert found.frames is not None
    assert 0 < found.frames < 12


def test_mp4_cut_in_half_loses_its_index(tmp_path: Path) -> None:
    # FFmpeg writes the index ('moov') last by default: half a file has none
    path = encode(tmp_path / "c.mp4")
    half = path.stat().st_size // 2
    reason = bad(probe(cut(path, half)))
    assert reason.startswith(f"truncated: the file ends at byte {half}, inside its 'mdat' box")
    assert reason.endswith("and it has no index ('moov' box)")


def test_mp4_with_index_but_no_frames(tmp_path: Path) -> None:
    path = encode(tmp_path / "c.mp4", options={"movflags": "+faststart"})
    data = path.read_bytes()
    reason = bad(probe(cut(path, data.index(b"mdat") + 4)))
    assert reason.startswith("no decodable frames")
    assert reason.endswith("the header promises 12: the file is probably truncated")


def test_matroska_cut_in_half(tmp_path: Path) -> None:
    path = encode(tmp_path / "c.mkv")
    reason = bad(probe(cut(path, path.stat().st_size // 2)))
    assert reason.startswith("truncated: decoding stopped at frame ")
    assert reason.endswith(" of 12")


def encode_variable_rate(path: Path, frames: int = 24) -> Path:
    """Frames shown alternately 1/24 s and 1/12 s (a variable frame rate), noise content."""
    rng = np.random.default_rng(0)
    with av.open(path, "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 24)
        for index in range(frames):
            pixels = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = index * 3 // 2, Fraction(1, 24)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.mark.parametrize("name", ["vfr.mkv", "vfr.mp4"])
def test_a_variable_frame_rate_is_read_whole(tmp_path: Path, name: str) -> None:
    found = probe(encode_variable_rate(tmp_path / name))
    assert found.ok, found.reason
    assert found.frames == 24
    assert found.duration is not None
    assert found.fps is not None
    assert found.fps == pytest.approx(24 / found.duration, rel=0.02)  # not the guessed 24


def test_a_variable_frame_rate_matroska_cut_in_half_is_still_truncated(tmp_path: Path) -> None:
    path = encode_variable_rate(tmp_path / "vfr.mkv", frames=48)
    assert bad(probe(cut(path, path.stat().st_size // 2))).startswith("truncated: ")


def test_avi_cut_in_half(tmp_path: Path) -> None:
    path = encode(tmp_path / "c.avi", codec="mpeg4")
    reason = bad(probe(cut(path, path.stat().st_size // 2)))
    assert reason.startswith("truncated: decoding stopped at frame ")
    assert reason.endswith(" of 12")


def test_avi_cut_before_its_frames(tmp_path: Path) -> None:
    # FFmpeg cannot open it at all; the RIFF header still tells how long it should be
    path = encode(tmp_path / "c.avi", codec="mpeg4")
    size = path.stat().st_size
    reason = bad(probe(cut(path, 1000)))
    assert reason == f"truncated: the file has 1000 of the {size} bytes its header declares"


def test_gif_cut_in_half(tmp_path: Path) -> None:
    path = encode(tmp_path / "c.gif", codec="gif")
    reason = bad(probe(cut(path, path.stat().st_size // 2)))
    assert reason.startswith("truncated: the GIF ends without its trailer, after frame ")


@pytest.mark.parametrize(
    ("name", "codec", "fmt"),
    [("a.mp4", "aac", None), ("a.mkv", "libmp3lame", None), ("a.webm", "libopus", None)],
)
def test_audio_only(tmp_path: Path, name: str, codec: str, fmt: str | None) -> None:
    found = probe(encode_audio(tmp_path / name, codec, fmt))
    assert bad(found) == "no video stream (audio only)"


def test_text_extension_on_a_real_video_is_refused_and_the_content_named(
    tmp_path: Path,
) -> None:
    path = encode(tmp_path / "c.mp4").rename(tmp_path / "c.txt")
    reason = bad(probe(path))
    assert reason.startswith("extension .txt is not a video file type (.mp4 .mov")
    assert reason.endswith(f"the content is {MP4} video (h264 64x48)")


def test_video_extension_on_text(tmp_path: Path) -> None:
    path = tmp_path / "c.mp4"
    path.write_text("prompt_id,model,path\np1,m,c.mp4\n")
    assert bad(probe(path)).startswith("not a video container FFmpeg can read: Invalid data")


def test_text_extension_on_text(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a video\n")
    reason = bad(probe(path))
    assert reason.startswith("extension .txt is not a video file type")
    assert "the content is not a video container FFmpeg can read" in reason


def test_no_extension(tmp_path: Path) -> None:
    path = encode(tmp_path / "c.mp4").rename(tmp_path / "clip")
    assert bad(probe(path)).startswith("no file extension (expected one of .mp4")


def test_extension_of_another_container(tmp_path: Path) -> None:
    path = encode(tmp_path / "c.mkv").rename(tmp_path / "c.mp4")
    reason = bad(probe(path))
    assert reason == "extension .mp4 does not match the content: Matroska / WebM video (h264 64x48)"


def test_over_the_side_limit(tmp_path: Path) -> None:
    found = probe(encode(tmp_path / "wide.mp4", width=8200, height=16, frames=2))
    assert bad(found) == (
        "resolution 8200x16 over the limit of 8192 pixels per side / 40 megapixels"
    )
    assert (found.width, found.height) == (8200, 16)


def test_over_the_pixel_limit(tmp_path: Path) -> None:
    # 8000x5008 is 40.06 megapixels, every side under 8192: one black frame, encoded for real
    path = tmp_path / "big.mp4"
    with av.open(path, "w") as container:
        stream = container.add_stream("libx264", rate=24, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 8000, 5008, "yuv420p"
        frame = av.VideoFrame(8000, 5008, "yuv420p")
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    assert bad(probe(path)).startswith("resolution 8000x5008 over the limit")


def test_random_bytes_never_raise(tmp_path: Path) -> None:
    path = tmp_path / "noise.webm"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    assert bad(probe(path)).startswith("not a video container FFmpeg can read")

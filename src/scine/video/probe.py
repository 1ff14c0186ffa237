"""Check that a file is a usable video and read its figures, without ever raising.

``probe(path)`` opens the file with PyAV (FFmpeg), checks the extension against the content,
the resolution against the limits, and decodes every frame, so a file cut short is caught
even when its header looks complete. A bad file gives ``ok=False`` and a reason written for
people ("truncated: decoding stopped at frame 31 of 120").
"""

from __future__ import annotations

import itertools
import stat
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

__all__ = [
    "MAX_PIXELS",
    "MAX_SIDE",
    "VIDEO_EXTENSIONS",
    "Probe",
    "ffmpeg_reason",
    "probe",
    "quarter_turns",
    "shown_size",
]

MAX_SIDE = 8192
MAX_PIXELS = 40_000_000

# Extension -> the FFmpeg demuxer its content must be read by.
VIDEO_EXTENSIONS: dict[str, str] = {
    ".mp4": "mov,mp4,m4a,3gp,3g2,mj2",
    ".mov": "mov,mp4,m4a,3gp,3g2,mj2",
    ".m4v": "mov,mp4,m4a,3gp,3g2,mj2",
    ".mkv": "matroska,webm",
    ".webm": "matroska,webm",
    ".avi": "avi",
    ".gif": "gif",
}
_TYPES = " ".join(VIDEO_EXTENSIONS)
_MP4_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide"}


@dataclass(frozen=True)
class Probe:
    """What ``probe`` found: ``ok`` and the figures, or ``ok=False`` and a ``reason``.

    ``duration`` is in seconds, ``fps`` the average frame rate and ``frames`` the number of
    frames actually decoded. ``width`` and ``height`` are as a player shows the video: turned
    upright when the file asks for a display ``rotation`` (degrees counter-clockwise). Figures
    known before a failure are filled in, the rest are None.
    """

    ok: bool
    reason: str | None = None
    duration: float | None = None
    fps: float | None = None
    frames: int | None = None
    width: int | None = None
    height: int | None = None
    codec: str | None = None
    container: str | None = None
    size_bytes: int | None = None
    rotation: int = 0


def probe(path: str | Path) -> Probe:
    """Probe one file; never raises for a bad file (see the module docstring)."""
    import av

    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        return Probe(ok=False, reason="file not found")
    except ValueError:  # a NUL character in the path
        return Probe(ok=False, reason="file not found (the path is not valid)")
    except OSError as exc:
        return Probe(ok=False, reason=f"cannot read: {exc.strerror or exc}")
    if stat.S_ISDIR(info.st_mode):
        return Probe(ok=False, reason="not a file but a directory")
    if not stat.S_ISREG(info.st_mode):
        return Probe(ok=False, reason="not a regular file")
    size = info.st_size
    if size == 0:
        return Probe(ok=False, reason="empty file (0 bytes)", size_bytes=0)
    try:
        container = av.open(path, "r")
    except (av.FFmpegError, OSError) as exc:
        reason = (
            _cut_short(path, size) or f"not a video container FFmpeg can read: {ffmpeg_reason(exc)}"
        )
        if path.suffix.lower() not in VIDEO_EXTENSIONS:
            reason = f"{_bad_extension(path)}; the content is {reason}"
        return Probe(ok=False, reason=reason, size_bytes=size)
    try:
        with container:
            return _probe_open(path, size, container)
    except (av.FFmpegError, OSError) as exc:
        return Probe(ok=False, reason=f"cannot read: {ffmpeg_reason(exc)}", size_bytes=size)


def _probe_open(path: Path, size: int, container: InputContainer) -> Probe:
    found = Probe(ok=False, container=container.format.name, size_bytes=size)
    stream = _video_stream(container)
    reason = _content_problem(path, container, stream)
    if reason is not None or stream is None:
        return replace(found, reason=reason or "no video stream")
    width, height = stream.width, stream.height
    found = replace(found, width=width, height=height, codec=stream.codec_context.name)
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        reason = (
            f"resolution {width}x{height} over the limit of {MAX_SIDE} pixels per side / "
            f"{MAX_PIXELS / 1e6:g} megapixels"
        )
        return replace(found, reason=reason)
    return _decode_all(path, container, stream, found)


def _video_stream(container: InputContainer) -> VideoStream | None:
    """The first video stream that is not cover art (an attached picture)."""
    from av.stream import Disposition

    streams = container.streams.video
    return next((s for s in streams if not s.disposition & Disposition.attached_pic), None)


def _content_problem(
    path: Path, container: InputContainer, stream: VideoStream | None
) -> str | None:
    """Why the content does not fit the extension, or there is no video; None if it fits."""
    fmt = container.format.name
    kinds = sorted({s.type for s in container.streams if s is not stream})
    if stream is None:
        content = f"{container.format.long_name} with no video stream"
    else:
        size = f"{stream.width}x{stream.height}"
        content = f"{container.format.long_name} video ({stream.codec_context.name} {size})"
    extension = path.suffix.lower()
    if extension not in VIDEO_EXTENSIONS:
        return f"{_bad_extension(path)}; the content is {content}"
    if VIDEO_EXTENSIONS[extension] != fmt:
        return f"extension {extension} does not match the content: {content}"
    if stream is None:
        if kinds == ["audio"]:
            return "no video stream (audio only)"
        return f"no video stream (streams: {', '.join(kinds) or 'none'})"
    return None


def _decode_all(path: Path, container: InputContainer, stream: VideoStream, found: Probe) -> Probe:
    """Decode every frame; compare the count with what the header promises."""
    import av

    decoded, error, shown = 0, None, None
    times: list[float] = []
    try:
        for frame in container.decode(stream):
            decoded += 1
            if frame.time is not None:
                times.append(frame.time)
            if shown is None:  # as a player shows it: turned upright
                shown = (*shown_size(frame), 90 * quarter_turns(frame))
    except av.FFmpegError as exc:
        error = ffmpeg_reason(exc)
    fps = _fps(stream, container, decoded)
    duration = _duration(stream, container, decoded, fps)
    expected, slack = _expected_frames(stream, duration, fps)
    if not stream.frames and duration and _irregular(times):
        fps = decoded / duration  # a variable rate: the header's rate is a guess
    reason = None
    if decoded == 0:
        reason = "no decodable frames" + (f" ({error})" if error else "")
        if expected:
            reason += f"; the header promises {expected}: the file is probably truncated"
    elif decoded < expected - slack and not _reaches_the_end(times, duration):
        reason = f"truncated: decoding stopped at frame {decoded} of {expected}"
    elif error:
        reason = f"decoding failed after frame {decoded}: {error}"
    elif found.container == "gif" and _last_byte(path) != b";":
        reason = f"truncated: the GIF ends without its trailer, after frame {decoded}"
    elif fps is None:
        reason = "no frame rate in the file"
    figures = replace(found, duration=duration, fps=fps, frames=decoded)
    if shown is not None:
        width, height, rotation = shown
        figures = replace(figures, width=width, height=height, rotation=rotation)
    return replace(figures, ok=reason is None, reason=reason)


def _fps(stream: VideoStream, container: InputContainer, decoded: int) -> float | None:
    for rate in (stream.average_rate, stream.guessed_rate):
        if rate:
            return float(rate)
    seconds = container.duration / 1_000_000 if container.duration else None
    return decoded / seconds if seconds and decoded else None


def _duration(
    stream: VideoStream, container: InputContainer, decoded: int, fps: float | None
) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return float(Fraction(container.duration, 1_000_000))
    return decoded / fps if fps else None


def _expected_frames(
    stream: VideoStream, duration: float | None, fps: float | None
) -> tuple[int, int]:
    """Frames the header promises and the shortfall tolerated (0 when unknown).

    The frame count when the container has one (MP4, AVI): exact. Otherwise duration x rate
    (Matroska, WebM), one frame of slack for the rounding of durations.
    """
    if stream.frames:
        return stream.frames, 0
    if duration and fps:
        return round(duration * fps), 1
    return 0, 0


def _gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def _irregular(times: list[float]) -> bool:
    """Whether frames come at uneven intervals (a variable frame rate)."""
    gaps = _gaps(times)
    return len(gaps) > 1 and max(gaps) > 1.1 * min(gaps)


def _reaches_the_end(times: list[float], duration: float | None) -> bool:
    """Whether the last frame decoded is shown within one of the longest frame gaps of the
    end: a complete file of variable rate holds fewer frames than duration x header rate."""
    if not duration or not _irregular(times):
        return False
    return times[-1] + 1.5 * max(_gaps(times)) >= duration


def _bad_extension(path: Path) -> str:
    if not path.suffix:
        return f"no file extension (expected one of {_TYPES})"
    return f"extension {path.suffix} is not a video file type ({_TYPES})"


def quarter_turns(frame: VideoFrame) -> int:
    """Counter-clockwise quarter turns the frame's display matrix asks for (phone videos
    filmed upright are stored sideways with a rotation of 90 or -90 degrees)."""
    return round((frame.rotation or 0) / 90) % 4


def shown_size(frame: VideoFrame) -> tuple[int, int]:
    """(width, height) of the frame as a player shows it, turned upright."""
    if quarter_turns(frame) % 2:
        return frame.height, frame.width
    return frame.width, frame.height


def ffmpeg_reason(exc: BaseException) -> str:
    """FFmpeg's message without the file name PyAV appends."""
    strerror = getattr(exc, "strerror", None)
    return str(strerror) if strerror else str(exc)


def _last_byte(path: Path) -> bytes:
    with path.open("rb") as handle:
        handle.seek(-1, 2)
        return handle.read(1)


def _cut_short(path: Path, size: int) -> str | None:
    """Explain an unreadable MP4/MOV or AVI whose structure says the file was cut short."""
    try:
        return _walk_structure(path, size)
    except OSError:
        return None


def _walk_structure(path: Path, size: int) -> str | None:
    with path.open("rb") as handle:
        head = handle.read(12)
        if head[:4] == b"RIFF" and len(head) >= 8:
            declared = int.from_bytes(head[4:8], "little") + 8
            if declared > size:
                return f"truncated: the file has {size} of the {declared} bytes its header declares"
            return None
        if head[4:8] not in _MP4_BOXES:
            return None
        offset, boxes = 0, set()
        while offset + 8 <= size:
            handle.seek(offset)
            header = handle.read(16)
            box_size, box = int.from_bytes(header[:4], "big"), header[4:8]
            if box_size == 1 and len(header) == 16:
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:
                box_size = size - offset
            if box_size < 8:
                return None
            boxes.add(box)
            if offset + box_size > size:
                name = box.decode("latin-1")
                missing = "" if b"moov" in boxes else ", and it has no index ('moov' box)"
                return (
                    f"truncated: the file ends at byte {size}, inside its '{name}' box that "
                    f"needs {offset + box_size} bytes{missing}"
                )
            offset += box_size
        if b"moov" not in boxes:
            return "an MP4/MOV without its index ('moov' box): the recording was never finished"
    return None

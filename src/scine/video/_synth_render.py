"""Frames of a synthetic shot, and their encoding with PyAV."""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ._synth_camera import ROLL_SHAKE, Plan, compose, plan, source_map
from ._synth_light import grade, level_lut, light_levels
from ._synth_photos import load_inverse_depth, load_photo
from ._synth_subject import paint_ball, plan_track

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from ._synth_light import Grade
    from ._synth_spec import ShotSpec

T = TypeVar("T")

SHAKE_HZ = (0.4, 2.0)  # frequency range of the handheld sway components
MAP_STEP = 2  # depth-aware warps are solved every MAP_STEP pixels, then interpolated
# One encoder thread: x264 with two threads gave different bytes for the same frames when
# the machine was busy; one thread is deterministic, and frames are made on another core.
ENCODER_THREADS = 1

# Encoder options per codec: `crf` is filled in (mpeg4 has no CRF: a fixed quantiser instead).
CODECS: dict[str, dict[str, str]] = {
    # x264's macroblock tree gave different bytes for the same frames now and then, even
    # single-threaded, depending on what the process did before; ultrafast has it off, and
    # it stays off when another preset is asked for
    "libx264": {"preset": "ultrafast", "x264-params": "mbtree=0"},
    "libx265": {"preset": "ultrafast", "x265-params": "log-level=error:pools=1:frame-threads=1"},
    "libvpx-vp9": {"b": "0", "deadline": "realtime", "cpu-used": "8", "row-mt": "0"},
    "libsvtav1": {"preset": "12", "svtav1-params": "lp=1"},
    "mpeg4": {},
}
CONTAINERS = {".mp4": "mp4", ".mkv": "matroska", ".webm": "webm", ".mov": "mov"}


def frames(spec: ShotSpec, seed: int) -> tuple[Iterator[NDArray[np.uint8]], Plan, Grade]:
    """The shot's RGB frames (lazily), its camera plan and its grade."""
    import numpy as np

    shot = plan(spec)
    shake_rng, light_rng, subject_rng = (
        np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(3)
    )
    photo = load_photo(spec.photo)
    look = grade(photo, spec)
    return _frames(spec, shot, look, shake_rng, light_rng, subject_rng), shot, look


def _frames(
    spec: ShotSpec,
    shot: Plan,
    look: Grade,
    shake_rng: np.random.Generator,
    light_rng: np.random.Generator,
    subject_rng: np.random.Generator,
) -> Iterator[NDArray[np.uint8]]:
    import cv2
    import numpy as np

    shake = _shake(spec, shake_rng) if spec.handheld else None
    levels = light_levels(spec, light_rng)
    photo = look.apply(load_photo(spec.photo))
    depth: NDArray[np.float32] | None = None
    if shot.depth:
        depth = load_inverse_depth(spec.photo)
    track = plan_track(shot, spec.subject, subject_rng) if spec.subject else None
    # Shrink the photo first when the frame would sample it sparsely (small output sizes).
    shrink = min(1.0, shot.magnification / shot.scale)
    to_source = np.array([[shrink, 0, (shrink - 1) / 2], [0, shrink, (shrink - 1) / 2], [0, 0, 1]])
    if shrink < 1.0:
        small = cv2.resize(photo, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
        photo = np.asarray(small, dtype=np.uint8)
        if depth is not None:
            size = (photo.shape[1], photo.shape[0])
            depth = np.asarray(
                cv2.resize(depth, size, interpolation=cv2.INTER_AREA), dtype=np.float32
            )
    matrices = compose(to_source, shot.matrices(shake))
    size = (shot.width, shot.height)
    warp = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    border = cv2.BORDER_REFLECT101  # a safety net: the planned frames stay inside
    for index in range(shot.frames):
        source, source_depth = photo, depth
        if track is not None:
            source = photo.copy()
            source_depth = None if depth is None else depth.copy()
            u = shrink * track.u[index] + (shrink - 1) / 2
            v = shrink * track.v[index] + (shrink - 1) / 2
            paint_ball(source, u, v, track.radius * shrink, track.colour, look.apply, source_depth)
        matrix = matrices[index]
        if source_depth is not None and shot.moves:
            map_u, map_v = source_map(shot, index, shake, source_depth, MAP_STEP, to_source)
            fixed, fraction = cv2.convertMaps(map_u, map_v, cv2.CV_16SC2)
            frame = cv2.remap(
                source, fixed, fraction, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101
            )
        elif matrix[2, 0] == 0 and matrix[2, 1] == 0:  # no perspective: the faster affine warp
            frame = cv2.warpAffine(
                source, matrix[:2] / matrix[2, 2], size, flags=warp, borderMode=border
            )
        else:
            frame = cv2.warpPerspective(source, matrix, size, flags=warp, borderMode=border)
        if levels is not None:
            frame = cv2.LUT(frame, level_lut(float(levels[index])))
        yield np.asarray(frame, dtype=np.uint8)


def prefetch(items: Iterator[T], depth: int = 8) -> Iterator[T]:
    """Run ``items`` in a background thread, ``depth`` ahead, so making and encoding overlap.

    An exception in the producer is raised in the consumer; a consumer that stops early
    stops the producer.
    """
    import queue
    import threading

    buffer: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(("done", None))
        except BaseException as exc:  # handed to the consumer
            buffer.put(("error", exc))

    worker = threading.Thread(target=produce, name="scine-synth-frames", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = buffer.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        worker.join()


def _shake(spec: ShotSpec, rng: np.random.Generator) -> NDArray[np.float64]:
    """(frames, 3) yaw, pitch, roll sway in radians: three slow sines per axis, peak-bounded."""
    import numpy as np

    t = np.arange(spec.frames) / spec.fps
    amplitude = math.radians(spec.handheld)
    axes = []
    for scale in (1.0, 1.0, ROLL_SHAKE):
        hz = rng.uniform(*SHAKE_HZ, size=3)
        phase = rng.uniform(0, 2 * math.pi, size=3)
        weight = rng.uniform(0.5, 1.0, size=3)
        waves = np.sin(2 * math.pi * hz[:, None] * t[None, :] + phase[:, None])
        sway = weight[0] * waves[0] + weight[1] * waves[1] + weight[2] * waves[2]
        axes.append(amplitude * scale * sway / (weight[0] + weight[1] + weight[2]))
    result: NDArray[np.float64] = np.stack(axes, axis=1)
    return result


def encode(
    images: Iterable[NDArray[np.uint8]],
    path: Path,
    fps: float,
    size: tuple[int, int],
    codec: str,
    crf: int,
    preset: str | None,
) -> dict[str, str]:
    """Encode RGB frames to ``path`` (written atomically); returns the encoder options used."""
    import av
    import cv2
    import numpy as np

    container_format = CONTAINERS.get(path.suffix.lower())
    if container_format is None:
        raise ValueError(
            f"{path}: unknown video file type {path.suffix!r}; use one of {', '.join(CONTAINERS)}"
        )
    options = _options(codec, crf, preset, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        with av.open(temporary, "w", format=container_format) as container:
            stream: Any = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
            stream.width, stream.height = size
            stream.pix_fmt = "yuv420p"
            stream.options = options
            context = stream.codec_context
            context.thread_count = ENCODER_THREADS
            context.color_range = 1  # limited ("tv") range, what cv2's I420 conversion gives
            context.colorspace = 6  # BT.601 (SMPTE 170M) matrix, ditto
            context.color_primaries = 1  # BT.709 primaries = sRGB's
            context.color_trc = 13  # sRGB transfer
            for index, image in enumerate(images):
                planes = np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2YUV_I420), dtype=np.uint8)
                frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
                frame.pts = index
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        os.replace(temporary, path)
    except av.FFmpegError as exc:
        raise ValueError(f"{path}: cannot encode with {codec}: {exc}") from exc
    finally:
        Path(temporary).unlink(missing_ok=True)
    return options


def _options(codec: str, crf: int, preset: str | None, path: Path) -> dict[str, str]:
    if codec not in CODECS:
        raise ValueError(f"{path}: unknown codec {codec!r}; use one of {', '.join(CODECS)}")
    if not 0 <= crf <= 63:
        raise ValueError(f"{path}: crf {crf} is out of range (0-63; 0-51 for x264/x265)")
    options = dict(CODECS[codec])
    if codec == "mpeg4":
        quantiser = str(min(31, max(2, round(crf / 6))))
        options.update(qmin=quantiser, qmax=quantiser)
    else:
        options["crf"] = str(crf)
    if preset is not None:
        if "preset" not in options:
            raise ValueError(f"{path}: codec {codec} takes no preset")
        options["preset"] = preset
    return options

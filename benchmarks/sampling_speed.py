"""Speed of 2 fps frame sampling, side by side with qwen-vl-utils' video reader, same files.

    python benchmarks/sampling_speed.py [--clips 100] [--repeats 3] [--clips-dir DIR]
        [--reader auto|qwen|decord] [--check N]

Makes ``--clips`` five-second 480p (854x480) and 720p (1280x720) H.264 clips (libx264 as the
ffmpeg command line writes it: preset medium, frame threads so one slice per frame, 24 fps,
yuv420p; a seeded cloudy texture panning under a moving disc) in a temporary folder, or in
``--clips-dir`` where they are kept and reused. Then, per resolution, in one run and as the
best of ``--repeats`` passes over all clips, it times:

- theirs: ``qwen_vl_utils.fetch_video({"video": path, "fps": 2.0, "min_pixels": 784,
  "max_pixels": 448 * 448}, return_video_metadata=True)``, exactly as a user calls it, with
  the backend it picks itself (decord where torchcodec is not installed);
- ours at their frames: ``frames_at(path, [k / fps for k in their frame indices],
  VideoSampling(max_pixels=448 * 448))``: the same frames, the same output size;
- ours on our own schedule: ``sample_frames(path, VideoSampling(max_pixels=448 * 448))``
  (frames in the middle of each half second instead of ``linspace(0, n - 1, 10)``).

frames/s counts returned frames over wall time. Checks, untimed: our timestamps are their
``index / fps``; decord's frame k equals the k-th frame of a plain PyAV decode bit for bit
(FFmpeg's default YUV->RGB), and so does ours with our bit-exact conversion, so both return
the same frames; the resized outputs differ by the YUV->RGB path and the resize filter (PIL's
bicubic against torch's antialiased bicubic), reported as max and mean absolute differences.
Prints JSON.

qwen-vl-utils imports torchvision at module level, and torchvision has no CPU build for
torch 2.13 here: PyPI's torchvision 0.28.0 is ``+cu130`` and its import fails (``operator
torchvision::nms does not exist``: its ``_C.so`` needs ``libtorch_cuda.so``). The real
``fetch_video`` therefore runs on a GPU machine, whose python3 has torch 2.11 and
torchvision 0.26, with these wheels (``pip download --no-deps --only-binary=:all:
--python-version 3.12 ...`` into an ignored folder, carried there): qwen-vl-utils 0.0.14,
decord 0.6.0, av 18.1.0, pydantic 2.14.4 + pydantic-core, requests and their small needs::

    pip install --no-index --no-deps --target /tmp/site WHEELS/*.whl
    export PYTHONPATH=/tmp/site:$PWD/src
    python3 -c "import sys; sys.path.insert(0, 'benchmarks'); import sampling_speed as b; \
        from pathlib import Path; [b.clips(Path('/tmp/clips'), n, 100) for n in b.SIZES]"
    taskset -c 0,1 python3 benchmarks/sampling_speed.py --clips 100 --repeats 1 --check 5 \
        --clips-dir /tmp/clips            # 2 cores, as on the project's machines
    python3 benchmarks/sampling_speed.py --clips 100 --repeats 1 --check 10 \
        --clips-dir /tmp/clips            # all 16 cores

Without torchvision, ``--reader decord`` (or ``auto`` when ``qwen_vl_utils`` does not
import) times instead the code of its decord reader and of ``fetch_video``'s resize, copied
below, and says so in the JSON. A venv for that which reuses .venv (torch stays 2.13.0+cpu)::

    python3.11 -m venv /tmp/qwen-venv
    echo "import site; site.addsitedir('$PWD/.venv/lib/python3.11/site-packages')" \\
        > /tmp/qwen-venv/lib/python3.11/site-packages/scine-venv.pth
    /tmp/qwen-venv/bin/pip install --no-deps qwen-vl-utils==0.0.14 decord==0.6.0
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image

from scine.video.sample import (
    VideoSampling,
    _cpus,
    _rgb,
    frames_at,
    resized_size,
    sample_frames,
    sample_many,
)

FPS = 24
SECONDS = 5
SIZES = {"480p": (854, 480), "720p": (1280, 720)}
SAMPLING = VideoSampling(fps=2.0, max_pixels=448 * 448, min_pixels=28 * 28, multiple=28)
RAW = VideoSampling(max_pixels=10**8, multiple=None)  # no resizing
Frames = np.ndarray  # (T, H, W, 3) uint8
Reader = Callable[[Path], tuple[Frames, list[int], float]]  # frames, indices, fps


# -- clips ----------------------------------------------------------------------------------


def make_clip(path: Path, width: int, height: int, seed: int) -> Path:
    """Five seconds of a seeded cloudy texture panning under a moving disc, H.264 at 24 fps."""
    rng = np.random.default_rng(seed)
    canvas = np.zeros((2 * height, 2 * width, 3), np.float32)
    for cell, weight in ((64, 0.4), (16, 0.25), (4, 0.2), (2, 0.15)):  # octaves of noise
        noise = rng.integers(0, 256, (2 * height // cell + 1, 2 * width // cell + 1, 3), np.uint8)
        smooth = Image.fromarray(noise).resize((2 * width, 2 * height), Image.Resampling.BICUBIC)
        canvas += weight * np.asarray(smooth, np.float32)
    texture = canvas.astype(np.uint8)
    start = np.array([height, width]) // 2  # the view pans inside the 2x canvas
    velocity = rng.uniform(-1, 1, 2) * (start - 1) / (FPS * SECONDS)
    radius = height // 8
    yy, xx = np.ogrid[-radius:radius, -radius:radius]
    disc = yy**2 + xx**2 < radius**2
    partial = path.with_suffix(".part.mp4")
    with av.open(str(partial), "w") as out:
        stream = out.add_stream("libx264", rate=FPS, options={"preset": "medium"})
        stream.thread_type = "FRAME"  # one slice per frame, as the ffmpeg command line writes
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(FPS * SECONDS):
            y, x = (start + velocity * i).astype(int)
            image = np.ascontiguousarray(texture[y : y + height, x : x + width])
            cy = int(height / 2 + height / 3 * np.sin(i / 11 + seed))
            cx = int(width / 2 + width / 3 * np.cos(i / 17 + seed))
            image[cy - radius : cy + radius, cx - radius : cx + radius][disc] = (255, 200, 40)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode())
    partial.rename(path)
    return path


def clips(folder: Path, name: str, count: int) -> list[Path]:
    """``count`` clips of one resolution in ``folder``, made where missing."""
    width, height = SIZES[name]
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}_{i:03d}.mp4" for i in range(count)]
    todo = [i for i, path in enumerate(paths) if not path.exists()]
    log(f"making {len(todo)} {name} clips")
    with ProcessPoolExecutor(max_workers=max(1, (os.cpu_count() or 1) // 2)) as pool:
        jobs = [pool.submit(make_clip, paths[i], width, height, i) for i in todo]
        for job in jobs:
            job.result()
    log(f"{name} clips ready")
    return paths


# -- their reader ---------------------------------------------------------------------------


def qwen_reader() -> tuple[Reader, dict[str, str]]:
    """qwen-vl-utils' ``fetch_video``, called as a user calls it."""
    import qwen_vl_utils
    from qwen_vl_utils import vision_process

    def read(path: Path) -> tuple[Frames, list[int], float]:
        video, info = qwen_vl_utils.fetch_video(
            {"video": str(path), "fps": 2.0, "min_pixels": 784, "max_pixels": 448 * 448},
            return_video_metadata=True,
        )
        frames = video.permute(0, 2, 3, 1).numpy()  # float32 of uint8 values, (T, H, W, 3)
        return frames, [int(k) for k in info["frames_indices"]], float(info["fps"])

    backend = vision_process.get_video_reader_backend()
    return read, {
        "reader": f"qwen_vl_utils.fetch_video (backend {backend})",
        "qwen-vl-utils": metadata.version("qwen-vl-utils"),
    }


def decord_reader() -> tuple[Reader, dict[str, str]]:
    """qwen-vl-utils 0.0.14's ``_read_video_decord`` and ``fetch_video`` resize, copied."""
    import decord
    import torch

    def read(path: Path) -> tuple[Frames, list[int], float]:
        vr = decord.VideoReader(str(path))
        total, fps = len(vr), vr.get_avg_fps()
        # smart_nframes({"fps": 2.0}): FRAME_FACTOR 2, FPS_MIN_FRAMES 4, FPS_MAX_FRAMES 768
        nframes = min(max(total / fps * 2.0, 4), (min(768, total) // 2) * 2, total)
        idx = torch.linspace(0, total - 1, int(nframes // 2 * 2)).round().long().tolist()
        video = torch.tensor(vr.get_batch(idx).asnumpy()).permute(0, 3, 1, 2)
        width, height = resized_size(video.shape[3], video.shape[2], SAMPLING)
        # torchvision.transforms.functional.resize(uint8, BICUBIC, antialias=True).float()
        resized = torch.nn.functional.interpolate(
            video.float(), [height, width], mode="bicubic", align_corners=False, antialias=True
        )
        frames = resized.clamp(0, 255).round().to(torch.uint8).float()
        return frames.permute(0, 2, 3, 1).numpy(), idx, float(fps)

    return read, {"reader": "decord + torch: qwen-vl-utils' decord path copied (no torchvision)"}


# -- the run --------------------------------------------------------------------------------


def one_by_one(work: Callable[[Path], object]) -> Callable[[list[Path]], object]:
    return lambda paths: [work(path) for path in paths]


def many_at_once(work: Callable[[Path], object]) -> Callable[[list[Path]], object]:
    """``work`` over the paths in a pool of one thread per CPU, as ``sample_many`` runs."""

    def run(paths: list[Path]) -> object:
        with ThreadPoolExecutor(max_workers=_cpus()) as pool:
            return list(pool.map(work, paths))

    return run


def best_of(
    repeats: int, paths: list[Path], work: Callable[[list[Path]], object], what: str
) -> float:
    """The fastest of ``repeats`` timed passes of ``work`` over ``paths``, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work(paths)
        times.append(time.perf_counter() - start)
        log(f"{what}: {times[-1]:.2f} s for {len(paths)} clips")
    return min(times)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def check(path: Path, read: Reader) -> dict[str, Any]:
    """Are ours and theirs the same frames? How far apart are the pixels, and why?"""
    import decord

    theirs, idx, fps = read(path)
    times = [k / fps for k in idx]
    ours = frames_at(path, times, SAMPLING)
    ours_raw = frames_at(path, times, RAW)
    their_raw = decord.VideoReader(str(path)).get_batch(idx).asnumpy()
    with av.open(str(path)) as container:  # every frame in display order, nothing skipped
        plain = {k: f for k, f in enumerate(container.decode(video=0)) if k in idx or k == 0}
    size = (ours_raw.width, ours_raw.height)
    same_frames = all(
        np.array_equal(their_raw[i], plain[k].to_ndarray(format="rgb24"))  # FFmpeg's default
        and np.array_equal(ours_raw.frames[i], _rgb(plain[k], size))  # our conversion
        and abs((plain[k].time or 0) - (plain[0].time or 0) - ours.timestamps[i]) < 1e-9
        for i, k in enumerate(idx)
    )
    width, height = ours.width, ours.height
    pil = [Image.fromarray(f).resize((width, height), Image.Resampling.BICUBIC) for f in their_raw]
    diffs = {
        "resized": np.abs(ours.frames.astype(np.float32) - theirs),
        "raw_from_yuv_to_rgb": np.abs(ours_raw.frames.astype(np.int16) - their_raw),
        "resized_from_filter_alone": np.abs(np.stack(pil).astype(np.float32) - theirs),
    }
    return {
        "same_count": len(idx) == len(ours.timestamps),
        "same_timestamps": list(ours.timestamps) == times,
        "same_frames": same_frames,
        "same_shape": ours.frames.shape == theirs.shape,
        "decoded": ours.decoded,
        **{name: (float(d.max()), float(d.mean())) for name, d in diffs.items()},
    }


def run(paths: list[Path], read: Reader, repeats: int, checked: int) -> dict[str, Any]:
    """Time theirs and ours over ``paths``; check the first ``checked`` clips."""
    schedule = {path: read(path)[1:] for path in paths}  # also warms the page cache
    times = {path: [k / fps for k in idx] for path, (idx, fps) in schedule.items()}
    frames = sum(len(t) for t in times.values())
    theirs = best_of(repeats, paths, one_by_one(read), "theirs")
    ours = best_of(repeats, paths, one_by_one(lambda p: frames_at(p, times[p], SAMPLING)), "ours")
    own = best_of(
        repeats, paths, one_by_one(lambda p: sample_frames(p, SAMPLING)), "ours, own schedule"
    )
    own_frames = sum(len(sample_frames(p, SAMPLING).timestamps) for p in paths)
    theirs_many = best_of(repeats, paths, many_at_once(read), "theirs, many at once")
    ours_many = best_of(
        repeats,
        paths,
        many_at_once(lambda p: frames_at(p, times[p], SAMPLING, threaded=False)),
        "ours, many at once",
    )
    own_many = best_of(
        repeats, paths, lambda ps: list(sample_many(ps, SAMPLING)), "sample_many, own schedule"
    )
    checks = [check(path, read) for path in paths[:checked]]
    log(f"checked {len(checks)} clips")
    flags = ("same_count", "same_timestamps", "same_frames", "same_shape")
    diffs = ("resized", "raw_from_yuv_to_rgb", "resized_from_filter_alone")
    example = paths[0]
    return {
        "clips": len(paths),
        "mean_kbit_per_s": round(
            sum(p.stat().st_size for p in paths) * 8 / 1000 / SECONDS / len(paths)
        ),
        "frames": frames,
        "theirs_frames_per_s": round(frames / theirs, 1),
        "ours_frames_per_s": round(frames / ours, 1),
        "ratio": round(theirs / ours, 2),
        "ours_own_schedule_frames_per_s": round(own_frames / own, 1),
        "ours_own_schedule_ratio": round(own_frames / own / (frames / theirs), 2),
        "many_at_once": {
            "threads": _cpus(),
            "theirs_frames_per_s": round(frames / theirs_many, 1),
            "ours_frames_per_s": round(frames / ours_many, 1),
            "ratio": round(theirs_many / ours_many, 2),
            "ratio_to_theirs_one_by_one": round(theirs / ours_many, 2),
            "sample_many_own_schedule_frames_per_s": round(own_frames / own_many, 1),
        },
        "clips_checked": len(checks),
        **{flag: all(c[flag] for c in checks) for flag in flags},
        **{
            f"abs_diff_{name}": {
                "max": max(c[name][0] for c in checks),
                "mean": round(float(np.mean([c[name][1] for c in checks])), 4),
            }
            for name in (diffs if checks else ())
        },
        "ours_frames_decoded_per_clip": np.mean([c["decoded"] for c in checks]) if checks else None,
        "frames_per_clip": FPS * SECONDS,
        "example_times": {
            "theirs": [round(t, 4) for t in times[example]],
            "ours_own_schedule": list(sample_frames(example, SAMPLING).timestamps),
        },
    }


def environment(reader: dict[str, str]) -> dict[str, Any]:
    versions = {}
    for name in ("av", "decord", "torch", "torchvision", "pillow", "numpy"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        **reader,
        **versions,
        "ffmpeg": av.ffmpeg_version_info,
        "python": platform.python_version(),
        "cpus": len(os.sched_getaffinity(0)),
        "sampling": SAMPLING.model_dump(),
        "sampling_key": SAMPLING.key(),
    }


def main() -> None:
    """Make the clips, time both readers on them, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clips", type=int, default=100, help="clips per resolution")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes; the best counts")
    parser.add_argument("--clips-dir", type=Path, help="keep (and reuse) the clips here")
    parser.add_argument("--reader", choices=["auto", "qwen", "decord"], default="auto")
    parser.add_argument("--check", type=int, help="clips per resolution to check (default all)")
    args = parser.parse_args()
    if args.reader == "decord":
        read, about = decord_reader()
    else:
        try:
            read, about = qwen_reader()
        except (ImportError, RuntimeError) as exc:  # torchvision's import fails as either
            if args.reader == "qwen":
                sys.exit(f"qwen_vl_utils does not import ({exc}); see this script's docstring")
            read, about = decord_reader()
            about["why"] = f"qwen_vl_utils does not import: {exc}"
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.clips_dir or Path(temporary)
        checked = args.clips if args.check is None else args.check
        results = {
            name: run(clips(folder, name, args.clips), read, args.repeats, checked)
            for name in SIZES
        }
    print(json.dumps({"environment": environment(about), **results}, indent=2))


if __name__ == "__main__":
    main()

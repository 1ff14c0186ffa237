"""Accuracy, confusion matrices, robustness and speed of the measured probes on synthetic shots.

    python benchmarks/probe_calibration.py [--n 500] [--seed 2026] [--shots-dir DIR]
        [--robust 150] [--out results.json]

Renders ``--n`` shots with ``scine videos synth`` (seed 2026: the tests and the probes'
development set use other seeds) into ``--shots-dir`` (kept, and reused while the renderer
draws the same shots and the sources are the same bytes), probes each one, and
compares every reading with the shot's ground truth, leaf by leaf, on the shots whose truth
names that leaf: accuracy, with abstentions counted as wrong, and a confusion matrix (truth
rows, read columns, "-" = abstained). Camera movement is also scored on single-motion shots
(no handheld shake) strictly and leniently (the true value has the top belief, ties included:
zoom and dolly, pan and truck differ only by parallax).

Robustness, on the first ``--robust`` shots: Gaussian noise (sigma 8 levels) added to the
sampled frames; the same shots encoded at CRF 35; camera-movement shots re-rendered with a
ball crossing the frame. Speed: videos per second of ``rate_with_probes``-style work (sample +
probe, one video per thread, one thread per CPU) over the shots, of sampling alone, and of
decoding alone, every frame and only those sampling decodes (the floor no probe can go
below); the same on those shots re-encoded as scine encodes generated videos (x264 preset
medium, with B-frames).
Prints markdown tables and writes the full figures as JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from scine.judge._reading import Clip
from scine.judge.probes import LEAVES, PROBE_SAMPLING, Reading, load_clip, probe_clip
from scine.video.synth import ShotSpec, render, suite_shot, synth_suite

MOVEMENT = "camera.trajectory.movement"
NOISE_SIGMA = 8.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def shots(folder: Path, n: int, seed: int, crf: int = 18) -> list[tuple[Path, dict[str, Any]]]:
    """``n`` synthetic shots and their truth rows, rendered where missing or drawn otherwise
    than the renderer draws them now."""
    truth_path = folder / "truth.jsonl"
    rows = [json.loads(line) for line in truth_path.open()][:n] if truth_path.exists() else []
    specs = [suite_shot(seed, index)[0].model_dump(mode="json") for index in range(n)]
    if [row["spec"] for row in rows] != specs:
        log(f"rendering {n} shots (seed {seed}, crf {crf}) into {folder}")
        _, rows = synth_suite(n, seed, folder, crf=crf)
        truth_path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return [(folder / "videos" / f"{row['video_id']}.mp4", row) for row in rows]


def truth_of(row: dict[str, Any]) -> dict[str, str]:
    return {control["node"]: control["value"] for control in row["controls"]}


def probe_all(
    paths: Iterable[Path], perturb: Callable[[Clip], Clip] | None = None
) -> list[dict[str, Reading]]:
    """Each video's readings by leaf, one video per thread."""

    def one(path: Path) -> dict[str, Reading]:
        clip = load_clip(path, threaded=False)
        readings = probe_clip(perturb(clip) if perturb else clip)
        return {reading.node: reading for reading in readings}

    with ThreadPoolExecutor(max_workers=len(os.sched_getaffinity(0))) as pool:
        return list(pool.map(one, paths))


def digest(data: bytes) -> str:
    """A short name for ``data``: cached renders are found by what they were made from."""
    return hashlib.sha256(data).hexdigest()[:12]


def noisy(clip: Clip) -> Clip:
    """The clip with Gaussian noise of ``NOISE_SIGMA`` levels (seeded by its source)."""
    rng = np.random.default_rng(int(digest(clip.source.encode())[:8], 16))
    frames = np.clip(clip.frames + rng.normal(0, NOISE_SIGMA, clip.frames.shape), 0, 255)
    frames = frames.astype(np.uint8)
    gray = np.stack([cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in frames])
    return Clip(frames, gray, clip.timestamps, clip.fps, clip.source)


def is_right(reading: Reading | None, value: str, lenient: bool = False) -> bool:
    """The reading's value is ``value``; leniently, ``value`` has the top belief (ties too)."""
    if reading is None:
        return False
    if reading.value == value:
        return True
    if not lenient or value not in reading.support:
        return False
    return reading.support[value] >= max(reading.support.values()) - 1e-9


def calibration(pairs: list[tuple[str, Reading | None]]) -> dict[str, Any]:
    """How well beliefs match hit rates: every (belief in u, u is the true value) over the
    values u each reading supports. Brier score, expected calibration error (10 bins), and
    the mean 1-5 score (1 + 4 p) of the true value against that of the other values."""
    beliefs = [
        (p, value == truth)
        for truth, reading in pairs
        if reading is not None
        for value, p in reading.support.items()
    ]
    if not beliefs:
        return {"beliefs": 0}
    p = np.array([b for b, _ in beliefs])
    hit = np.array([h for _, h in beliefs], dtype=float)
    bins = np.minimum((p * 10).astype(int), 9)
    ece = sum(
        abs(p[bins == k].mean() - hit[bins == k].mean()) * (bins == k).sum()
        for k in range(10)
        if (bins == k).any()
    ) / len(p)
    return {
        "beliefs": len(p),
        "brier": round(float(np.mean((p - hit) ** 2)), 4),
        "ece": round(float(ece), 4),
        "mean_score_true": round(float(np.mean(1 + 4 * p[hit == 1])), 3) if hit.any() else None,
        "mean_score_other": round(float(np.mean(1 + 4 * p[hit == 0])), 3),
    }


def scores(
    readings: list[dict[str, Reading]], rows: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Per leaf: accuracy and confusion over the shots whose truth names the leaf."""
    result: dict[str, dict[str, Any]] = {}
    for leaf in sorted(LEAVES):
        pairs = [
            (truth_of(row)[leaf], read.get(leaf))
            for read, row in zip(readings, rows, strict=True)
            if leaf in truth_of(row)
        ]
        if not pairs:
            continue
        confusion: dict[str, Counter[str]] = defaultdict(Counter)
        for value, reading in pairs:
            confusion[value][(reading.value if reading else None) or "-"] += 1
        result[leaf] = {
            "shots": len(pairs),
            "accuracy": round(sum(is_right(r, v) for v, r in pairs) / len(pairs), 4),
            "abstained": sum(1 for _, r in pairs if r is None or r.value is None),
            "confusion": {value: dict(row) for value, row in sorted(confusion.items())},
            "calibration": calibration(pairs),
        }
    single = [
        (truth_of(row)[MOVEMENT], read.get(MOVEMENT))
        for read, row in zip(readings, rows, strict=True)
        if row["spec"]["handheld"] == 0
    ]
    result["movement_single_motion"] = {
        "shots": len(single),
        "strict": round(sum(is_right(r, v) for v, r in single) / max(1, len(single)), 4),
        "lenient": round(
            sum(is_right(r, v, lenient=True) for v, r in single) / max(1, len(single)), 4
        ),
    }
    steady = [
        read.get("lighting.advanced.motion")
        for read, row in zip(readings, rows, strict=True)
        if row["spec"]["light_motion"] is None
    ]
    result["light_motion_false_alarms"] = {
        "steady_shots": len(steady),
        "read_as_moving": sum(1 for r in steady if r is not None and r.value is not None),
    }
    dutch = [
        (bool(row["spec"]["dutch"]), r is not None and r.value == "dutch")
        for read, row in zip(readings, rows, strict=True)
        if row["spec"]["movement"] != "roll"
        for r in [read.get("camera.extrinsics.angle")]
    ]
    result["dutch_vs_level"] = {
        "shots": len(dutch),
        "accuracy": round(sum(r == d for d, r in dutch) / max(1, len(dutch)), 4),
        "dutch_shots": sum(is_dutch for is_dutch, _ in dutch),
        "dutch_read_level": sum(is_dutch and not read for is_dutch, read in dutch),
        "level_read_dutch": sum(read and not is_dutch for is_dutch, read in dutch),
    }
    return result


def with_subject(path: Path, row: dict[str, Any], folder: Path) -> tuple[Path, dict[str, Any]]:
    """The shot re-rendered with a ball crossing the frame left to right."""
    spec = ShotSpec(**{**row["spec"], "subject": "left_to_right"})
    target = folder / f"{path.stem}-{digest(spec.model_dump_json().encode())}.mp4"
    if not target.exists():
        render(spec, target, seed=1)
    return target, {**row, "spec": spec.model_dump(mode="json")}


def decode(path: Path, skip: bool = False) -> int:
    """Decode ``path`` on one thread, converting nothing; returns the frames decoded.

    ``skip``: leave out the frames nothing refers to unless the probes' sampling wants them,
    as sampling does (wanted: every frame whose index is a multiple of the source rate over
    the sampling rate, which is what sampling takes from a constant-rate video). Without it,
    every frame: the floor under sampling a video whose frames are all referenced.
    """
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        context = stream.codec_context
        context.thread_count = 1
        rate = float(stream.average_rate or 24)
        step = max(1, round(rate / (PROBE_SAMPLING.fps or rate)))
        decoded = 0
        for packet in container.demux(stream):
            if skip and packet.pts is not None and stream.time_base is not None:
                index = round(float(packet.pts * stream.time_base) * rate)
                context.skip_frame = "DEFAULT" if index % step == 0 else "NONREF"
            decoded += len(packet.decode())
        return decoded


def as_generated(paths: list[Path], folder: Path) -> list[Path]:
    """The shots re-encoded as scine encodes generated videos (``write_mp4``: x264 preset
    medium, with B-frames), written into ``folder`` where missing."""
    import av

    from scine.video._adapters import write_mp4

    folder.mkdir(parents=True, exist_ok=True)
    targets = [folder / f"{path.stem}-{digest(path.read_bytes())}.mp4" for path in paths]
    for path, target in zip(paths, targets, strict=True):
        if not target.exists():
            with av.open(str(path)) as container:
                stream = container.streams.video[0]
                fps = float(stream.average_rate or 24)
                frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(stream)])
            write_mp4(frames, target, fps)
    return targets


def speed(paths: list[Path]) -> dict[str, float]:
    """Videos per second: sample + probe, sample alone, and decoding alone, one video per
    thread."""
    workers = len(os.sched_getaffinity(0))

    def timed(work: Callable[[Path], object]) -> float:
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(work, paths))
        return round(len(paths) / (time.perf_counter() - start), 1)

    timed(lambda p: load_clip(p, threaded=False))  # warm the page cache
    return {
        "cpus": workers,
        "videos": len(paths),
        "probe_videos_per_s": timed(lambda p: probe_clip(load_clip(p, threaded=False))),
        "sample_only_videos_per_s": timed(lambda p: load_clip(p, threaded=False)),
        "decode_only_videos_per_s": timed(decode),
        "decode_as_sampling_skips_videos_per_s": timed(lambda p: decode(p, skip=True)),
    }


def table(figures: dict[str, dict[str, Any]], title: str) -> str:
    lines = [
        f"\n{title}\n",
        "| leaf | shots | accuracy | abstained | Brier | ECE | score true / other |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for leaf, row in figures.items():
        if "accuracy" in row and "abstained" in row:
            fit = row["calibration"]
            lines.append(
                f"| {leaf} | {row['shots']} | {row['accuracy']:.3f} | {row['abstained']} | "
                f"{fit.get('brier')} | {fit.get('ece')} | "
                f"{fit.get('mean_score_true')} / {fit.get('mean_score_other')} |"
            )
    for key in ("movement_single_motion", "dutch_vs_level", "light_motion_false_alarms"):
        lines.append(f"\n{key}: {figures[key]}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--shots-dir", type=Path, default=Path("/tmp/scine-probe-shots"))
    parser.add_argument("--robust", type=int, default=150, help="shots in each robustness set")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()

    base = shots(args.shots_dir / "crf18", args.n, args.seed)
    paths, rows = [p for p, _ in base], [r for _, r in base]
    log("probing")
    clean = scores(probe_all(paths), rows)
    log("robustness: noise")
    some = slice(0, args.robust)
    noise = scores(probe_all(paths[some], noisy), rows[some])
    compressed = shots(args.shots_dir / "crf35", args.robust, args.seed, crf=35)
    log("robustness: CRF 35")
    crf35 = scores(probe_all(p for p, _ in compressed), [r for _, r in compressed])
    (args.shots_dir / "subject").mkdir(exist_ok=True)
    log("robustness: moving subject")
    moving = [
        with_subject(p, r, args.shots_dir / "subject")
        for p, r in base[some]
        if r["spec"]["subject"] is None
    ]
    subject = scores(probe_all(p for p, _ in moving), [r for _, r in moving])
    log("speed")
    figures = {
        "sampling": PROBE_SAMPLING.model_dump(),
        "sampling_key": PROBE_SAMPLING.key(),
        "seed": args.seed,
        "clean": clean,
        "noise_sigma_8": noise,
        "crf_35": crf35,
        "moving_subject": subject,
        "speed": speed(paths[:100]),
        "speed_encoded_as_generated": speed(
            as_generated(paths[:100], args.shots_dir / "generated")
        ),
    }
    for name in ("clean", "noise_sigma_8", "crf_35", "moving_subject"):
        print(table(figures[name], f"## {name}"))
    print(f"\nspeed: {figures['speed']}")
    print(f"speed, encoded as generated videos: {figures['speed_encoded_as_generated']}")
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()

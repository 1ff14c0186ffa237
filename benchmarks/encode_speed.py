"""Encoding a generated clip: one x264 thread (what ``scine videos generate`` writes) against
four, and whether the same frames give the same bytes.

    .venv/bin/python benchmarks/encode_speed.py [--repeats 5]

An 81-frame 832x480 clip (Wan2.1's default output) of moving random texture is encoded with
the harness's settings (``scine.video._adapters.ENCODER``: CRF 17, preset medium, one thread,
macroblock tree off) and with 4 threads and the macroblock tree on; prints the median
seconds of each and how many distinct files the repeats gave.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from scine.video import _adapters

VARIANTS = {"harness: 1 thread, mbtree off": (1, "mbtree=0"), "4 threads, mbtree on": (4, "")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (60, 104, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
    frames = np.stack([np.roll(base, 3 * i, axis=1) for i in range(81)])
    saved = dict(_adapters.ENCODER)
    found = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        for name, (threads, params) in VARIANTS.items():
            _adapters.ENCODER.update(threads=threads, **{"x264-params": params or "mbtree=1"})
            seconds, digests = [], set()
            for _ in range(args.repeats):
                start = time.perf_counter()
                _adapters.write_mp4(frames, path, 16)
                seconds.append(time.perf_counter() - start)
                digests.add(hashlib.sha256(path.read_bytes()).hexdigest())
            found[name] = {
                "median_seconds": round(statistics.median(seconds), 3),
                "distinct_files": len(digests),
            }
    _adapters.ENCODER.update(saved)
    print(json.dumps(found, indent=2))


if __name__ == "__main__":
    main()

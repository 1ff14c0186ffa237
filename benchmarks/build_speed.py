"""Offline build of the full default suite plus questions, timed (target: under 60 s, 2 cores).

    .venv/bin/python benchmarks/build_speed.py [--repeat 3]

Times the whole ``build_suite`` (seeds, Scripts, Visuals with their rewrites, questions,
manifest) and writing the three files, in a fresh temporary folder, ``--repeat`` times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from scine.bench.build import BuildConfig, build_suite, write_suite
from scine.bench.seeds import packaged_seeds
from scine.bench.writers import OfflineWriter
from scine.taxonomy import load_taxonomy


def main() -> None:
    """Build the default suite ``--repeat`` times and print the timings as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    taxonomy = load_taxonomy()
    seeds = packaged_seeds()
    load_s = time.perf_counter() - start
    config = BuildConfig()
    times = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            suite = build_suite(config, OfflineWriter(taxonomy, config.seed), taxonomy, seeds)
            write_suite(suite, Path(folder))
            times.append(time.perf_counter() - start)
    print(
        json.dumps(
            {
                "cpus": os.cpu_count(),
                "load_taxonomy_and_seeds_s": round(load_s, 3),
                "build_and_write_s": [round(t, 3) for t in times],
                "median_s": round(statistics.median(times), 3),
                "prompts": suite.manifest["counts"]["prompts"],
                "questions": suite.manifest["counts"]["questions"],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

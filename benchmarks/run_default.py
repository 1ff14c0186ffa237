"""Wall time of ``scine run``'s embedded default, stage by stage, and a second run's.

    .venv/bin/python benchmarks/run_default.py [--out benchmarks/results/run_default.json]

Runs the default (no configuration) into a fresh temporary folder, then again in the same
folder (every stage should be current), and prints the seconds per stage, the totals, and
whether the probes recovered the planted order. Target: the first run under 3 minutes on 2
cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from scine.run import RunConfig, run_pipeline


def timed(out: Path) -> dict[str, Any]:
    start = time.perf_counter()
    result = run_pipeline(RunConfig(), out)
    return {
        "seconds": round(time.perf_counter() - start, 1),
        "stages": {
            s.name: {"status": s.status, "seconds": round(s.seconds, 1)} for s in result.stages
        },
        "truth_check": result.summary.get("truth_check", {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        found = {
            "cpus": len(os.sched_getaffinity(0)),
            "first": timed(Path(folder)),
            "again": timed(Path(folder)),
        }
    text = json.dumps(found, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

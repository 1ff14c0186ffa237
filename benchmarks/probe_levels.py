"""Fit the graded lighting probes' levels on development shots: what each value measures.

    python benchmarks/probe_levels.py --set /tmp/probe-dev-7:240:7 --set /tmp/probe-dev-8:600:8

Each ``--set FOLDER:N:SEED`` is N synthetic shots of that seed (rendered into FOLDER where
missing, as ``probe_calibration.py`` renders them). Never give it the calibration seed (2026)
or a seed the tests use. For key (mean luma), contrast (luma spread) and colour temperature
(log red/blue of the estimated light) it prints, per true value, how many shots name it and
the median and spread of the measure in the space the probe compares levels in (the log for
key and contrast), next to the level the probe now uses, and the boundaries the medians would
give (midpoints, as equal spreads put them). The probes' ``*_LEVELS`` are these medians.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from probe_calibration import probe_all, shots
from scine.judge._probe_light import CONTRAST_LEVELS, KEY_LEVELS, TEMPERATURE_LEVELS

# leaf -> (spec field, measure key, whether levels compare in log space, current levels)
GRADED: dict[str, tuple[str, str, bool, dict[str, float]]] = {
    "lighting.conditions.key": ("key", "mean_luma", True, KEY_LEVELS),
    "lighting.conditions.contrast": ("contrast", "std_luma", True, CONTRAST_LEVELS),
    "lighting.color_temperature": ("temperature", "log_red_blue", False, TEMPERATURE_LEVELS),
}


def parse_set(text: str) -> tuple[Path, int, int]:
    """``FOLDER:N:SEED`` as (folder, n, seed)."""
    folder, n, seed = text.rsplit(":", 2)
    return Path(folder), int(n), int(seed)


def fit(measured: dict[str, list[float]], log: bool, current: dict[str, float]) -> dict[str, Any]:
    """Per value: shots, median and spread of the measure, the level now used; boundaries."""
    found = {v: np.log(m) if log else np.asarray(m) for v, m in measured.items()}
    medians = {value: float(np.median(values)) for value, values in found.items()}
    order = sorted(medians, key=medians.__getitem__)
    rows = {
        value: {
            "shots": len(found[value]),
            "median": round(math.exp(medians[value]) if log else medians[value], 4),
            "spread": round(float(np.std(found[value])), 4),
            "level_now": current.get(value),
        }
        for value in order
    }
    bounds = [(medians[a] + medians[b]) / 2 for a, b in itertools.pairwise(order)]
    return {
        "values": rows,
        "boundaries": [round(math.exp(b) if log else b, 4) for b in bounds],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--set", action="append", type=parse_set, required=True)
    parser.add_argument("--out", type=Path, help="write the fit as JSON here")
    args = parser.parse_args()

    measured: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for folder, n, seed in args.set:
        if seed == 2026:
            parser.error("seed 2026 is the calibration set: fit on other seeds")
        base = shots(folder, n, seed)
        for (_, row), readings in zip(base, probe_all(p for p, _ in base), strict=True):
            for leaf, (field, key, _, _) in GRADED.items():
                value, reading = row["spec"].get(field), readings[leaf]
                if value is not None and reading.measure.get(key) is not None:
                    measured[leaf][value].append(float(reading.measure[key]))
    result = {
        leaf: fit(measured[leaf], log, current) for leaf, (_, _, log, current) in GRADED.items()
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

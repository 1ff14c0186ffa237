"""Our ``icc`` against ``pingouin.intraclass_corr`` on the same balanced data, and our
unbalanced estimator on a study-sized table, timed (median of ``--repeat`` runs).

    .venv/bin/python benchmarks/icc_vs_pingouin.py [--repeat 3] [--seed 0]

Balanced: targets x 3 raters (2,000 and 83,000 targets, the latter about 250K rows), both
libraries on the same frame; prints the largest absolute difference over ICC, F, df, p and the
interval bounds (pingouin's CI rounding switched off), each one's median wall time and the
ratio. Unbalanced: 83,000 targets, each rated by 3 of 84 raters drawn at random (the paper's
design, about 250K rows): the point estimate alone (``n_boot=0``) and with the 500-resample
bootstrap. Output: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pingouin as pg

from scine.analysis.reliability import icc

RATERS = 3
PANEL = 84


def balanced(targets: int, seed: int) -> pd.DataFrame:
    """Every target rated once by each of ``RATERS`` raters: 3 + target + rater + noise."""
    rng = np.random.default_rng(seed)
    target, rater = (grid.ravel() for grid in np.indices((targets, RATERS)))
    y = 3 + rng.normal(0, 1, targets)[target] + rng.normal(0, 0.3, RATERS)[rater]
    y = y + rng.normal(0, 0.8, target.size)
    return pd.DataFrame({"target": target, "rater": rater, "rating": y})


def sparse_panel(targets: int, seed: int) -> pd.DataFrame:
    """Each target rated by ``RATERS`` distinct raters drawn from a panel of ``PANEL``."""
    rng = np.random.default_rng(seed)
    rater = np.argsort(rng.random((targets, PANEL)), axis=1)[:, :RATERS].ravel()
    target = np.repeat(np.arange(targets), RATERS)
    y = 3 + rng.normal(0, 1, targets)[target] + rng.normal(0, 0.3, PANEL)[rater]
    y = y + rng.normal(0, 0.8, target.size)
    return pd.DataFrame({"target": target, "rater": rater, "rating": y})


def timed(run: Callable[[], pd.DataFrame], repeat: int) -> tuple[float, pd.DataFrame]:
    """Median wall time of ``repeat`` calls and the last result."""
    times, result = [], pd.DataFrame()
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def pingouin_icc(data: pd.DataFrame) -> pd.DataFrame:
    """pingouin's ICC table with its CI rounding switched off."""
    saved = dict(pg.options)
    pg.options.pop("round.column.CI95", None)
    try:
        return pg.intraclass_corr(data=data, targets="target", raters="rater", ratings="rating")
    finally:
        pg.options.clear()
        pg.options.update(saved)


def compare(targets: int, repeat: int, seed: int) -> dict[str, Any]:
    """Both libraries on one balanced frame: times and the largest difference."""
    data = balanced(targets, seed)
    ours_s, ours = timed(lambda: icc(data, "target", "rater", "rating"), repeat)
    theirs_s, theirs = timed(lambda: pingouin_icc(data), repeat)
    bounds = np.vstack(theirs["CI95"].to_numpy())
    differences = [
        np.abs(ours[column].to_numpy() - theirs[column].to_numpy(dtype=float))
        for column in ("ICC", "F", "df1", "df2", "pval")
    ] + [np.abs(ours[["ci_low", "ci_high"]].to_numpy() - bounds).ravel()]
    return {
        "targets": targets,
        "raters": RATERS,
        "rows": len(data),
        "ours_s": round(ours_s, 4),
        "pingouin_s": round(theirs_s, 4),
        "speedup": round(theirs_s / ours_s, 1),
        "max_abs_difference": float(max(d.max() for d in differences)),
        "icc2": round(float(ours.loc[1, "ICC"]), 4),
    }


def unbalanced(repeat: int, seed: int) -> dict[str, Any]:
    """Our Henderson estimator on the sparse panel: point estimate, then with bootstrap."""
    data = sparse_panel(83_000, seed)
    point_s, point = timed(lambda: icc(data, "target", "rater", "rating", n_boot=0), repeat)
    boot_s, boot = timed(lambda: icc(data, "target", "rater", "rating", n_boot=500), repeat)
    row = boot.set_index("Type").loc["ICC2"]
    return {
        "targets": 83_000,
        "raters": PANEL,
        "rows": len(data),
        "estimator": str(point.loc[0, "estimator"]),
        "point_estimate_s": round(point_s, 4),
        "with_500_bootstrap_s": round(boot_s, 4),
        "icc2": round(float(row["ICC"]), 4),
        "icc2_ci": [round(float(row["ci_low"]), 4), round(float(row["ci_high"]), 4)],
        "icc2_truth": round(1 / (1 + 0.3**2 + 0.8**2), 4),
    }


def main() -> None:
    """Run both comparisons and the unbalanced timing; print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    report = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "pingouin": pg.__version__,
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "repeat": args.repeat,
        "balanced": [compare(n, args.repeat, args.seed) for n in (2_000, 83_000)],
        "unbalanced": unbalanced(args.repeat, args.seed),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

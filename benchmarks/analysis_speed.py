"""Speed of the whole analysis on a study of about 250,000 ratings of 13 models.

    .venv/bin/python benchmarks/analysis_speed.py [--prompts 1100] [--models 13] [--boot 1000]

Simulates the study once (not timed in the analysis figures), then times, in one run:
reading it (``load_study``), the whole analysis without bootstrap (``--boot 0``: scores,
reliability at three levels, Wilcoxon pairs and tiers, preferences, Bradley-Terry, Elo,
correlations), and with ``--boot`` resamples (every interval). Targets on 2 cores: under 10 s
without bootstrap, under 60 s with 1,000 resamples. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from scine.analysis.pipeline import AnalysisSettings, analyze
from scine.analysis.simulate import SimulationConfig, simulate, write_simulation
from scine.analysis.table import Study, load_study


def timed_analysis(study: Study, boot: int) -> tuple[float, dict[str, float]]:
    """Seconds of one whole analysis, and of each of its stages."""
    marks: list[tuple[str, float]] = []
    start = time.perf_counter()
    analyze(
        study, AnalysisSettings(n_boot=boot), lambda name: marks.append((name, time.perf_counter()))
    )
    end = time.perf_counter()
    bounds = [*marks, ("end", end)]
    stages = {name: round(bounds[i + 1][1] - at, 3) for i, (name, at) in enumerate(marks)}
    return end - start, stages


def main() -> None:
    """Simulate, then time loading and analysing."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=1100)
    parser.add_argument("--models", type=int, default=13)
    parser.add_argument("--boot", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        config = SimulationConfig(models=args.models, prompts=args.prompts, annotators=84, seed=0)
        write_simulation(simulate(config), Path(folder))
        simulated = time.perf_counter() - start
        start = time.perf_counter()
        study = load_study(folder)
        loaded = time.perf_counter() - start
        timings = {}
        for boot in (0, args.boot):
            timings[boot], stages = timed_analysis(study, boot)
            print(json.dumps({"boot": boot, "stages_s": stages}))
    print(
        json.dumps(
            {
                "cpus": os.cpu_count(),
                "ratings": len(study.votes),
                "items": len(study.items),
                "models": len(study.models),
                "simulate_and_write_s": round(simulated, 2),
                "load_study_s": round(loaded, 2),
                "analysis_without_bootstrap_s": round(timings[0], 2),
                f"analysis_with_{args.boot}_resamples_s": round(timings[args.boot], 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

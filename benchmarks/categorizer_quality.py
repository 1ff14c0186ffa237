"""Categorizer quality: precision/recall per axis on our prompts, recall on external sets.

    .venv/bin/python benchmarks/categorizer_quality.py [--seed 2025] [--n 1000] [--no-semantic]

1. Builds ``--n`` SCINE-Visuals prompts offline with a build seed the packaged suite does not
   use, and scores the offline categorizer's leaves against each prompt's recorded controls:
   precision and recall per axis (leaf level), and the share of found leaves whose value is
   right.
2. Reads ../shared/external/ (never copied into the project) and reports recall:
   VBench-2.0 camera-motion prompts with the right movement value; Movie Gen Bench prompts
   tagged "camera motion" (any camera movement), "human - emotion" (an events emotion leaf),
   "sequential motion" (the events temporal leaf). It also categorizes every external prompt
   and counts errors (the pipeline must run end to end).
Prints a JSON report (and writes it with --out).
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scine.bench.build import BuildConfig, build_suite
from scine.bench.categorize import Category, OfflineCategorizer
from scine.bench.seeds import packaged_seeds
from scine.bench.writers import OfflineWriter
from scine.records import Prompt
from scine.taxonomy import load_taxonomy

EXTERNAL = Path(__file__).resolve().parents[2] / "shared" / "external"
MOVEMENT = "camera.trajectory.movement"
# VBench-2.0 camera-motion labels -> our movement values. "oblique" prompts read "oblique
# shot, airborne dolly movement": the camera travels through the air (our flyover).
VBENCH_MOVEMENT = {
    "zoom_in": "zoom_in",
    "zoom_out": "zoom_out",
    "tilt_up": "tilt_up",
    "tilt_down": "tilt_down",
    "pan_left": "pan_left",
    "pan_right": "pan_right",
    "static": "static",
    "orbits": "orbit",
    "oblique": "flyover",
}
MOVIEGEN_TAGS = {
    "camera motion": ("camera.trajectory.movement",),
    "camera motion (any camera leaf)": (),
    "human - emotion": (
        "events.types.emotions.explicit",
        "events.types.emotions.implicit",
        "events.types.emotions.shift",
    ),
    "sequential motion": ("events.portrayal.temporal",),
}


def own_prompts(n: int, seed: int) -> list[Prompt]:
    """``n`` Visuals prompts (all roles, both difficulties) built offline with ``seed``."""
    taxonomy = load_taxonomy()
    config = BuildConfig(seed=seed, scripts=max(n // 2, 1), visuals=n)
    suite = build_suite(config, OfflineWriter(taxonomy, seed), taxonomy, packaged_seeds())
    return [prompt for prompt in suite.prompts if prompt.split == "visuals"]


def score_own(prompts: Sequence[Prompt], found: Sequence[list[Category]]) -> dict[str, Any]:
    """Per-axis leaf precision/recall, and value accuracy on correctly found leaves."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    value_right = value_total = 0
    confusions: Counter[str] = Counter()
    for prompt, categories in zip(prompts, found, strict=True):
        truth = {c.node: c.value for c in prompt.controls}
        guessed = {c.node: c.value for c in categories}
        for node in truth.keys() | guessed.keys():
            axis = node.split(".", 1)[0]
            if node in truth and node in guessed:
                tp[axis] += 1
                value_total += 1
                value_right += truth[node] == guessed[node]
            elif node in guessed:
                fp[axis] += 1
                confusions[f"extra {node}"] += 1
            else:
                fn[axis] += 1
                confusions[f"missed {node}"] += 1
    axes = sorted(tp.keys() | fp.keys() | fn.keys())
    rows = {axis: _pr(tp[axis], fp[axis], fn[axis]) for axis in axes}
    rows["all"] = _pr(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    return {
        "prompts": len(prompts),
        "per_axis": rows,
        "value_accuracy": round(value_right / max(value_total, 1), 4),
        "top_errors": confusions.most_common(15),
    }


def _pr(tp: int, fp: int, fn: int) -> dict[str, float]:
    return {
        "precision": round(tp / max(tp + fp, 1), 4),
        "recall": round(tp / max(tp + fn, 1), 4),
        "support": float(tp + fn),
    }


def vbench_movement(categorizer: OfflineCategorizer) -> dict[str, Any]:
    """Movement recall on VBench-2.0 camera-motion prompts, overall and per label."""
    items = json.loads((EXTERNAL / "vbench2_camera_motion.json").read_text(encoding="utf-8"))
    found = categorizer.categorize([item["prompt_en"] for item in items])
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    misses = []
    for item, categories in zip(items, found, strict=True):
        label = item["auxiliary_info"]
        totals[label] += 1
        got = {c.node: c.value for c in categories}.get(MOVEMENT)
        if got == VBENCH_MOVEMENT[label]:
            hits[label] += 1
        else:
            misses.append({"prompt": item["prompt_en"], "label": label, "got": got})
    return {
        "prompts": len(items),
        "recall": round(sum(hits.values()) / len(items), 4),
        "per_label": {label: round(hits[label] / totals[label], 3) for label in sorted(totals)},
        "misses": misses[:12],
    }


def moviegen_tags(categorizer: OfflineCategorizer) -> dict[str, Any]:
    """Recall of the tagged leaves on Movie Gen Bench, and a full end-to-end run."""
    with (EXTERNAL / "moviegen_video_bench_tagged.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    found = categorizer.categorize([row["prompt"] for row in rows])
    report: dict[str, Any] = {"prompts": len(rows)}
    for tag, leaves in MOVIEGEN_TAGS.items():
        concept = tag.split(" (", 1)[0]
        tagged = [
            categories
            for row, categories in zip(rows, found, strict=True)
            if concept in [t.strip() for t in row["concept"].split(",")]
        ]
        hit = sum(
            any(c.node in leaves if leaves else c.node.startswith("camera.") for c in categories)
            for categories in tagged
        )
        report[tag] = {"prompts": len(tagged), "recall": round(hit / max(len(tagged), 1), 4)}
    report["mean_categories"] = round(sum(map(len, found)) / len(found), 2)
    return report


def vbench_all(categorizer: OfflineCategorizer) -> dict[str, Any]:
    """Every VBench-2.0 prompt categorized: counts and the share with any category."""
    lines = (EXTERNAL / "vbench2_prompts.txt").read_text(encoding="utf-8").splitlines()
    prompts = [line.strip() for line in lines if line.strip()]
    found = categorizer.categorize(prompts)
    return {
        "prompts": len(prompts),
        "with_categories": round(sum(bool(f) for f in found) / len(found), 4),
        "mean_categories": round(sum(map(len, found)) / len(found), 2),
    }


def main() -> None:
    """Run every measurement and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--no-semantic", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    taxonomy = load_taxonomy()
    start = time.perf_counter()
    embedder = None
    if not args.no_semantic:
        from scine.bench.semantic import Embedder

        embedder = Embedder()
    categorizer = OfflineCategorizer(taxonomy, embedder)
    loaded = time.perf_counter() - start
    prompts = own_prompts(args.n, args.seed)
    start = time.perf_counter()
    found = categorizer.categorize([prompt.text for prompt in prompts])
    elapsed = time.perf_counter() - start
    report = {
        "categorizer": categorizer.name,
        "taxonomy_version": taxonomy.version,
        "build_seed": args.seed,
        "own_visuals": score_own(prompts, found),
        "own_speed": {
            "load_s": round(loaded, 2),
            "prompts_per_s": round(len(prompts) / elapsed, 1),
        },
        "vbench2_camera_motion": vbench_movement(categorizer),
        "moviegen": moviegen_tags(categorizer),
        "vbench2_all": vbench_all(categorizer),
    }
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()

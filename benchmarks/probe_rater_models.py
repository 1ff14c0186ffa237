"""The probes as a rater of text-to-video "models" whose faithfulness is known.

    python benchmarks/probe_rater_models.py [--prompts 60] [--role cinematographer] [--out DIR]

Renders the first ``--prompts`` prompts of ``--role`` from the packaged suite with the three
synthetic models (``synth-good``, ``synth-fair``, ``synth-poor``: each control a prompt asks
for is shown with probability 0.95, 0.7, 0.35), rates every video on its prompt's questions
with the probes, and compares each rating with what the video really shows (the renderer's
``shown`` controls in its provenance): mean score when the asked value is shown and when it
is not, the accuracy of "score above 3" as "shown", the area under the ROC curve, and each
model's mean score. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from scine.judge.probe_rater import rate_with_probes
from scine.records import Prompt, Question, Video, read_jsonl
from scine.video.generate import generate_videos

MODELS = ("synth-good", "synth-fair", "synth-poor")


def suite(role: str, count: int) -> tuple[list[Prompt], list[Question]]:
    folder = resources.files("scine.bench") / "data" / "suite"
    with resources.as_file(folder) as path:
        prompts = [p for p in read_jsonl(path / "prompts.jsonl", Prompt) if p.role == role]
        chosen = {p.id for p in prompts[:count]}
        questions = read_jsonl(path / "questions.jsonl", Question)
    return prompts[:count], [q for q in questions if q.prompt_id in chosen]


def auc(positive: list[float], negative: list[float]) -> float | None:
    """Probability that a shown value scores above a value not shown (ties count half)."""
    if not positive or not negative:
        return None
    p, n = np.asarray(positive)[:, None], np.asarray(negative)[None, :]
    return float(np.mean((p > n) + 0.5 * (p == n)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--prompts", type=int, default=60)
    parser.add_argument("--role", default="cinematographer")
    parser.add_argument("--out", type=Path, help="keep the videos here (default: a temp folder)")
    args = parser.parse_args()
    prompts, questions = suite(args.role, args.prompts)
    with tempfile.TemporaryDirectory() as temporary:
        out = args.out or Path(temporary)
        for model in MODELS:
            generate_videos(model, prompts, out, device="cpu", force=True)
        videos = read_jsonl(out / "videos.jsonl", Video)
        run = rate_with_probes(videos, questions, out)
    shown = {
        video.id: {(c["node"], c["value"]) for c in video.provenance["shown"]}  # type: ignore[index,union-attr]
        for video in videos
    }
    asked = {q.id: (q.node, q.value) for q in questions}
    model_of = {video.id: video.model for video in videos}
    hits: dict[bool, list[float]] = {True: [], False: []}
    per_model: dict[str, list[float]] = {model: [] for model in MODELS}
    for rating in run.ratings:
        hits[asked[rating.question_id] in shown[rating.video_id]].append(rating.score)
        per_model[model_of[rating.video_id]].append(rating.score)
    right = sum(s > 3 for s in hits[True]) + sum(s <= 3 for s in hits[False])
    figures: dict[str, Any] = {
        "prompts": len(prompts),
        "role": args.role,
        "videos": len(videos),
        "questions": run.questions,
        "ratings": len(run.ratings),
        "abstentions": len(run.abstentions),
        "shown": {"ratings": len(hits[True]), "mean_score": round(np.mean(hits[True]), 3)},
        "not_shown": {"ratings": len(hits[False]), "mean_score": round(np.mean(hits[False]), 3)},
        "accuracy_score_above_3": round(right / len(run.ratings), 3),
        "auc": round(auc(hits[True], hits[False]) or float("nan"), 3),
        "mean_score_by_model": {m: round(float(np.mean(s)), 3) for m, s in per_model.items()},
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

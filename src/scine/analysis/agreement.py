"""Agreement of an automatic rater with the experts: pairwise preference accuracy.

Every evaluator, human-trained or not, is judged by one number: given two videos of one
prompt rated on the same question, does it prefer the one the experts prefer? Experts
prefer the video with the higher mean of their votes (``preferences`` of ``rankings.py``
makes the pairs: the study's side-by-side pairs, or every two videos of a question).

- **Without ties**: pairs the experts tie are dropped; a rater that ties counts as wrong.
- **With ties**: three outcomes (a, b, tie). The rater ties when its two scores are within a
  threshold, and the threshold is calibrated on held-out pairs: prompts are split into two
  halves by a hash of their id, each half is scored with the threshold that does best on the
  other half (the smallest such), so no pair is scored with a threshold fitted on it.

Figures come overall and per axis, per leaf and per generator model (the pairs a model is
in), each with the number of pairs behind it.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from .table import Study

__all__ = ["AgreementError", "agreement", "model_scores"]


class AgreementError(ValueError):
    """The ratings cannot be compared as given; the message says why."""


def model_scores(ratings: pd.DataFrame, rater: str | None = None) -> pd.DataFrame:
    """One score per (video, question) of one automatic rater: ``video_id, question_id,
    score``. ``ratings`` is a Rating table (``table.read_ratings``); with several raters in
    it, ``rater`` picks one. Repeated scores of one item are averaged."""
    raters = sorted(ratings["rater"].unique())
    if rater is not None:
        ratings = ratings[ratings["rater"] == rater]
        if ratings.empty:
            raise AgreementError(f"no ratings by rater {rater!r} (raters: {', '.join(raters)})")
    elif len(raters) > 1:
        raise AgreementError(f"ratings of several raters ({', '.join(raters)}); pick one")
    grouped = ratings.groupby(["video_id", "question_id"], sort=True)["score"].mean()
    return grouped.reset_index()


def agreement(study: Study, scores: pd.DataFrame) -> dict[str, Any]:
    """Pairwise accuracy of ``scores`` (``model_scores``) against the experts of ``study``.

    ``study`` holds the human votes (``load_study(..., rater_kind="human")``). Pairs of
    which either video has no score from the rater are counted under ``unscored_pairs`` and
    left out of every figure.
    """
    from .rankings import match_videos, preferences

    matches = preferences(study.votes, study.items)
    try:
        pairs = match_videos(matches, study.items)
    except ValueError as exc:
        raise AgreementError(str(exc)) from None
    for side in ("a", "b"):
        named = {"video_id": f"video_id_{side}", "score": f"rater_{side}"}
        side_scores = scores[["video_id", "question_id", "score"]].rename(columns=named)
        pairs = pairs.merge(side_scores, on=["question_id", f"video_id_{side}"], how="left")
    complete = pairs["rater_a"].notna() & pairs["rater_b"].notna()
    pairs = pairs[complete].reset_index(drop=True)
    pairs["difference"] = pairs["rater_a"] - pairs["rater_b"]
    pairs["fold"] = [_fold(prompt) for prompt in pairs["prompt_id"]]
    decided = pairs[pairs["outcome"] != "tie"]
    with_ties, thresholds = _with_ties(pairs)
    return {
        "method": "pairwise preference accuracy against the experts' mean votes",
        "design": matches.attrs["settings"]["design"],
        "pairs": len(matches),
        "unscored_pairs": int((~complete).sum()),
        "without_ties": {
            **_accuracy(decided),
            "expert_ties_dropped": int((pairs["outcome"] == "tie").sum()),
            "rater_ties": int((decided["difference"] == 0).sum()),
        },
        "with_ties": {**with_ties, "tie_thresholds": thresholds},
        "by_axis": _by(decided, "axis"),
        "by_node": _by(decided, "node"),
        "by_generator": {
            model: _accuracy(decided[(decided["model_a"] == model) | (decided["model_b"] == model)])
            for model in sorted(set(decided["model_a"]) | set(decided["model_b"]))
        },
    }


def _fold(prompt_id: str) -> int:
    """0 or 1, fixed by the prompt id."""
    return hashlib.sha256(prompt_id.encode("utf-8")).digest()[0] % 2


def _correct_without_ties(pairs: pd.DataFrame) -> pd.Series:
    """Right when the rater prefers the side the experts prefer; a rater tie is wrong."""
    preferred_a = pairs["difference"] > 0
    preferred_b = pairs["difference"] < 0
    return ((pairs["outcome"] == "a") & preferred_a) | ((pairs["outcome"] == "b") & preferred_b)


def _correct_with_ties(pairs: pd.DataFrame, threshold: float) -> pd.Series:
    """Three outcomes: the rater ties within ``threshold`` (inclusive)."""
    tie = pairs["difference"].abs() <= threshold
    said_a = ~tie & (pairs["difference"] > 0)
    said_b = ~tie & (pairs["difference"] < 0)
    outcome = pairs["outcome"]
    return ((outcome == "tie") & tie) | ((outcome == "a") & said_a) | ((outcome == "b") & said_b)


def _best_threshold(pairs: pd.DataFrame) -> float:
    """The smallest tie threshold with the highest three-outcome accuracy on ``pairs``."""
    candidates = sorted({0.0, *(float(d) for d in pairs["difference"].abs())})
    hits = [int(_correct_with_ties(pairs, t).sum()) for t in candidates]
    return candidates[hits.index(max(hits))]


def _with_ties(pairs: pd.DataFrame) -> tuple[dict[str, Any], list[float | None]]:
    """Cross-fitted three-outcome accuracy and the threshold used on each half."""
    correct = 0
    thresholds: list[float | None] = []
    for fold in (0, 1):
        held_out, fitted_on = pairs[pairs["fold"] == fold], pairs[pairs["fold"] != fold]
        if held_out.empty or fitted_on.empty:
            thresholds.append(None)
            continue
        threshold = _best_threshold(fitted_on)
        thresholds.append(threshold)
        correct += int(_correct_with_ties(held_out, threshold).sum())
    scored = sum(int((pairs["fold"] == f).sum()) for f, t in enumerate(thresholds) if t is not None)
    return {"accuracy": correct / scored if scored else None, "pairs": scored}, thresholds


def _accuracy(pairs: pd.DataFrame) -> dict[str, Any]:
    count = len(pairs)
    right = int(_correct_without_ties(pairs).sum()) if count else 0
    return {"accuracy": right / count if count else None, "pairs": count}


def _by(pairs: pd.DataFrame, column: str) -> dict[str, dict[str, Any]]:
    return {str(key): _accuracy(group) for key, group in pairs.groupby(column, sort=True)}

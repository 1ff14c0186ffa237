"""Negative controls for any rater: does its score react to the prompt, and only to it?

**Prompt swap**: some videos are also rated on a question of another prompt, asked as if
the video had been made from that prompt. A rater that reads the video must, on average,
score those lower than the video's own questions. ``prompt_swaps`` picks the videos and
questions (seeded); the swapped ratings keep the video's id and carry the other prompt's
question id, so ``prompt_swap_summary`` can set them beside the video's own ratings.

**A/B order**: ``presentation_spread`` measures how far a score moves when the same video
is shown again, in another pair or on the other side.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from scine.records import Question, Rating, Video

__all__ = ["Swap", "presentation_spread", "prompt_swap_summary", "prompt_swaps", "swapped_pairs"]


@dataclass(frozen=True)
class Swap:
    """A video re-pointed at another prompt, and the one question of that prompt it is asked."""

    video: Video
    question: Question


def prompt_swaps(
    videos: Sequence[Video], questions: Sequence[Question], count: int, seed: int = 0
) -> list[Swap]:
    """``count`` videos (at most one swap per video), each paired with one question of another
    prompt on a control its own prompt is not asked about. Fewer when fewer videos have such
    a question. A rater asks a video every question of its prompt, so keep only the swapped
    pairs' ratings (``swapped_pairs``)."""
    by_prompt: dict[str, list[Question]] = defaultdict(list)
    for question in questions:
        by_prompt[question.prompt_id].append(question)
    rng = random.Random(seed)
    swaps: list[Swap] = []
    for video in rng.sample(list(videos), len(videos)):
        if len(swaps) == count:
            break
        own = {(q.node, q.value) for q in by_prompt[video.prompt_id]}
        others = [p for p in by_prompt if p != video.prompt_id]
        rng.shuffle(others)
        for prompt in others:
            fresh = [q for q in by_prompt[prompt] if (q.node, q.value) not in own]
            if fresh:
                swaps.append(
                    Swap(video.model_copy(update={"prompt_id": prompt}), rng.choice(fresh))
                )
                break
    return swaps


def swapped_pairs(swaps: Sequence[Swap]) -> set[tuple[str, str]]:
    """The (video id, question id) of every swap: the ratings and failures that count."""
    return {(swap.video.id, swap.question.id) for swap in swaps}


def prompt_swap_summary(own: Sequence[Rating], swapped: Sequence[Rating]) -> dict[str, Any]:
    """Mean score of the swapped videos on their own questions and on the swapped ones, and
    how many videos scored lower on the swapped question than on their own (mean)."""
    own_scores: dict[str, list[float]] = defaultdict(list)
    for rating in own:
        own_scores[rating.video_id].append(rating.score)
    pairs = [
        (fmean(own_scores[r.video_id]), r.score) for r in swapped if own_scores.get(r.video_id)
    ]
    if not pairs:
        return {"videos": 0, "note": "no swapped rating has own ratings of its video"}
    lower = sum(theirs < mine for mine, theirs in pairs)
    return {
        "videos": len(pairs),
        "mean_own": round(fmean(m for m, _ in pairs), 4),
        "mean_swapped": round(fmean(t for _, t in pairs), 4),
        "swapped_lower": lower,
        "swapped_lower_share": round(lower / len(pairs), 4),
        "passed": fmean(t for _, t in pairs) < fmean(m for m, _ in pairs),
    }


def presentation_spread(ratings: Sequence[Rating]) -> dict[str, Any]:
    """A/B order: how much one (video, question)'s score moves between presentations.

    A rater shown videos in pairs (``pair_id`` set, the video left or right) should give a
    video the same score wherever it sat; a pointwise judge sees one video at a time and
    gives one score, so its spread is zero by construction."""
    scores: dict[tuple[str, str], list[float]] = defaultdict(list)
    for rating in ratings:
        scores[(rating.video_id, rating.question_id)].append(rating.score)
    repeated = {item: found for item, found in scores.items() if len(found) > 1}
    spreads = [max(found) - min(found) for found in repeated.values()]
    return {
        "items": len(scores),
        "items_presented_more_than_once": len(repeated),
        "items_scored_differently": sum(spread > 0 for spread in spreads),
        "max_spread": max(spreads, default=0.0),
    }

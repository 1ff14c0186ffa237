"""Which annotator sees which two videos: every rated (video, question) gets exactly K
votes from K different annotators, with the work spread evenly.

Per prompt the videos are sorted by seed and model and taken two by two, so the two sides
of a comparison are different models of the same seed where the study has them. A prompt
with an odd number of videos shows its last video beside the first as a reference that
is not rated again. Each comparison goes to the K annotators with the least work so far
(ties broken by a seeded draw), and each copy draws its own left/right.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scine.records import Video

__all__ = ["AssignmentError", "Comparison", "PlannedTask", "comparisons", "plan_tasks"]


class AssignmentError(ValueError):
    """The study cannot be assigned as asked; the message says why."""


@dataclass(frozen=True)
class Comparison:
    """Two videos of one prompt; ``rated`` says which of them get votes here."""

    prompt_id: str
    first: str
    second: str
    rated: tuple[bool, bool] = (True, True)


@dataclass(frozen=True)
class PlannedTask:
    """One comparison for one annotator, sides drawn, at a place in their queue."""

    annotator: str
    prompt_id: str
    left: str
    right: str
    rate_left: bool
    rate_right: bool
    position: int


def comparisons(videos: Sequence[Video]) -> tuple[list[Comparison], list[str]]:
    """The comparisons of each prompt, and the prompts left out for having one video."""
    by_prompt: dict[str, list[Video]] = {}
    for video in videos:
        by_prompt.setdefault(video.prompt_id, []).append(video)
    found: list[Comparison] = []
    alone: list[str] = []
    for prompt_id, own in sorted(by_prompt.items()):
        own.sort(key=lambda v: (v.seed if v.seed is not None else -1, v.model, v.id))
        seen = {(v.seed, v.model) for v in own}
        if len(seen) != len(own):
            raise AssignmentError(f"prompt {prompt_id}: a model has two videos of the same seed")
        if len(own) < 2:
            alone.append(prompt_id)
            continue
        for first, second in zip(own[0::2], own[1::2], strict=False):
            found.append(Comparison(prompt_id, first.id, second.id))
        if len(own) % 2:
            found.append(Comparison(prompt_id, own[-1].id, own[0].id, rated=(True, False)))
    return found, alone


def plan_tasks(
    found: Sequence[Comparison],
    questions_per_prompt: Mapping[str, int],
    annotators: Sequence[str],
    votes: int = 3,
    seed: int = 0,
) -> list[PlannedTask]:
    """``votes`` copies of every comparison, each to a different annotator, least loaded
    first (load: rated videos times questions)."""
    if votes < 1:
        raise AssignmentError(f"votes must be at least 1 (got {votes})")
    if len(set(annotators)) < votes:
        raise AssignmentError(
            f"{votes} votes per item need at least {votes} different annotators; "
            f"{len(set(annotators))} given"
        )
    rng = random.Random(seed)
    load = dict.fromkeys(annotators, 0)
    queue = dict.fromkeys(annotators, 0)
    order = list(found)
    rng.shuffle(order)
    tasks = []
    for comparison in order:
        work = sum(comparison.rated) * questions_per_prompt.get(comparison.prompt_id, 0)
        draw = {name: rng.random() for name in load}
        for name in sorted(load, key=lambda n: (load[n], draw[n]))[:votes]:
            load[name] += work
            swap = rng.random() < 0.5
            left, right = (
                (comparison.second, comparison.first)
                if swap
                else (comparison.first, comparison.second)
            )
            rate_left, rate_right = comparison.rated[::-1] if swap else comparison.rated
            tasks.append(
                PlannedTask(
                    name, comparison.prompt_id, left, right, rate_left, rate_right, queue[name]
                )
            )
            queue[name] += 1
    return tasks

"""Training pairs from a study: two videos of one prompt and question, and who won.

Each video's score on a question is the mean of the experts' votes; every two videos of
different models on the same question make a pair (``scine.analysis.rankings.preferences``
with the round-robin design), labelled by the higher mean or a tie. Pairs are split by
prompt (a hash of its id), so no prompt is in both training and validation.

The evaluator is trained from the ratings table, the way ``scine.analysis`` reads it, and
judged by ``scine.analysis.agreement``: it reads studies and makes pairs with analysis's own
functions, so a training pair and an agreement pair are one definition (the design's flow
draws ``reward`` as a branch off the ratings table, beside analysis).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from scine.analysis.table import Study
from scine.records import Video

from .loss import OUTCOME_A, OUTCOME_B, OUTCOME_TIE

__all__ = [
    "Pair",
    "PairError",
    "split_by_prompt",
    "study_pairs",
    "unreadable_videos",
]

_OUTCOMES = {"a": OUTCOME_A, "b": OUTCOME_B, "tie": OUTCOME_TIE}


class PairError(ValueError):
    """The study gives no usable training pairs; the message says why."""


@dataclass(frozen=True)
class Pair:
    """Two videos rated on one question, and the experts' outcome (0: a, 1: b, 2: tie)."""

    prompt_id: str
    question_id: str
    video_a: str
    video_b: str
    outcome: int


def study_pairs(study: Study, *, ties: bool = False) -> tuple[list[Pair], Counter[str]]:
    """The study's pairs (ties only with ``ties``) and counts of what was made and left out."""
    from scine.analysis.rankings import match_videos, preferences

    try:
        matches = match_videos(
            preferences(study.votes, study.items, design="round_robin"), study.items
        )
    except ValueError as exc:
        raise PairError(str(exc)) from None
    counts: Counter[str] = Counter(matches["outcome"])
    kept = matches if ties else matches[matches["outcome"] != "tie"]
    columns = ["prompt_id", "question_id", "video_id_a", "video_id_b", "outcome"]
    pairs = [
        Pair(str(prompt), str(question), str(a), str(b), _OUTCOMES[str(outcome)])
        for prompt, question, a, b, outcome in kept[columns].itertuples(index=False)
    ]
    if not pairs:
        why = "every pair is a tie" if len(matches) else "no two videos share a rated question"
        raise PairError(f"no training pairs: {why} ({dict(counts) or 'no pairs'})")
    return pairs, counts


def split_by_prompt(
    pairs: Sequence[Pair], validation_share: float, seed: int = 0
) -> tuple[list[Pair], list[Pair]]:
    """Training and validation pairs; a prompt goes wholly to one side, by a seeded hash."""
    if not 0 < validation_share < 1:
        raise ValueError(f"validation_share must be between 0 and 1 (got {validation_share})")

    def held_out(prompt_id: str) -> bool:
        digest = hashlib.sha256(f"{seed}:{prompt_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < validation_share

    train = [pair for pair in pairs if not held_out(pair.prompt_id)]
    validation = [pair for pair in pairs if held_out(pair.prompt_id)]
    if not train or not validation:
        raise PairError(
            f"{len({p.prompt_id for p in pairs})} prompt(s) cannot be split into training and "
            f"validation with validation_share={validation_share}: one side would be empty"
        )
    return train, validation


def unreadable_videos(videos: Iterable[Video], root: Path) -> list[str]:
    """``path (why)`` for each file of ``videos`` that is missing or that FFmpeg cannot open
    as a video with frames: a cheap check of the container (packets, no frame decoded)."""
    found = []
    for video in videos:
        path = video.file(root)
        problem = _container_problem(path)
        if problem is not None:
            found.append(f"{path} ({problem})")
    return sorted(found)


def _container_problem(path: Path) -> str | None:
    """Why ``path`` is no readable video, or None."""
    import av

    from scine.video.probe import ffmpeg_reason
    from scine.video.sample import PROBE_OPTIONS

    if not path.is_file():
        return "missing"
    try:
        with av.open(str(path), mode="r", options=PROBE_OPTIONS) as container:
            stream = container.streams.best("video")
            if stream is None or not any(packet.size for packet in container.demux(stream)):
                return "no video stream with frames"
    except (av.FFmpegError, OSError) as exc:
        return f"not a video FFmpeg can read: {ffmpeg_reason(exc)}"
    return None

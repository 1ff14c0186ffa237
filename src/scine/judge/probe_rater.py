"""The measured probes as a rater: a 1-5 ``Rating`` for every question a probe can answer.

Videos meet their questions through the prompt id. A question whose leaf no probe reads,
which names no value, or whose value the probe cannot tell apart, is an ``Abstention`` with
its reason: counted and reported, never turned into a score.

With a cache, each video's readings are stored under a hash of its bytes, the probe version
and the sampling settings as soon as they are made: an interrupted run resumes where it
stopped, and a re-run over the same files reads instead of decoding.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scine.llm.cache import ResponseCache
from scine.records import Question, Rating, Video
from scine.video.sample import SamplingError

from ._clip import PROBE_SAMPLING, load_clip
from ._files import video_digest
from ._reading import Reading
from .probes import LEAVES, PROBE_VERSION, probe_clip, score

__all__ = ["CACHE_FORMAT", "RATER", "Abstention", "ProbeRun", "rate_with_probes"]

CACHE_FORMAT = "scine.judge.probes/1"
"""Part of every cache key; bumped if what is stored changes shape."""

RATER = "probe"
"""The ``rater`` of every probe rating (``rater_kind`` "model")."""


@dataclass(frozen=True)
class Abstention:
    """A question the probes did not score, and why."""

    video_id: str
    question_id: str
    node: str
    reason: str


@dataclass
class ProbeRun:
    """What ``rate_with_probes`` produced: ratings, abstentions and unreadable videos."""

    ratings: list[Rating] = field(default_factory=list)
    abstentions: list[Abstention] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)  # video id -> reason
    videos: int = 0
    questions: int = 0
    cached: int = 0  # videos whose readings came from the cache

    def summary(self) -> dict[str, Any]:
        """Counts for a report: ratings, abstentions by reason and by leaf, unreadable videos."""
        return {
            "videos": self.videos,
            "questions": self.questions,
            "ratings": len(self.ratings),
            "abstentions": len(self.abstentions),
            "abstentions_by_reason": dict(
                Counter(_reason_kind(a.reason) for a in self.abstentions).most_common()
            ),
            "abstentions_by_node": dict(Counter(a.node for a in self.abstentions).most_common()),
            "unreadable_videos": len(self.unreadable),
            "videos_read_from_cache": self.cached,
        }


def rate_with_probes(
    videos: Sequence[Video],
    questions: Iterable[Question],
    root: str | Path,
    *,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    cache: ResponseCache | None = None,
) -> ProbeRun:
    """Rate every (video, question of its prompt) pair the probes can answer.

    Video paths are relative to ``root`` (absolute ones are used as they are). Videos are
    probed ``workers`` at a time (default: one per usable CPU); a video none of whose
    questions a probe reads is not decoded. A video that cannot be decoded makes every
    one of its questions an abstention and is listed in ``unreadable``. With ``cache``,
    readings are looked up and stored by video content (see the module docstring).
    """
    by_prompt: dict[str, list[Question]] = defaultdict(list)
    for question in questions:
        by_prompt[question.prompt_id].append(question)
    run = ProbeRun(videos=len(videos))
    root = Path(root)

    def read(video: Video) -> tuple[Video, list[Reading] | str, bool]:
        """The video's readings (or why it cannot be read), and whether they were cached."""
        path = video.file(root)
        key = _cache_key(path) if cache is not None else None
        if cache is not None and key is not None and (stored := cache.get(key)) is not None:
            return video, [Reading(**reading) for reading in json.loads(stored)], True
        try:
            readings = probe_clip(load_clip(path, threaded=False))
        except SamplingError as exc:
            return video, str(exc), False
        if cache is not None and key is not None:
            cache.put(key, json.dumps([asdict(reading) for reading in readings]))
        return video, readings, False

    wanted = [v for v in videos if any(q.node in LEAVES for q in by_prompt[v.prompt_id])]
    probed = {video.id for video in wanted}
    for video in videos:
        if video.id not in probed:
            _add(run, video, by_prompt[video.prompt_id], [])
    width = workers or len(os.sched_getaffinity(0))
    with ThreadPoolExecutor(max_workers=width) as pool:
        for done, (video, readings, cached) in enumerate(pool.map(read, wanted), start=1):
            run.cached += cached
            if isinstance(readings, str):
                run.unreadable[video.id] = readings
                readings = []
            _add(run, video, by_prompt[video.prompt_id], readings, run.unreadable.get(video.id))
            if progress is not None:
                progress(done, len(wanted))
    return run


def _cache_key(path: Path) -> str | None:
    """The key of a video's readings: its bytes, the probes' version and sampling; None
    when the file cannot be read (sampling then reports why)."""
    digest = video_digest(path)
    if digest is None:
        return None
    parts = [CACHE_FORMAT, str(PROBE_VERSION), PROBE_SAMPLING.key(), digest]
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


def _add(
    run: ProbeRun,
    video: Video,
    questions: list[Question],
    readings: list[Reading],
    failure: str | None = None,
) -> None:
    """Score one video's questions from its readings into ``run``."""
    by_node = {reading.node: reading for reading in readings}
    meta = {
        "probe_version": PROBE_VERSION,
        "sampling": PROBE_SAMPLING.model_dump(),
        "sampling_key": PROBE_SAMPLING.key(),
    }
    for question in questions:
        run.questions += 1
        reading = by_node.get(question.node)
        value = None if reading is None else score(reading, question.value)
        if reading is None or value is None:
            reason = _why_not(question, reading, failure)
            run.abstentions.append(Abstention(video.id, question.id, question.node, reason))
            continue
        run.ratings.append(
            Rating(
                video_id=video.id,
                question_id=question.id,
                rater=RATER,
                rater_kind="model",
                score=value,
                raw={
                    "value": reading.value,
                    "confidence": reading.confidence,
                    "support": dict(reading.support),
                    "measure": reading.measure,
                },
                meta={**meta, "node": question.node, "asked": question.value},
            )
        )


def _why_not(question: Question, reading: Reading | None, failure: str | None) -> str:
    """Why a question gets no score."""
    if failure is not None:
        return f"video cannot be read: {failure}"
    if question.node not in LEAVES:
        return "no probe reads this leaf"
    if reading is not None and reading.reason and not reading.support:
        return f"probe abstained: {reading.reason}"
    if question.value is None:
        return "the question names no value"
    return f"the probe cannot tell this value apart: {question.value!r}"


def _reason_kind(reason: str) -> str:
    """The reason without its per-video details (the part before a colon)."""
    return reason.split(":", 1)[0]

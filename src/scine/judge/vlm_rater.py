"""A VLM judge as a rater: a 1-5 ``Rating`` for every (video, question of its prompt).

Videos are sampled in background threads while the judge works on the ones before them.
With a cache, each answer is stored under a hash of the judge, the instruction, the
sampling settings, the video's bytes and the question, as soon as it is made: an
interrupted run resumes where it stopped, and a video whose answers are all stored is not
even decoded. A video that cannot be read, or a question the judge could not answer, is a
``Failure`` with its reason: counted and reported, never dropped.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scine.llm.cache import ResponseCache
from scine.records import Question, Rating, Video
from scine.taxonomy import Taxonomy
from scine.video.sample import SampledFrames, SamplingError, VideoSampling, sample_frames

from ._files import video_digest
from .vlm import RATING_TOKENS, TEMPLATE_ID, Answer, Ask, Judge, VideoAsks, ask_for

__all__ = ["CACHE_FORMAT", "Failure", "JudgeRun", "Sampler", "rate_with_judge"]

CACHE_FORMAT = "scine.judge.vlm/1"
"""Part of every cache key; bumped if what is stored changes shape."""

LOW_MASS = 0.5
"""A score read from rating tokens that held less of the model's next-token probability
than this is counted in the report (the model mostly wanted to say something else)."""


@dataclass(frozen=True)
class Sampler:
    """Which frames a judge sees: ``default``, and ``camera`` for Camera-axis questions."""

    default: VideoSampling = field(default_factory=VideoSampling)
    camera: VideoSampling | None = None

    def for_node(self, node: str) -> VideoSampling:
        """The sampling of questions on leaf ``node``."""
        return (
            self.camera if self.camera is not None and node.startswith("camera.") else self.default
        )


@dataclass(frozen=True)
class Failure:
    """A question that got no score, and why."""

    video_id: str
    question_id: str
    reason: str


@dataclass
class JudgeRun:
    """What ``rate_with_judge`` produced, with counts for a report."""

    rater: str
    ratings: list[Rating] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    fallbacks: Counter[str] = field(default_factory=Counter)
    low_mass: int = 0  # scores whose rating tokens held under LOW_MASS of the probability
    videos: int = 0
    questions: int = 0
    cached: int = 0  # answers read from the cache
    answered: int = 0  # answers the judge made in this run (failures are not answers)
    seconds: float = 0.0  # wall time of the run

    def summary(self) -> dict[str, Any]:
        """Counts and throughput: ratings, failures by reason (the reason's first two
        parts, e.g. "no answer: failed after 5 attempts"), fallbacks, scores of low
        probability mass, cache hits."""
        return {
            "videos": self.videos,
            "questions": self.questions,
            "ratings": len(self.ratings),
            "failures": len(self.failures),
            "failures_by_reason": dict(
                Counter(":".join(f.reason.split(":", 2)[:2]) for f in self.failures).most_common()
            ),
            "fallbacks": dict(self.fallbacks),
            "scores_of_low_mass": self.low_mass,
            "answers_from_cache": self.cached,
            "answers_made": self.answered,
            "seconds": round(self.seconds, 3),
            "answers_per_second": round(self.answered / self.seconds, 3) if self.seconds else None,
        }


@dataclass
class _Job:
    """One video under one sampling, with the questions it answers and their cache keys."""

    video: Video
    path: Path
    sampling: VideoSampling
    questions: list[Question]
    asks: list[Ask]
    keys: list[str | None]


def rate_with_judge(
    judge: Judge,
    videos: Sequence[Video],
    questions: Iterable[Question],
    prompts: Mapping[str, str],
    taxonomy: Taxonomy,
    root: str | Path,
    *,
    sampler: Sampler | None = None,
    batch: int = 1,
    cache: ResponseCache | None = None,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> JudgeRun:
    """Ask ``judge`` every question of every video's prompt; ``prompts`` maps prompt ids to
    their text. Video paths are relative to ``root`` (absolute ones are used as they are).
    ``batch`` videos go to the judge at once while ``workers`` threads sample the next.
    ``progress(done, total)`` is called as videos finish. A video whose prompt has no text
    in ``prompts`` is a ``ValueError`` before anything runs."""
    if batch < 1 or workers < 1:
        raise ValueError("batch and workers must be at least 1")
    started = time.perf_counter()
    run = JudgeRun(rater=judge.name, videos=len(videos))
    jobs = _jobs(judge, videos, questions, prompts, taxonomy, Path(root), sampler or Sampler())
    run.questions = sum(len(job.questions) for job in jobs)
    todo = [job for job in jobs if not _all_cached(job, cache, run)]
    done = len(jobs) - len(todo)
    if progress is not None:
        progress(done, len(jobs))
    waiting: list[tuple[_Job, SampledFrames]] = []
    for job, frames in _sampled(todo, workers):
        if isinstance(frames, str):
            run.failures += [Failure(job.video.id, q.id, frames) for q in job.questions]
        else:
            waiting.append((job, frames))
        if len(waiting) >= batch:
            _ask(judge, waiting, cache, run)
            waiting.clear()
        done += 1
        if progress is not None:
            progress(done, len(jobs))
    if waiting:
        _ask(judge, waiting, cache, run)
    run.seconds = time.perf_counter() - started
    return run


def _jobs(
    judge: Judge,
    videos: Sequence[Video],
    questions: Iterable[Question],
    prompts: Mapping[str, str],
    taxonomy: Taxonomy,
    root: Path,
    sampler: Sampler,
) -> list[_Job]:
    """One job per (video, sampling) with its questions, asks and cache keys."""
    by_prompt: dict[str, list[Question]] = defaultdict(list)
    for question in questions:
        by_prompt[question.prompt_id].append(question)
    unknown = sorted({v.prompt_id for v in videos if v.prompt_id not in prompts})
    if unknown:
        shown = ", ".join(unknown[:5]) + (
            f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        )
        raise ValueError(
            f"no prompt text for the prompt id(s) of {len(unknown)} prompt(s): {shown}"
        )
    jobs = []
    for video in videos:
        path = video.file(root)
        digest = video_digest(path)
        groups: dict[VideoSampling, list[Question]] = defaultdict(list)
        for question in by_prompt[video.prompt_id]:
            groups[sampler.for_node(question.node)].append(question)
        for sampling, asked in groups.items():
            prompt = prompts[video.prompt_id]
            asks = [ask_for(taxonomy, prompt, q.node, q.value, q.text) for q in asked]
            tag = getattr(judge, "cache_tag", "")
            keys = [_cache_key(judge.name, tag, sampling, digest, ask) for ask in asks]
            jobs.append(_Job(video, path, sampling, asked, asks, keys))
    return jobs


def _cache_key(
    judge: str, tag: str, sampling: VideoSampling, digest: str | None, ask: Ask
) -> str | None:
    """The key of one answer (``tag``: the judge's other settings that change answers, if
    any); None when the video cannot be read."""
    if digest is None:
        return None
    parts = [CACHE_FORMAT, judge, *([tag] if tag else []), TEMPLATE_ID, sampling.key(), digest]
    parts += asdict(ask).values()
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def _all_cached(job: _Job, cache: ResponseCache | None, run: JudgeRun) -> bool:
    """Rate the job from the cache if every one of its answers is stored there."""
    if cache is None or any(key is None for key in job.keys):
        return False
    stored = [cache.get(key) for key in job.keys if key is not None]
    if any(text is None for text in stored):
        return False
    for index, text in enumerate(stored):
        assert text is not None
        _record(job, index, _stored_answer(text), run)
    run.cached += len(stored)
    return True


def _stored_answer(text: str) -> Answer:
    """An answer as the cache holds it (JSON of its fields)."""
    fields = json.loads(text)
    if fields.get("probs") is not None:
        fields["probs"] = tuple(fields["probs"])
    return Answer(**fields)


def _sampled(jobs: Sequence[_Job], workers: int) -> Iterator[tuple[_Job, SampledFrames | str]]:
    """Each job's frames (or why they cannot be had), in order, sampled ahead in threads."""

    def sample(job: _Job) -> SampledFrames | str:
        try:
            return sample_frames(job.path, job.sampling, threaded=False)
        except SamplingError as exc:
            return f"video cannot be read: {exc}"

    with ThreadPoolExecutor(max_workers=workers) as pool:
        ahead: deque[tuple[_Job, Future[SampledFrames | str]]] = deque()
        queue = iter(jobs)
        for job in queue:
            ahead.append((job, pool.submit(sample, job)))
            if len(ahead) > 2 * workers:
                first, future = ahead.popleft()
                yield first, future.result()
        while ahead:
            first, future = ahead.popleft()
            yield first, future.result()


def _ask(
    judge: Judge,
    waiting: Sequence[tuple[_Job, SampledFrames]],
    cache: ResponseCache | None,
    run: JudgeRun,
) -> None:
    """Ask the judge about a batch of videos; record and cache its answers."""
    answers = judge.answer([VideoAsks(frames, job.asks) for job, frames in waiting])
    for (job, _), found in zip(waiting, answers, strict=True):
        if len(found) != len(job.asks):
            raise RuntimeError(f"{judge.name} gave {len(found)} answers to {len(job.asks)} asks")
        for index, answer in enumerate(found):
            if answer.error is None:
                run.answered += 1
            key = job.keys[index]
            if cache is not None and key is not None and answer.error is None:
                cache.put(key, json.dumps(asdict(answer)))
            _record(job, index, answer, run)


def _record(job: _Job, index: int, answer: Answer, run: JudgeRun) -> None:
    """The answer as a Rating in ``run``, or as a Failure when it has no score."""
    question = job.questions[index]
    score = answer.score
    if score is None or not math.isfinite(score):
        why = answer.error or ("no rating in the reply" if score is None else f"score {score}")
        reason = f"no answer: {why}"
        run.failures.append(Failure(job.video.id, question.id, reason))
        return
    if answer.fallback is not None:
        run.fallbacks[answer.fallback] += 1
    if answer.mass is not None and answer.mass < LOW_MASS:
        run.low_mass += 1
    probs = None if answer.probs is None else dict(zip(RATING_TOKENS, answer.probs, strict=True))
    run.ratings.append(
        Rating(
            video_id=job.video.id,
            question_id=question.id,
            rater=run.rater,
            rater_kind="model",
            score=min(5.0, max(1.0, score)),
            raw={
                "text": answer.text,
                "probs": probs,
                "mass": answer.mass,
                "fallback": answer.fallback,
                "reward": answer.reward,
            },
            meta={
                "template": TEMPLATE_ID,
                "sampling": job.sampling.model_dump(),
                "sampling_key": job.sampling.key(),
                "node": question.node,
                "asked": question.value,
            },
        )
    )

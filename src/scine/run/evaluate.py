"""Automatic raters by name: the probes, a Qwen2.5-VL judge, a served judge, the trained
evaluator; one function makes a VLM judge from its spec, one rates videos with either."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from scine.records import Question, Rating, Video

if TYPE_CHECKING:
    from scine.judge.served import FramesAs
    from scine.judge.vlm import Answer, Judge, VideoAsks
    from scine.llm.cache import ResponseCache
    from scine.video.sample import VideoSampling

JUDGES = (
    "probes (measured, no model), qwen:MODEL (Hugging Face id or folder), openai:MODEL, "
    "reward:CHECKPOINT (a trained evaluator)"
)


class EvaluatorError(ValueError):
    """An evaluator that cannot be made as named; the message says why."""


@dataclass(frozen=True)
class ServedOptions:
    """An openai: judge's own options as it runs: those given, these defaults for the rest."""

    frames_as: str = "video"
    concurrency: int = 16
    timeout: float = 120.0
    retries: int = 4


@dataclass(frozen=True)
class JudgeOptions:
    """How a VLM judge runs and sees the videos (``scine judge run``'s options). The
    options of an openai: judge alone (``base_url`` and ``ServedOptions``') are None when
    not given, so that another judge can refuse them."""

    base_url: str | None = None
    fps: float = 2.0
    camera_fps: float | None = None
    max_pixels: int = 448 * 448
    batch: int | None = None  # videos at once: 1, or ``concurrency`` for a served judge
    question_batch: int = 16
    frames_as: str | None = None
    concurrency: int | None = None
    timeout: float | None = None
    retries: int | None = None
    workers: int | None = None

    def served(self) -> ServedOptions:
        """The openai: judge's own options: as given, else their defaults."""
        given = {f.name: getattr(self, f.name) for f in fields(ServedOptions)}
        return ServedOptions(**{name: value for name, value in given.items() if value is not None})

    def openai_only(self) -> list[str]:
        """The names of the options given that only an openai: judge takes."""
        names = ["base_url", *(f.name for f in fields(ServedOptions))]
        return [name for name in names if getattr(self, name) is not None]

    def videos_at_once(self, kind: str) -> int:
        """``batch``, else what fills the judge: ``concurrency`` videos for a served one."""
        return self.batch or (self.served().concurrency if kind == "openai" else 1)


@dataclass
class Rated:
    """What a rater made of the videos: ratings, and the report's details."""

    ratings: list[Rating]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def broken(self) -> list[str]:
        """Videos that could not be read and questions that got no answer, each with why."""
        unreadable = self.details.get("unreadable") or {}
        failures = self.details.get("failures") or []
        return [f"video {video!r}: {why}" for video, why in unreadable.items()] + [
            f"video {f['video_id']!r}, question {f['question_id']!r}: {f['reason']}"
            for f in failures
        ]


def parse_judge(spec: str) -> tuple[str, str]:
    """``spec`` as (kind, target): ("probes", "") or a VLM's kind and model or checkpoint."""
    kind, _, target = spec.partition(":")
    if spec != "probes" and (kind not in ("qwen", "openai", "reward") or not target.strip()):
        raise EvaluatorError(f"judge {spec!r}: expected {JUDGES}")
    return kind, target


def _flag(option: str) -> str:
    """The ``scine judge run`` flag of a ``JudgeOptions`` field."""
    return "--" + option.replace("_", "-")


def check_judge(
    spec: str, options: JudgeOptions, named: Callable[[str], str] = _flag
) -> tuple[str, str]:
    """``parse_judge(spec)``, refusing options the judge cannot take (before any work);
    ``named`` names an option in the message (default: its ``scine judge run`` flag)."""
    kind, target = parse_judge(spec)
    given = options.openai_only()
    if given and kind != "openai":
        verb = "is" if len(given) == 1 else "are"
        listed = " and ".join(named(option) for option in given)
        raise EvaluatorError(f"{listed} {verb} for an openai: judge, not {kind}")
    frames_as = options.served().frames_as
    if kind == "openai" and frames_as not in ("video", "images"):
        raise EvaluatorError(f"{named('frames_as')} {frames_as!r}: expected 'video' or 'images'")
    return kind, target


def make_judge(spec: str, options: JudgeOptions, say: Callable[[str], None] = print) -> Judge:
    """The VLM judge ``spec`` names (``qwen:``, ``openai:`` or ``reward:``). A local model
    is loaded when first asked (a run answered wholly from the cache loads none); a
    checkpoint's files are checked here, before any work."""
    kind, target = check_judge(spec, options)
    if kind == "probes":
        raise EvaluatorError("the probes are no VLM judge: rate with rate_videos")
    if kind == "reward":
        return _deferred_reward(target, options, say)
    if kind == "qwen":
        if Path(target).is_dir():  # one rater name however the folder is written
            target = os.path.normpath(target)
        return _Deferred(f"qwen:{target}", partial(_qwen_judge, target, options, say))
    from scine.judge.served import ServedJudge, ServerUnreachable

    served = options.served()
    try:
        judge = ServedJudge(
            target,
            base_url=options.base_url,
            frames_as=cast("FramesAs", served.frames_as),
            concurrency=served.concurrency,
            timeout=served.timeout,
            max_retries=served.retries,
        )
        judge.check_server()
    except (ValueError, ServerUnreachable) as exc:
        raise EvaluatorError(str(exc)) from None
    return judge


@dataclass
class _Deferred:
    """A judge made when first asked: a run answered wholly from the cache loads no model.
    ``cache_tag`` and ``sampling`` are what the made judge will say of itself (see
    ``rate_with_judge``), known before it is made."""

    name: str
    make: Callable[[], Judge]
    cache_tag: str = ""
    sampling: VideoSampling | None = None
    made: Judge | None = None

    def answer(self, videos: Sequence[VideoAsks]) -> list[list[Answer]]:
        """The made judge's answers (made now, on the first call)."""
        if self.made is None:
            self.made = self.make()
        return self.made.answer(videos)


def _qwen_judge(target: str, options: JudgeOptions, say: Callable[[str], None]) -> Judge:
    """A Qwen2.5-VL judge of the model at ``target``, loaded here."""
    from scine.judge.vlm import QwenJudge
    from scine.vlm.qwen import ModelLoadError, QwenVL

    say(f"loading {target} ...")
    try:
        model = QwenVL.load(target)
    except ModelLoadError as exc:
        raise EvaluatorError(str(exc)) from None
    return QwenJudge(
        model, video_batch=options.videos_at_once("qwen"), question_batch=options.question_batch
    )


def _deferred_reward(target: str, options: JudgeOptions, say: Callable[[str], None]) -> _Deferred:
    """The trained evaluator at ``target`` as a judge made when first asked: its
    reward.json and files checked now, its digest (the cache tag) and trained sampling
    read now, its model loaded later."""
    from scine.reward.checkpoint import CheckpointError, check_checkpoint, checkpoint_digest

    try:
        _, settings = check_checkpoint(target)
    except CheckpointError as exc:
        raise EvaluatorError(str(exc)) from None
    return _Deferred(
        f"reward:{target}",
        partial(_reward_judge, target, options, say),
        cache_tag=checkpoint_digest(target),
        sampling=settings.sampling,
    )


def _reward_judge(target: str, options: JudgeOptions, say: Callable[[str], None]) -> Judge:
    """The trained evaluator at ``target`` as a judge, loaded here."""
    from scine.reward.checkpoint import CheckpointError
    from scine.reward.judge import RewardJudge

    say(f"loading {target} ...")
    try:
        return RewardJudge.load(
            target,
            video_batch=options.videos_at_once("reward"),
            question_batch=options.question_batch,
        )
    except CheckpointError as exc:
        raise EvaluatorError(str(exc)) from None


def rate_videos(
    spec: str,
    videos: Sequence[Video],
    questions: Sequence[Question],
    prompts: dict[str, str],
    root: Path,
    options: JudgeOptions,
    cache: ResponseCache | None,
    progress: Callable[[int, int], None] | None = None,
    say: Callable[[str], None] = print,
) -> Rated:
    """Rate every video on its prompt's questions with the rater ``spec`` names; video paths
    are relative to ``root``; ``prompts`` maps prompt ids to their text (VLMs read it)."""
    if spec == "probes":
        from scine.judge.probe_rater import rate_with_probes

        probed = rate_with_probes(
            videos, questions, root, workers=options.workers, progress=progress, cache=cache
        )
        return Rated(
            probed.ratings,
            {
                "counts": probed.summary(),
                "unreadable": probed.unreadable,
                "abstentions": [vars(a) for a in probed.abstentions],
            },
        )
    from scine.judge.vlm_rater import Sampler, rate_with_judge
    from scine.taxonomy import load_taxonomy
    from scine.video.sample import VideoSampling

    unknown = sorted({v.prompt_id for v in videos} - set(prompts))
    if unknown:
        raise EvaluatorError(f"no text for prompt(s) {', '.join(unknown[:5])}")
    judge = make_judge(spec, options, say)
    sampling = VideoSampling(fps=options.fps, max_pixels=options.max_pixels)
    camera = (
        None
        if options.camera_fps is None
        else sampling.model_copy(update={"fps": options.camera_fps})
    )
    trained: VideoSampling | None = getattr(judge, "sampling", None)
    if trained is not None:  # a trained evaluator sees frames as it was trained on them
        sampling, camera = trained, None
        say(f"frames sampled as in training: {trained.model_dump()}")
    sampler = Sampler(sampling, camera)
    judged = rate_with_judge(
        judge,
        videos,
        questions,
        prompts,
        load_taxonomy(),
        root,
        sampler=sampler,
        batch=options.videos_at_once(parse_judge(spec)[0]),
        cache=cache,
        workers=options.workers or 2,
        progress=progress,
    )
    served = {"frames_as": options.served().frames_as} if parse_judge(spec)[0] == "openai" else {}
    return Rated(
        judged.ratings,
        {
            **served,
            "sampling": {
                "default": sampler.default.model_dump(),
                "camera": None if sampler.camera is None else sampler.camera.model_dump(),
            },
            "counts": judged.summary(),
            "failures": [vars(f) for f in judged.failures],
        },
    )

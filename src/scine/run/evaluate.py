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
    from scine.judge.vlm_rater import Sampler
    from scine.llm.cache import ResponseCache
    from scine.video.sample import VideoSampling

JUDGES = (
    "probes (measured, no model), qwen:MODEL (Hugging Face id or folder), openai:MODEL, "
    "reward:CHECKPOINT (a trained evaluator)"
)

_VLMS = ("qwen", "openai", "reward")

# The options some judge would ignore, each with the judges that take it; every judge takes
# the others (``workers``). The probes sample frames their own way and read no prompt; a
# trained evaluator samples them as it was trained; only qwen: and reward: batch questions.
_TAKEN_BY: dict[str, tuple[str, ...]] = {
    "base_url": ("openai",),
    "frames_as": ("openai",),
    "concurrency": ("openai",),
    "timeout": ("openai",),
    "retries": ("openai",),
    "fps": ("qwen", "openai"),
    "camera_fps": ("qwen", "openai"),
    "max_pixels": ("qwen", "openai"),
    "batch": _VLMS,
    "question_batch": ("qwen", "reward"),
    "prompts": _VLMS,
}


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
    """How a judge runs and sees the videos (``scine judge run``'s options). Each is None
    when not given, so that a judge that would ignore it can refuse it (``_TAKEN_BY``); a
    judge that takes it resolves None to its default."""

    base_url: str | None = None
    fps: float | None = None  # default VideoSampling's, 2.0
    camera_fps: float | None = None  # default: as ``fps``
    max_pixels: int | None = None  # default VideoSampling's, 448 * 448
    batch: int | None = None  # default 1; openai: ``concurrency``
    question_batch: int | None = None  # default 16
    frames_as: str | None = None
    concurrency: int | None = None
    timeout: float | None = None
    retries: int | None = None
    workers: int | None = None  # default: probes one per CPU, VLMs 2

    def given(self) -> list[str]:
        """The names of the options given."""
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]

    def served(self) -> ServedOptions:
        """The openai: judge's own options: as given, else their defaults."""
        given = {f.name: getattr(self, f.name) for f in fields(ServedOptions)}
        return ServedOptions(**{name: value for name, value in given.items() if value is not None})

    def videos_at_once(self, kind: str) -> int:
        """``batch``, else what fills the judge: ``concurrency`` videos for a served one."""
        return self.batch or (self.served().concurrency if kind == "openai" else 1)

    def questions_at_once(self) -> int:
        """``question_batch``, else 16."""
        return self.question_batch or 16


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
    spec: str,
    options: JudgeOptions,
    named: Callable[[str], str] = _flag,
    others: Sequence[str] = (),
) -> tuple[str, str]:
    """``parse_judge(spec)``, refusing options the judge would ignore (before any work):
    those of ``options`` given and the ``others`` given (names in ``_TAKEN_BY``); ``named``
    names an option in the message (default: its ``scine judge run`` flag)."""
    kind, target = parse_judge(spec)
    refused = [
        option
        for option in [*options.given(), *others]
        if kind not in _TAKEN_BY.get(option, (kind,))
    ]
    if refused:
        raise EvaluatorError(_refusal(kind, refused, named))
    frames_as = options.served().frames_as
    if kind == "openai" and frames_as not in ("video", "images"):
        raise EvaluatorError(f"{named('frames_as')} {frames_as!r}: expected 'video' or 'images'")
    return kind, target


def _refusal(kind: str, refused: Sequence[str], named: Callable[[str], str]) -> str:
    """Why the judge ``kind`` refuses these options: each is for other judges, named."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for option in refused:
        groups.setdefault(_TAKEN_BY[option], []).append(named(option))
    return "; ".join(
        f"{_listed(names, 'and')} {'is' if len(names) == 1 else 'are'} for "
        f"{_judges(judges)} judge, not {kind}"
        for judges, names in groups.items()
    )


def _judges(kinds: Sequence[str]) -> str:
    """``("qwen", "openai")`` as "a qwen: or openai:"."""
    listed = _listed([f"{kind}:" for kind in kinds], "or")
    return f"{'an' if listed[0] in 'aeiou' else 'a'} {listed}"


def _listed(words: Sequence[str], last: str) -> str:
    """The words as a list: "a", "a and b", "a, b and c" (``last``: "and" or "or")."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


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
        model,
        video_batch=options.videos_at_once("qwen"),
        question_batch=options.questions_at_once(),
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
            question_batch=options.questions_at_once(),
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
    kind, _ = check_judge(spec, options)
    if kind == "probes":
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
    from scine.judge.vlm_rater import rate_with_judge
    from scine.taxonomy import load_taxonomy

    unknown = sorted({v.prompt_id for v in videos} - set(prompts))
    if unknown:
        raise EvaluatorError(f"no text for prompt(s) {', '.join(unknown[:5])}")
    judge = make_judge(spec, options, say)
    sampler = _sampler(judge, options, say)
    judged = rate_with_judge(
        judge,
        videos,
        questions,
        prompts,
        load_taxonomy(),
        root,
        sampler=sampler,
        batch=options.videos_at_once(kind),
        cache=cache,
        workers=options.workers or 2,
        progress=progress,
    )
    served = {"frames_as": options.served().frames_as} if kind == "openai" else {}
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


def _sampler(judge: Judge, options: JudgeOptions, say: Callable[[str], None]) -> Sampler:
    """The frames the judge sees: a trained evaluator's as in its training, another's as
    the options say (``camera_fps``: Camera questions sampled again at that rate)."""
    from scine.judge.vlm_rater import Sampler
    from scine.video.sample import VideoSampling

    trained: VideoSampling | None = getattr(judge, "sampling", None)
    if trained is not None:
        say(f"frames sampled as in training: {trained.model_dump()}")
        return Sampler(trained)
    given = {"fps": options.fps, "max_pixels": options.max_pixels}
    sampling = VideoSampling(**{name: value for name, value in given.items() if value is not None})
    if options.camera_fps is None:
        return Sampler(sampling)
    return Sampler(sampling, sampling.model_copy(update={"fps": options.camera_fps}))

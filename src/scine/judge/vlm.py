"""Zero-shot VLM judges: a video, its prompt and one question give a 1-5 score.

The score is the expected rating under the model's probabilities of the tokens "1".."5"
at the answer position (renormalized over those five), not a number parsed from text;
the text the model would generate is kept beside it. A preference between two videos is
the higher score. The instruction (``templates/rating.*.txt``, package data) tells the
model to rate only the question's control.
"""

from __future__ import annotations

import hashlib
import math
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Protocol

from scine.bench.templates import describe_controls
from scine.records import Control
from scine.taxonomy import Taxonomy

if TYPE_CHECKING:
    import torch

    from scine.video.sample import SampledFrames
    from scine.vlm.qwen import QwenVL

__all__ = [
    "RATING_TOKENS",
    "TEMPLATE_ID",
    "Answer",
    "Ask",
    "Judge",
    "QwenJudge",
    "VideoAsks",
    "ask_for",
    "batches_of_one_size",
    "expected_score",
    "instruction",
    "question_text",
]

RATING_TOKENS = ("1", "2", "3", "4", "5")


@cache
def _template(part: str) -> string.Template:
    path = resources.files("scine.judge") / "templates" / f"rating.{part}.txt"
    return string.Template(path.read_text(encoding="utf-8"))


def _template_id() -> str:
    text = _template("system").template + "\0" + _template("user").template
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


TEMPLATE_ID = _template_id()
"""A hash of the instruction's text: recorded with every score and part of its cache key."""


@dataclass(frozen=True)
class Ask:
    """One question about one video: the prompt it was made from and the control asked."""

    prompt: str
    control: str
    question: str


def ask_for(taxonomy: Taxonomy, prompt: str, node: str, value: str | None, question: str) -> Ask:
    """The ``Ask`` of a question on leaf ``node`` (and ``value``) about a video of ``prompt``."""
    line = describe_controls(taxonomy, [Control(node=node, value=value)])
    return Ask(prompt=prompt, control=line.removeprefix("- "), question=question)


def instruction() -> str:
    """The system text: how to rate, the same for every question (so it is in the prefix)."""
    return _template("system").substitute().strip()


def question_text(ask: Ask) -> str:
    """The user text that follows the video: the prompt, the control and the question."""
    values = {"prompt": ask.prompt, "control": ask.control, "question": ask.question}
    return _template("user").substitute(values).strip()


@dataclass(frozen=True)
class Answer:
    """A judge's answer to one ``Ask``.

    ``probs``: probabilities of "1".."5" (summing to 1) when the model's token
    probabilities were read; ``mass``: how much of the model's whole next-token
    distribution those five tokens held; ``text``: what it generated. ``fallback`` names
    how the score was got when probabilities were missing (e.g. ``"parsed_text"``);
    ``reward`` is a trained evaluator's unbounded output, scored ``1 + 4 sigmoid(reward)``
    (the order of rewards, all that pairwise agreement reads, is kept); ``error`` says why
    there is no score at all.
    """

    text: str
    probs: tuple[float, ...] | None = None
    mass: float | None = None
    fallback: str | None = None
    error: str | None = None
    parsed: int | None = None
    reward: float | None = None

    @property
    def score(self) -> float | None:
        """The expected rating, the squashed reward, or the parsed digit on a fallback;
        None on an error."""
        if self.probs is not None:
            return expected_score(self.probs)
        if self.reward is not None:
            return 1 + 4 * _sigmoid(self.reward)
        return None if self.parsed is None else float(self.parsed)


def _sigmoid(x: float) -> float:
    """The logistic function, without overflow for large negative or positive ``x``."""
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    return math.exp(x) / (1 + math.exp(x))


def expected_score(probs: Sequence[float]) -> float:
    """Sum of rating times probability over the ratings 1..5."""
    if len(probs) != len(RATING_TOKENS):
        raise ValueError(f"need {len(RATING_TOKENS)} probabilities, got {len(probs)}")
    return float(sum((rating + 1) * p for rating, p in enumerate(probs)))


@dataclass(frozen=True)
class VideoAsks:
    """A video's sampled frames and the questions asked about it."""

    frames: SampledFrames
    asks: Sequence[Ask]


class Judge(Protocol):
    """Anything that answers questions about videos."""

    name: str

    def answer(self, videos: Sequence[VideoAsks]) -> list[list[Answer]]:
        """One answer per ask, per video, in order."""
        ...


def batches_of_one_size(videos: Sequence[VideoAsks], size: int) -> Iterator[list[int]]:
    """Indices of ``videos`` in batches of at most ``size`` whose frames have one shape
    (videos encoded together must give prefixes of one length)."""
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for index, video in enumerate(videos):
        by_shape.setdefault(video.frames.frames.shape, []).append(index)
    for indices in by_shape.values():
        for start in range(0, len(indices), size):
            yield indices[start : start + size]


@dataclass
class QwenJudge:
    """A Qwen2.5-VL judge run locally with transformers.

    Each video is encoded once with the instruction and its cache reused for all of its
    questions; ``video_batch`` videos of one frame size are encoded together and
    ``question_batch`` questions answered together.
    """

    model: QwenVL
    video_batch: int = 1
    question_batch: int = 16
    name: str = field(init=False)

    def __post_init__(self) -> None:
        if self.video_batch < 1 or self.question_batch < 1:
            raise ValueError("video_batch and question_batch must be at least 1")
        self.name = f"qwen:{self.model.name}"
        self._rating_ids = _single_token_ids(self.model.tokenizer, RATING_TOKENS)

    def answer(self, videos: Sequence[VideoAsks]) -> list[list[Answer]]:
        """Answers by the model's probabilities of "1".."5" at the answer position."""
        answers: list[list[Answer]] = [[] for _ in videos]
        for chunk in batches_of_one_size(videos, self.video_batch):
            together = self._answer_together([videos[i] for i in chunk])
            for index, found in zip(chunk, together, strict=True):
                answers[index] = found
        return answers

    def _answer_together(self, videos: Sequence[VideoAsks]) -> list[list[Answer]]:
        """Answers for videos whose frames have one shape, encoded in one batch."""
        model = self.model
        system = instruction()
        patches = [model.patches(v.frames.frames, v.frames.rate) for v in videos]
        prefixes = model.encode(patches, system)
        asked = [(row, ask) for row, video in enumerate(videos) for ask in video.asks]
        found: list[Answer] = []
        for start in range(0, len(asked), self.question_batch):
            chunk = asked[start : start + self.question_batch]
            texts = [model.continuation_ids(question_text(ask)) for _, ask in chunk]
            out = model.continue_from(prefixes, [row for row, _ in chunk], texts)
            found += self._read(out.logits)
        answers: list[list[Answer]] = [[] for _ in videos]
        for (row, _), answer in zip(asked, found, strict=True):
            answers[row].append(answer)
        return answers

    def _read(self, logits: torch.Tensor) -> list[Answer]:
        """Answers from next-token logits (n, vocab)."""
        import torch

        everything = torch.softmax(logits.float(), dim=-1)
        ratings = everything[:, list(self._rating_ids)]
        mass = ratings.sum(dim=-1)
        probs = ratings / mass.clamp_min(torch.finfo(torch.float32).tiny).unsqueeze(-1)
        top = logits.argmax(dim=-1).tolist()
        return [
            Answer(
                text=self.model.tokenizer.decode([token]),
                probs=tuple(float(p) for p in row),
                mass=float(total),
                parsed=None,
            )
            for token, row, total in zip(top, probs, mass, strict=True)
        ]


def _single_token_ids(tokenizer: object, tokens: Sequence[str]) -> tuple[int, ...]:
    """Token ids of ``tokens``, each of which must be exactly one token."""
    ids = []
    for token in tokens:
        encoded = tokenizer.encode(token, add_special_tokens=False)  # type: ignore[attr-defined]
        if len(encoded) != 1:
            raise ValueError(f"the tokenizer splits {token!r} into {len(encoded)} tokens")
        ids.append(int(encoded[0]))
    return tuple(ids)

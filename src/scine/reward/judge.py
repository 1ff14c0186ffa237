"""A trained evaluator as a judge: ``scine judge run --judge reward:CKPT``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from scine.judge.vlm import Answer, VideoAsks, batches_of_one_size, question_text
from scine.video.sample import VideoSampling

from .checkpoint import TrainSettings, checkpoint_digest, load_reward
from .model import RewardModel

__all__ = ["RewardJudge"]


@dataclass
class RewardJudge:
    """Rewards for every question of every video: each video encoded once, its prefix
    reused for its questions (``RewardModel.score``); ``video_batch`` videos of one frame
    size encoded together, ``question_batch`` questions run together. A reward that is not
    a finite number is an answer with an error, never a score."""

    model: RewardModel
    config: dict[str, Any]
    checkpoint: str
    video_batch: int = 1
    question_batch: int = 16
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = f"reward:{self.checkpoint}"

    @classmethod
    def load(cls, checkpoint: str | Path, **settings: Any) -> RewardJudge:
        """The judge of the evaluator saved at ``checkpoint``."""
        model, config = load_reward(checkpoint)
        return cls(model, config, str(checkpoint), **settings)

    @cached_property
    def cache_tag(self) -> str:
        """The digest of the checkpoint's files, in the judge's cache keys: a checkpoint
        trained again into the same folder misses the cache."""
        return checkpoint_digest(self.checkpoint)

    @property
    def sampling(self) -> VideoSampling:
        """The frame sampling the evaluator was trained with (scoring must use it)."""
        return TrainSettings.model_validate(self.config["settings"]).sampling

    def answer(self, videos: Sequence[VideoAsks]) -> list[list[Answer]]:
        """An ``Answer`` carrying the reward for every ask."""
        qwen = self.model.qwen
        answers: list[list[Answer]] = [[] for _ in videos]
        for chunk in batches_of_one_size(videos, self.video_batch):
            patches = [qwen.patches(videos[i].frames.frames, videos[i].frames.rate) for i in chunk]
            texts = [
                [qwen.continuation_ids(question_text(a)) for a in videos[i].asks] for i in chunk
            ]
            rewards = self.model.score(patches, texts, batch=self.question_batch)
            for index, found in zip(chunk, rewards, strict=True):
                answers[index] = [_answer(reward) for reward in found]
        return answers


def _answer(reward: float) -> Answer:
    """The answer carrying ``reward``, or an error when it is no finite number."""
    if math.isfinite(reward):
        return Answer(text="", reward=reward)
    return Answer(
        text="",
        error=f"the evaluator's reward is {reward}, not a finite number (a broken checkpoint?)",
    )

"""A judge on an OpenAI-compatible server (vLLM, ...), fed the project's own frames.

Frames are sampled here, by the same ``VideoSampling`` as the local judge, and sent with
the request: as a video made of JPEG frames (``frames_as="video"``: a
``data:video/jpeg;base64,<frame>,<frame>,...`` URL, which vLLM reads as a video of
exactly those frames) or as one lossless PNG image per frame (``"images"``: any server
that takes images). Each request asks for one token with its ``top_logprobs``; the score
is the expected rating over the probabilities of "1".."5" among them. A server that gives
no log-probabilities, or none of those five tokens, is answered by the fallback: the digit
the reply starts with, counted as ``fallback="parsed_text"``; a reply without one is an
error. Nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import base64
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from scine.llm.openai_backend import complete_with_retries, run_coroutine

from .vlm import RATING_TOKENS, Answer, Ask, VideoAsks, instruction, question_text

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletion

__all__ = ["FramesAs", "ServedJudge", "ServerUnreachable"]

FramesAs = Literal["video", "images"]

_DIGIT = re.compile(r"^\s*([1-5])(?!\d)")
CHECK_TIMEOUT = 30.0
"""Seconds the check that a server answers at all waits, at most."""


class ServerUnreachable(RuntimeError):
    """Nothing answers at the judge's ``base_url``; the message names it."""


@dataclass
class ServedJudge:
    """A judge asking ``model`` on the server at ``base_url``; ``concurrency`` requests in
    flight, each retried ``max_retries`` times on server errors and timeouts."""

    model: str
    base_url: str | None = None
    api_key: str | None = None
    frames_as: FramesAs = "video"
    top_logprobs: int = 20
    concurrency: int = 16
    timeout: float = 120.0
    max_retries: int = 4
    backoff: float = 0.5
    name: str = field(init=False)

    def __post_init__(self) -> None:
        if self.frames_as not in ("video", "images"):
            raise ValueError(f"frames_as must be 'video' or 'images', not {self.frames_as!r}")
        if self.concurrency < 1 or not 1 <= self.top_logprobs <= 20:
            raise ValueError("concurrency must be at least 1 and top_logprobs 1 to 20")
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise ValueError(
                f"base URL {self.base_url!r}: expected http://HOST:PORT/v1 or https://"
            )
        if self.timeout <= 0 or self.max_retries < 0:
            raise ValueError("timeout must be above 0 seconds and max_retries at least 0")
        self.name = f"openai:{self.model}"

    @property
    def cache_tag(self) -> str:
        """What besides the name changes an answer: how the frames are sent."""
        return f"frames_as={self.frames_as}"

    def check_server(self) -> None:
        """Raise ``ServerUnreachable`` when nothing answers at ``base_url`` (a run would else
        retry every question against it); a server without a model list passes."""
        run_coroutine(self._check_server())

    async def _check_server(self) -> None:
        from openai import APIConnectionError, APIStatusError

        client = self._client(min(self.timeout, CHECK_TIMEOUT))
        try:
            await client.models.list()
        except APIConnectionError as exc:
            where = self.base_url or "the OpenAI API"
            raise ServerUnreachable(f"no server answers at {where}: {exc}") from None
        except APIStatusError:
            pass  # it answers, only not with a model list
        finally:
            await client.close()

    def answer(self, videos: Sequence[VideoAsks]) -> list[list[Answer]]:
        """Every ask of every video, sent concurrently."""
        return run_coroutine(self._answer_all(videos))

    def _client(self, timeout: float) -> AsyncOpenAI:
        from openai import AsyncOpenAI

        return AsyncOpenAI(
            api_key=self.api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY",
            base_url=self.base_url,
            timeout=timeout,
            max_retries=0,
        )

    async def _answer_all(self, videos: Sequence[VideoAsks]) -> list[list[Answer]]:
        client = self._client(self.timeout)
        slots = asyncio.Semaphore(self.concurrency)
        try:
            batches = []
            for video in videos:
                media = self._media(video.frames.frames)
                asks = (self._answer(client, slots, media, ask) for ask in video.asks)
                batches.append(asyncio.gather(*asks))
            return [list(found) for found in await asyncio.gather(*batches)]
        finally:
            await client.close()

    async def _answer(
        self,
        client: AsyncOpenAI,
        slots: asyncio.Semaphore,
        media: list[dict[str, Any]],
        ask: Ask,
    ) -> Answer:
        request = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": instruction()},
                {"role": "user", "content": [*media, {"type": "text", "text": question_text(ask)}]},
            ],
            "max_tokens": 1,
            "temperature": 0.0,
            "logprobs": True,
            "top_logprobs": self.top_logprobs,
        }
        sent = await complete_with_retries(client, slots, request, self.max_retries, self.backoff)
        if sent.response is None:
            return Answer(text="", error=sent.error)
        return read_completion(sent.response)

    def _media(self, frames: NDArray[np.uint8]) -> list[dict[str, Any]]:
        """The frames as the request's content parts."""
        if self.frames_as == "video":
            joined = ",".join(_encoded(frame, ".jpg") for frame in frames)
            return [{"type": "video_url", "video_url": {"url": f"data:video/jpeg;base64,{joined}"}}]
        return [
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}}
            for data in (_encoded(frame, ".png") for frame in frames)
        ]


def read_completion(response: ChatCompletion) -> Answer:
    """An answer from a one-token completion: by its log-probabilities of "1".."5", else
    by the digit its text starts with (``fallback="parsed_text"``), else an error. A reply
    that is no chat completion, or log-probabilities above 0, is an error."""
    choices = getattr(response, "choices", None)
    if not isinstance(choices, list):
        return Answer(text="", error=f"the reply is no chat completion: {str(response)[:80]!r}")
    if not choices:
        return Answer(text="", error="the server returned no choices")
    choice = choices[0]
    text = getattr(getattr(choice, "message", None), "content", None) or ""
    try:
        probs = _rating_probs(choice.logprobs)
    except ValueError as exc:
        return Answer(text=text, error=str(exc))
    if probs is not None:
        mass = sum(probs)
        return Answer(text=text, probs=tuple(p / mass for p in probs), mass=mass)
    why = "no log-probabilities" if choice.logprobs is None else "no rating among the top tokens"
    digit = _DIGIT.match(text)
    if digit is None:
        return Answer(text=text, error=f"{why} and no rating in the reply {text[:80]!r}")
    return Answer(text=text, parsed=int(digit.group(1)), fallback="parsed_text")


def _rating_probs(logprobs: Any) -> list[float] | None:
    """Probabilities of "1".."5" at the first generated token, or None if none is listed."""
    content = getattr(logprobs, "content", None)
    if not content:
        return None
    found = dict.fromkeys(RATING_TOKENS, 0.0)
    for candidate in content[0].top_logprobs or []:
        token = candidate.token.strip()
        if candidate.logprob > 0:
            raise ValueError(f"the server gave log-probability {candidate.logprob} (above 0)")
        if token in found and math.isfinite(candidate.logprob):
            found[token] += math.exp(candidate.logprob)
    probs = list(found.values())
    return probs if sum(probs) > 0 else None


def _encoded(frame: NDArray[np.uint8], extension: str) -> str:
    """Base64 of an RGB frame as JPEG (quality 95) or PNG."""
    import cv2

    settings = [cv2.IMWRITE_JPEG_QUALITY, 95] if extension == ".jpg" else []
    ok, data = cv2.imencode(extension, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), settings)
    if not ok:
        raise ValueError(f"cannot encode a frame of shape {frame.shape} as {extension}")
    return base64.b64encode(data.tobytes()).decode("ascii")

"""``OpenAIChat``: JSON tasks on any OpenAI-compatible chat-completions server.

Works with OpenAI, vLLM, the llama.cpp server and Ollama (give ``base_url``). Requests run
concurrently (at most ``concurrency`` in flight); rate limits, server errors, timeouts and
lost connections are retried with exponential backoff; invalid replies are re-asked with the
exact problems. The ``openai`` package is imported only when tasks run.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel

from scine.llm._tasks import JsonTask, Message, Outcome, read_reply, reask_message
from scine.llm.cache import ResponseCache

if TYPE_CHECKING:
    from openai import APIStatusError, AsyncOpenAI
    from openai.types.chat import ChatCompletion

__all__ = ["JsonMode", "OpenAIChat", "Sent", "complete_with_retries", "run_coroutine"]

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")
JsonMode = Literal["schema", "object", "none"]

JSON_MODES: tuple[JsonMode, ...] = ("schema", "object", "none")


@dataclass(frozen=True)
class _Reply:
    """One chat completion: its text and why it stopped, or the error that ended the task."""

    text: str | None
    finish_reason: str | None
    attempts: int
    error: str | None = None


class OpenAIChat:
    """A ``JsonLLM`` backed by an OpenAI-compatible chat-completions endpoint.

    ``api_key`` defaults to ``$OPENAI_API_KEY``, else ``"EMPTY"`` (local servers need none).
    ``json_mode`` picks the ``response_format`` sent: ``"schema"`` (the output model's JSON
    schema), ``"object"`` (any JSON object) or ``"none"`` (not sent); every reply is parsed
    and validated whatever the mode.
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        concurrency: int = 16,
        timeout: float = 60.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        max_reasks: int = 2,
        cache: ResponseCache | None = None,
        json_mode: JsonMode = "schema",
    ) -> None:
        _check_settings(model, concurrency, timeout, max_retries, backoff, max_reasks, json_mode)
        self.name = f"openai:{model}"
        self.model = model
        self.base_url = base_url
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_reasks = max_reasks
        self.cache = cache
        self.json_mode: JsonMode = json_mode

    def __repr__(self) -> str:
        where = f", base_url={self.base_url!r}" if self.base_url else ""
        return f"OpenAIChat({self.model!r}{where}, json_mode={self.json_mode!r})"

    def run(
        self, tasks: Sequence[JsonTask[T]], progress: Callable[[int], None] | None = None
    ) -> list[Outcome[T]]:
        """Run all tasks concurrently; one outcome per task, in order.

        A task that fails (after retries and re-asks) gives an outcome with ``value=None`` and
        ``error`` set; ``run`` itself does not raise for it. ``progress(done)`` is called
        after each task finishes.
        """
        return run_coroutine(self._run_all(tasks, progress))

    async def _run_all(
        self, tasks: Sequence[JsonTask[T]], progress: Callable[[int], None] | None
    ) -> list[Outcome[T]]:
        from openai import AsyncOpenAI

        client = AsyncOpenAI(
            api_key=self.api_key, base_url=self.base_url, timeout=self.timeout, max_retries=0
        )
        slots = asyncio.Semaphore(self.concurrency)
        done = 0

        async def one(task: JsonTask[T]) -> Outcome[T]:
            nonlocal done
            outcome = await self._solve(client, slots, task)
            done += 1
            if progress is not None:
                progress(done)
            return outcome

        try:
            return list(await asyncio.gather(*(one(task) for task in tasks)))
        finally:
            await client.close()

    async def _solve(
        self, client: AsyncOpenAI, slots: asyncio.Semaphore, task: JsonTask[T]
    ) -> Outcome[T]:
        """One task: from the cache, or asked (and re-asked) until its reply is valid."""
        key = self._cache_key(task)
        cached = self._from_cache(key, task)
        if cached is not None:
            return Outcome(value=cached, error=None, attempts=0, reasks=0, cached=True)
        messages = list(task.messages)
        attempts = 0
        problems: list[str] = []
        for reasks in range(self.max_reasks + 1):
            reply = await self._complete(client, slots, task, messages)
            attempts += reply.attempts
            if reply.error is not None:
                return Outcome(None, reply.error, attempts, reasks, cached=False)
            checked = read_reply(task, reply.text, reply.finish_reason)
            if not isinstance(checked, list):
                self._store(key, reply.text)
                return Outcome(checked, None, attempts, reasks, cached=False)
            problems = checked
            messages += [{"role": "assistant", "content": reply.text or ""}]
            messages += [reask_message(problems)]
        error = f"invalid reply after {self.max_reasks} re-asks: {'; '.join(problems)}"
        return Outcome(None, error, attempts, self.max_reasks, cached=False)

    async def _complete(
        self,
        client: AsyncOpenAI,
        slots: asyncio.Semaphore,
        task: JsonTask[T],
        messages: list[Message],
    ) -> _Reply:
        """One chat completion, retried on rate limits, server errors, timeouts, lost links."""
        sent = await complete_with_retries(
            client, slots, self._request(task, messages), self.max_retries, self.backoff
        )
        if sent.response is None or not sent.response.choices:
            return _Reply(None, None, sent.attempts, error=sent.error)
        choice = sent.response.choices[0]
        return _Reply(choice.message.content, choice.finish_reason, sent.attempts)

    def _request(self, task: JsonTask[T], messages: list[Message]) -> dict[str, Any]:
        """The keyword arguments of ``chat.completions.create`` for this task."""
        request: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": task.temperature,
        }
        if task.seed is not None:
            request["seed"] = task.seed
        if task.max_tokens is not None:
            request["max_tokens"] = task.max_tokens
        if self.json_mode == "schema":
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": _schema_name(task.output),
                    "schema": task.output.model_json_schema(),
                    "strict": False,
                },
            }
        elif self.json_mode == "object":
            request["response_format"] = {"type": "json_object"}
        return request

    def _cache_key(self, task: JsonTask[T]) -> str | None:
        if self.cache is None:
            return None
        return self.cache.key_for(
            model=self.model,
            messages=task.messages,
            schema=task.output.model_json_schema(),
            temperature=task.temperature,
            seed=task.seed,
            max_tokens=task.max_tokens,
            json_mode=self.json_mode,
        )

    def _from_cache(self, key: str | None, task: JsonTask[T]) -> T | None:
        """The cached value, if any and still valid (``check`` may have changed since)."""
        if key is None or self.cache is None:
            return None
        text = self.cache.get(key)
        if text is None:
            return None
        checked = read_reply(task, text, "stop")
        return None if isinstance(checked, list) else checked

    def _store(self, key: str | None, text: str | None) -> None:
        if key is not None and self.cache is not None and text:
            self.cache.put(key, text)


@dataclass(frozen=True)
class Sent:
    """What became of one request: the response, or the error after the last attempt."""

    response: ChatCompletion | None
    attempts: int
    error: str | None = None


async def complete_with_retries(
    client: AsyncOpenAI,
    slots: asyncio.Semaphore,
    request: dict[str, Any],
    max_retries: int,
    backoff: float,
) -> Sent:
    """``chat.completions.create(**request)`` holding one of ``slots``, retried with
    exponential backoff on rate limits, server errors, timeouts and lost connections;
    other client errors and unreadable responses end it at once."""
    import openai

    for attempt in range(max_retries + 1):
        try:
            async with slots:
                response = await client.chat.completions.create(**request)
        except openai.APIStatusError as exc:
            problem = f"HTTP {exc.status_code}: {_status_message(exc)}"
            if exc.status_code != 429 and exc.status_code < 500:
                return Sent(None, attempt + 1, error=problem)
        except openai.APITimeoutError:
            limit = client.timeout
            problem = f"timed out after {limit:g} s" if isinstance(limit, float) else "timed out"
        except openai.APIConnectionError as exc:
            problem = f"connection failed: {exc.__cause__ or exc}"
        except openai.APIError as exc:
            return Sent(None, attempt + 1, error=f"bad response: {exc}")
        except json.JSONDecodeError as exc:
            return Sent(None, attempt + 1, error=f"the response is not JSON: {exc}")
        else:
            return Sent(response, attempt + 1)
        if attempt < max_retries:
            await asyncio.sleep(backoff * 2**attempt * random.uniform(0.5, 1.5))
    attempts = max_retries + 1
    return Sent(None, attempts, error=f"failed after {attempts} attempts: {problem}")


def _check_settings(
    model: str,
    concurrency: int,
    timeout: float,
    max_retries: int,
    backoff: float,
    max_reasks: int,
    json_mode: str,
) -> None:
    problems = []
    if not model.strip():
        problems.append("model must not be empty")
    if concurrency < 1:
        problems.append(f"concurrency must be at least 1 (got {concurrency})")
    if timeout <= 0:
        problems.append(f"timeout must be positive (got {timeout})")
    if max_retries < 0 or max_reasks < 0 or backoff < 0:
        problems.append(
            f"max_retries, max_reasks and backoff must not be negative "
            f"(got {max_retries}, {max_reasks}, {backoff})"
        )
    if json_mode not in JSON_MODES:
        problems.append(f"json_mode must be one of {', '.join(JSON_MODES)} (got {json_mode!r})")
    if problems:
        raise ValueError("OpenAIChat: " + "; ".join(problems))


def _schema_name(output: type[BaseModel]) -> str:
    """The model's name as OpenAI accepts it for a schema: ``[A-Za-z0-9_-]{1,64}``."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", output.__name__)[:64] or "output"


def _status_message(exc: APIStatusError) -> str:
    """The server's own error message when its body has one, else the client's."""
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return str(exc.message)


def run_coroutine(coroutine: Coroutine[Any, Any, R]) -> R:
    """Run a coroutine to the end, in a worker thread when an event loop already runs here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="scine-llm") as pool:
        return pool.submit(asyncio.run, coroutine).result()

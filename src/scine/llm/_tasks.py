"""The backend-independent part of the LLM layer: tasks, outcomes, and reading a JSON reply.

A ``JsonTask`` is one chat whose answer must be a JSON object of a pydantic model; a backend
(``JsonLLM``) runs many of them and returns one ``Outcome`` per task, in order. Failures are
outcomes, not exceptions, so a caller can count and report them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypedDict, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

__all__ = [
    "JsonLLM",
    "JsonTask",
    "Message",
    "Outcome",
    "read_reply",
    "reask_message",
]

T = TypeVar("T", bound=BaseModel)

MAX_REPORTED_PROBLEMS = 5
_FENCED = re.compile(r"```(?:json|JSON)?[ \t]*\n?(.*?)```", re.DOTALL)


class Message(TypedDict):
    """One chat message."""

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class JsonTask(Generic[T]):
    """A chat whose reply must be JSON that validates as ``output``.

    ``check`` returns extra problems with a valid value (e.g. unknown ids); any problem makes
    the backend re-ask the model.
    """

    messages: tuple[Message, ...]
    output: type[T]
    check: Callable[[T], list[str]] | None = None
    temperature: float = 0.0
    seed: int | None = None
    max_tokens: int | None = None


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """The result of one task: a value, or ``None`` and the reason it failed."""

    value: T | None
    error: str | None
    attempts: int
    reasks: int
    cached: bool


class JsonLLM(Protocol):
    """A text LLM that answers ``JsonTask``s."""

    name: str

    def run(
        self, tasks: Sequence[JsonTask[T]], progress: Callable[[int], None] | None = None
    ) -> list[Outcome[T]]:
        """Run all tasks; one outcome per task, in order; ``progress(done)`` after each."""
        ...


def read_reply(task: JsonTask[T], text: str | None, finish_reason: str | None) -> T | list[str]:
    """Parse and validate a reply: the value, or the problems to tell the model.

    The JSON may be wrapped in a fenced code block. A reply cut off at the token limit is
    reported as truncated when it does not parse.
    """
    if not text or not text.strip():
        return ["the reply was empty; it must be a JSON object"]
    try:
        data = _load_json(text)
    except json.JSONDecodeError as exc:
        if finish_reason == "length":
            return [
                "the reply was cut off at the token limit (finish_reason 'length') and the "
                "JSON is incomplete; give a shorter reply"
            ]
        return [f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]
    try:
        value = task.output.model_validate(data)
    except ValidationError as exc:
        return _describe(exc)
    problems = task.check(value) if task.check is not None else []
    return problems or value


def reask_message(problems: Sequence[str]) -> Message:
    """The user message that asks the model to fix its reply."""
    listed = "\n".join(f"- {problem}" for problem in problems)
    content = f"Your reply was not valid:\n{listed}\nReply again with only the JSON object."
    return {"role": "user", "content": content}


def _load_json(text: str) -> Any:
    """The JSON in ``text``, or in the first fenced code block when ``text`` is not JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        fenced = _FENCED.search(text)
        if fenced is None:
            raise
        return json.loads(fenced.group(1))


def _describe(exc: ValidationError) -> list[str]:
    errors = exc.errors(include_url=False)
    problems = [_describe_one(error) for error in errors[:MAX_REPORTED_PROBLEMS]]
    if len(errors) > MAX_REPORTED_PROBLEMS:
        problems.append(f"... and {len(errors) - MAX_REPORTED_PROBLEMS} more problems")
    return problems


def _describe_one(error: ErrorDetails) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "(the object)"
    got = "" if error["type"] == "missing" else f" (got {error['input']!r:.80})"
    return f"field '{field}': {error['msg']}{got}"

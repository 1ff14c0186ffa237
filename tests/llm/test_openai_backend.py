"""``OpenAIChat`` against a real local chat-completions server: retries, re-asks, concurrency."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from scine.llm import JsonTask, OpenAIChat, Outcome
from tests.ports import free_port

from .chat_server import ChatServer, Reply, Shot, echo, serve, task


def chat(server: ChatServer, **settings: Any) -> OpenAIChat:
    options: dict[str, Any] = {"api_key": "test", "timeout": 5.0, "backoff": 0.01}
    return OpenAIChat("test-model", base_url=server.base_url, **(options | settings))


def run_one(llm: OpenAIChat, job: JsonTask[Shot]) -> Outcome[Shot]:
    (outcome,) = llm.run([job])
    return outcome


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with serve() as running:
        running.default = echo
        yield running


def test_a_valid_reply_is_the_value(server: ChatServer) -> None:
    outcome = run_one(chat(server), task("dolly"))
    assert outcome == Outcome(
        value=Shot(camera="dolly", count=1), error=None, attempts=1, reasks=0, cached=False
    )
    (request,) = server.requests
    assert request["model"] == "test-model"
    assert request["messages"] == [{"role": "user", "content": "dolly"}]
    assert request["temperature"] == 0.0
    assert "seed" not in request
    assert "max_tokens" not in request


def test_seed_and_max_tokens_are_sent_when_set(server: ChatServer) -> None:
    run_one(chat(server), task(temperature=0.7, seed=3, max_tokens=50))
    (request,) = server.requests
    assert (request["temperature"], request["seed"], request["max_tokens"]) == (0.7, 3, 50)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_and_rate_limits_are_retried(server: ChatServer, status: int) -> None:
    server.script(Reply(status=status))
    outcome = run_one(chat(server), task())
    assert outcome.value == Shot(camera="dolly", count=1)
    assert (outcome.attempts, outcome.reasks, outcome.error) == (2, 0, None)
    assert len(server.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_client_errors_fail_at_once(server: ChatServer, status: int) -> None:
    server.script(Reply(status=status))
    outcome = run_one(chat(server), task())
    assert outcome.value is None
    assert outcome.error == f"HTTP {status}: scripted error {status}"
    assert outcome.attempts == 1
    assert len(server.requests) == 1


def test_a_timeout_is_retried(server: ChatServer) -> None:
    server.script(Reply(delay=3.0))
    outcome = run_one(chat(server, timeout=0.3), task())
    assert outcome.value == Shot(camera="dolly", count=1)
    assert outcome.attempts == 2


def test_timeouts_every_time_fail_after_all_retries(server: ChatServer) -> None:
    server.default = lambda body: Reply(content="{}", delay=3.0)
    started = time.perf_counter()
    outcome = run_one(chat(server, timeout=0.2, max_retries=2), task())
    assert time.perf_counter() - started < 2.0
    assert outcome.value is None
    assert outcome.error == "failed after 3 attempts: timed out after 0.2 s"
    assert outcome.attempts == 3
    assert len(server.requests) == 3


def test_a_server_that_is_down_fails_after_all_retries() -> None:
    port = free_port()
    llm = OpenAIChat(
        "m", base_url=f"http://127.0.0.1:{port}/v1", api_key="k", max_retries=1, backoff=0.01
    )
    outcome = run_one(llm, task())
    assert outcome.value is None
    assert outcome.error is not None
    assert outcome.error.startswith("failed after 2 attempts: connection failed")
    assert outcome.attempts == 2


def reask_request(server: ChatServer) -> tuple[str, str]:
    """The assistant's bad reply and the problem text sent back in the re-ask."""
    first, second = server.requests
    assert first["messages"] == [{"role": "user", "content": "dolly"}]
    user, assistant, reask = second["messages"]
    assert user == first["messages"][0]
    assert assistant["role"] == "assistant"
    assert reask["role"] == "user"
    assert reask["content"].startswith("Your reply was not valid:\n- ")
    assert reask["content"].endswith("\nReply again with only the JSON object.")
    return assistant["content"], reask["content"]


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (Reply(content="{camera: dolly"), "not valid JSON: Expecting property name"),
        (Reply(content='{"camera": "do', finish_reason="length"), "cut off at the token limit"),
        (Reply(content='{"camera": "dolly", "count": "many"}'), "field 'count': Input should"),
        (Reply(content='{"count": 1}'), "field 'camera': Field required"),
        (Reply(content=None), "the reply was empty"),
    ],
    ids=["malformed", "truncated", "wrong-type", "missing-field", "empty"],
)
def test_invalid_replies_are_reasked_with_the_problem(
    server: ChatServer, reply: Reply, problem: str
) -> None:
    server.script(reply)
    outcome = run_one(chat(server), task())
    assert outcome.value == Shot(camera="dolly", count=3)
    assert (outcome.attempts, outcome.reasks, outcome.error) == (2, 1, None)
    bad_reply, reask = reask_request(server)
    assert bad_reply == (reply.content or "")
    assert problem in reask


def test_check_problems_are_reasked(server: ChatServer) -> None:
    server.script(Reply(content='{"camera": "crane", "count": 1}'))

    def known_camera(shot: Shot) -> list[str]:
        return [] if shot.camera == "dolly" else [f"unknown camera {shot.camera!r}"]

    outcome = run_one(chat(server), task(check=known_camera))
    assert outcome.value == Shot(camera="dolly", count=3)
    assert outcome.reasks == 1
    _, reask = reask_request(server)
    assert "- unknown camera 'crane'\n" in reask


def test_a_fenced_reply_needs_no_reask(server: ChatServer) -> None:
    server.script(Reply(content='```json\n{"camera": "pan", "count": 4}\n```'))
    outcome = run_one(chat(server), task())
    assert outcome.value == Shot(camera="pan", count=4)
    assert outcome.reasks == 0


def test_exhausted_reasks_fail_with_the_last_problem(server: ChatServer) -> None:
    server.default = lambda body: Reply(content='{"camera": "pan"}')
    outcome = run_one(chat(server, max_reasks=2), task())
    assert outcome.value is None
    assert outcome.error == "invalid reply after 2 re-asks: field 'count': Field required"
    assert (outcome.attempts, outcome.reasks) == (3, 2)
    assert [len(request["messages"]) for request in server.requests] == [1, 3, 5]


def test_retries_and_reasks_add_up_in_attempts(server: ChatServer) -> None:
    server.script(Reply(status=500), Reply(content="nope"), Reply(status=429))
    outcome = run_one(chat(server), task())
    assert outcome.value == Shot(camera="dolly", count=3)
    assert (outcome.attempts, outcome.reasks) == (4, 1)


@pytest.mark.parametrize("concurrency", [4, 16])
def test_requests_run_concurrently_up_to_the_limit(server: ChatServer, concurrency: int) -> None:
    server.default = lambda body: Reply(content=echo(body).content, delay=0.15)
    tasks = [task(f"shot {index}") for index in range(32)]
    started = time.perf_counter()
    outcomes = chat(server, concurrency=concurrency).run(tasks)
    elapsed = time.perf_counter() - started
    assert all(outcome.value is not None for outcome in outcomes)
    assert server.peak_in_flight == concurrency
    assert elapsed < 0.15 * 32 / concurrency + 1.0


def test_outcomes_keep_task_order_and_progress_counts_every_task(server: ChatServer) -> None:
    def slower_first(body: dict[str, Any]) -> Reply:
        index = int(body["messages"][0]["content"].split()[1])
        return Reply(content=echo(body).content, delay=0.02 * (10 - index))

    server.default = slower_first
    seen: list[int] = []
    tasks = [task(f"shot {index}") for index in range(10)]
    outcomes = chat(server).run(tasks, progress=seen.append)
    assert [outcome.value.camera for outcome in outcomes if outcome.value] == [
        f"shot {index}" for index in range(10)
    ]
    assert seen == list(range(1, 11))


def test_failures_are_outcomes_not_exceptions(server: ChatServer) -> None:
    server.default = lambda body: (
        Reply(status=400) if body["messages"][0]["content"] == "bad" else echo(body)
    )
    outcomes = chat(server).run([task("good"), task("bad"), task("good")])
    assert [outcome.error is None for outcome in outcomes] == [True, False, True]


def test_no_tasks_make_no_requests(server: ChatServer) -> None:
    assert chat(server).run([]) == []
    assert server.requests == []


@pytest.mark.parametrize(
    ("json_mode", "expected"),
    [
        (
            "schema",
            {
                "type": "json_schema",
                "json_schema": {
                    "name": "Shot",
                    "schema": Shot.model_json_schema(),
                    "strict": False,
                },
            },
        ),
        ("object", {"type": "json_object"}),
        ("none", None),
    ],
)
def test_response_format_follows_json_mode(
    server: ChatServer, json_mode: str, expected: dict[str, Any] | None
) -> None:
    outcome = run_one(chat(server, json_mode=json_mode), task())
    assert outcome.value is not None
    (request,) = server.requests
    assert request.get("response_format") == expected


def test_run_works_inside_a_running_event_loop(server: ChatServer) -> None:
    async def from_async_code() -> list[Outcome[Shot]]:
        return chat(server).run([task("pan")])

    (outcome,) = asyncio.run(from_async_code())
    assert outcome.value == Shot(camera="pan", count=1)


def test_api_key_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    assert OpenAIChat("m").api_key == "from-env"
    assert OpenAIChat("m", api_key="given").api_key == "given"
    monkeypatch.delenv("OPENAI_API_KEY")
    assert OpenAIChat("m").api_key == "EMPTY"
    assert OpenAIChat("gpt-4o-mini").name == "openai:gpt-4o-mini"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"concurrency": 0}, "concurrency must be at least 1 (got 0)"),
        ({"timeout": 0}, "timeout must be positive (got 0)"),
        ({"max_retries": -1}, "must not be negative"),
        ({"json_mode": "xml"}, "json_mode must be one of schema, object, none (got 'xml')"),
    ],
)
def test_bad_settings_are_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="OpenAIChat: ") as raised:
        OpenAIChat("m", **settings)
    assert message in str(raised.value)

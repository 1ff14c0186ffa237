"""``ResponseCache``: keys, persistence, WAL mode, and resuming an interrupted run."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from scine.llm import JsonTask, OpenAIChat, ResponseCache

from .chat_server import ChatServer, Reply, Shot, echo, serve, task


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with serve() as running:
        running.default = echo
        yield running


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[ResponseCache]:
    opened = ResponseCache(tmp_path / "cache" / "llm-cache.sqlite")
    yield opened
    opened.close()


def chat(server: ChatServer, cache: ResponseCache, **settings: Any) -> OpenAIChat:
    options: dict[str, Any] = {"api_key": "test", "backoff": 0.01, "cache": cache}
    return OpenAIChat("test-model", base_url=server.base_url, **(options | settings))


def asked(server: ChatServer) -> list[str]:
    """The first user message of every request the server got, in order."""
    return [request["messages"][0]["content"] for request in server.requests]


KEY_ARGS: dict[str, Any] = {
    "model": "m",
    "messages": [{"role": "user", "content": "hello"}],
    "schema": Shot.model_json_schema(),
    "temperature": 0.0,
    "seed": None,
    "max_tokens": None,
    "json_mode": "schema",
}


class OtherShot(BaseModel):
    camera: str


def test_a_second_run_is_served_from_the_cache(server: ChatServer, cache: ResponseCache) -> None:
    tasks = [task(f"shot {index}") for index in range(5)]
    first = chat(server, cache).run(tasks)
    assert len(server.requests) == 5
    assert len(cache) == 5
    seen: list[int] = []
    second = chat(server, cache).run(tasks, progress=seen.append)
    assert len(server.requests) == 5
    assert [outcome.value for outcome in second] == [outcome.value for outcome in first]
    assert all(o.cached and o.attempts == 0 and o.error is None for o in second)
    assert not any(outcome.cached for outcome in first)
    assert seen == [1, 2, 3, 4, 5]


def test_an_interrupted_run_resumes_with_only_the_missing_tasks(
    server: ChatServer, cache: ResponseCache
) -> None:
    def odd_ones_fail(body: dict[str, Any]) -> Reply:
        index = int(body["messages"][0]["content"].split()[1])
        return Reply(status=400) if index % 2 else echo(body)

    tasks = [task(f"shot {index}") for index in range(8)]
    server.default = odd_ones_fail
    first = chat(server, cache).run(tasks)
    assert [outcome.value is None for outcome in first] == [False, True] * 4
    assert len(cache) == 4

    server.default = echo
    server.requests.clear()
    second = chat(server, cache).run(tasks)
    assert sorted(asked(server)) == ["shot 1", "shot 3", "shot 5", "shot 7"]
    assert [outcome.cached for outcome in second] == [True, False] * 4
    assert [o.value.camera for o in second if o.value] == [f"shot {i}" for i in range(8)]


def test_the_server_url_is_not_part_of_the_key(cache: ResponseCache) -> None:
    with serve() as first, serve() as second:
        first.default = second.default = echo
        assert first.base_url != second.base_url
        chat(first, cache).run([task("pan")])
        (outcome,) = chat(second, cache).run([task("pan")])
    assert outcome.cached
    assert (len(first.requests), len(second.requests)) == (1, 0)


def test_only_valid_final_replies_are_stored(server: ChatServer, cache: ResponseCache) -> None:
    server.script(Reply(content="not json"))
    chat(server, cache).run([task("pan")])
    key = ResponseCache.key_for(
        **(KEY_ARGS | {"model": "test-model", "messages": [{"role": "user", "content": "pan"}]})
    )
    assert cache.get(key) == '{"camera": "pan", "count": 3}'

    server.default = lambda body: Reply(content="{}")
    (failed,) = chat(server, cache).run([task("tilt")])
    assert failed.value is None
    assert len(cache) == 1


def test_a_cached_reply_that_fails_the_current_check_is_asked_again(
    server: ChatServer, cache: ResponseCache
) -> None:
    chat(server, cache).run([task("crane")])

    def no_cranes(shot: Shot) -> list[str]:
        return ["no cranes"] if shot.camera == "crane" else []

    server.default = lambda body: Reply(content='{"camera": "dolly", "count": 1}')
    (outcome,) = chat(server, cache).run([task("crane", check=no_cranes)])
    assert not outcome.cached
    assert outcome.value == Shot(camera="dolly", count=1)
    assert len(server.requests) == 2


def test_the_cache_file_is_in_wal_mode(cache: ResponseCache) -> None:
    cache.put("k", "{}")
    with sqlite3.connect(cache.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT key, reply FROM replies").fetchall() == [("k", "{}")]


def test_replies_persist_across_opens(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    first = ResponseCache(path)
    first.put("a", '{"x": 1}')
    first.put("a", '{"x": 2}')
    first.close()
    reopened = ResponseCache(path)
    assert (reopened.get("a"), reopened.get("b"), len(reopened)) == ('{"x": 2}', None, 1)
    reopened.close()


def test_a_put_survives_the_process_being_killed(tmp_path: Path) -> None:
    path = tmp_path / "killed.sqlite"
    script = (
        "import os, signal, sys\n"
        "from scine.llm import ResponseCache\n"
        "cache = ResponseCache(sys.argv[1])\n"
        "cache.put('done', '{}')\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    killed = subprocess.run([sys.executable, "-c", script, str(path)], check=False)
    assert killed.returncode == -9
    survivor = ResponseCache(path)
    assert survivor.get("done") == "{}"
    survivor.close()


def test_a_cache_that_cannot_be_opened_names_its_path(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="cannot open the LLM cache") as raised:
        ResponseCache(tmp_path)
    assert str(tmp_path) in str(raised.value)


def test_the_key_changes_with_everything_that_decides_the_reply() -> None:
    base = ResponseCache.key_for(**KEY_ARGS)
    assert len(base) == 64
    assert base == ResponseCache.key_for(**dict(reversed(KEY_ARGS.items())))
    changes: dict[str, Any] = {
        "model": "other",
        "messages": [{"role": "user", "content": "hello!"}],
        "schema": OtherShot.model_json_schema(),
        "temperature": 0.5,
        "seed": 1,
        "max_tokens": 10,
        "json_mode": "object",
    }
    keys = {ResponseCache.key_for(**(KEY_ARGS | {name: value})) for name, value in changes.items()}
    assert len(keys) == len(changes)
    assert base not in keys


def test_json_mode_is_part_of_the_key(server: ChatServer, cache: ResponseCache) -> None:
    chat(server, cache, json_mode="schema").run([task("pan")])
    (outcome,) = chat(server, cache, json_mode="none").run([task("pan")])
    assert not outcome.cached
    assert len(server.requests) == 2


def test_a_task_needs_the_same_output_model_to_hit(
    server: ChatServer, cache: ResponseCache
) -> None:
    chat(server, cache).run([task("pan")])
    other = JsonTask(messages=({"role": "user", "content": "pan"},), output=OtherShot)
    (outcome,) = chat(server, cache).run([other])
    assert not outcome.cached
    assert outcome.value == OtherShot(camera="pan")

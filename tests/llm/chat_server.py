"""A real, scriptable OpenAI chat-completions server on 127.0.0.1 for the LLM tests.

``POST /v1/chat/completions`` answers with the standard response JSON. What each request
gets is decided by ``Reply``s queued with ``script(...)``, else by ``server.default`` (a
function of the request body). Every request body is recorded, with the peak number of
requests in flight. ``Shot``, ``task`` and ``echo`` are the output model, task and valid
reply the tests share.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import BaseModel

from scine.llm import JsonTask


@dataclass(frozen=True)
class Reply:
    """What the server does with one request."""

    content: str | None = None
    status: int = 200
    delay: float = 0.0
    finish_reason: str = "stop"
    top_logprobs: dict[str, float] | None = None  # token -> log-probability at the first token
    body: str | None = None  # sent as it is, instead of a completion
    content_type: str = "application/json"  # of a ``body`` sent as it is


class ChatServer(ThreadingHTTPServer):
    """The server; use ``serve()`` to run it in a thread."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.default: Callable[[dict[str, Any]], Reply] = lambda body: Reply(content="{}")
        self.requests: list[dict[str, Any]] = []
        self.peak_in_flight = 0
        self.stopping = threading.Event()
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._in_flight = 0

    @property
    def base_url(self) -> str:
        """The ``base_url`` to give an OpenAI client."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order."""
        with self._lock:
            self._queue.extend(replies)

    def begin(self, body: dict[str, Any]) -> Reply:
        """Record a request and decide its reply."""
        with self._lock:
            self.requests.append(body)
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
            scripted = self._queue.popleft() if self._queue else None
        return scripted or self.default(body)

    def end(self) -> None:
        """A request has been answered."""
        with self._lock:
            self._in_flight -= 1

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that gave up (timeouts) close their sockets; that is expected here."""


class _Handler(BaseHTTPRequestHandler):
    server: ChatServer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        reply = self.server.begin(body)
        try:
            if reply.delay:
                self.server.stopping.wait(reply.delay)
            if self.path != "/v1/chat/completions":
                self._send(404, {"error": {"message": f"no route {self.path}"}})
            elif reply.status != 200:
                self._send(reply.status, _error(reply.status))
            elif reply.body is not None:
                self._send_text(reply.body, content_type=reply.content_type)
            else:
                self._send(200, _completion(body, reply))
        finally:
            self.server.end()

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        self._send_text(json.dumps(payload), status)

    def _send_text(
        self, text: str, status: int = 200, content_type: str = "application/json"
    ) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", ""),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content},
                "finish_reason": reply.finish_reason,
                "logprobs": _logprobs(reply),
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def _logprobs(reply: Reply) -> dict[str, Any] | None:
    if reply.top_logprobs is None:
        return None
    ranked = sorted(reply.top_logprobs.items(), key=lambda item: -item[1])
    top = [{"token": token, "logprob": logprob, "bytes": None} for token, logprob in ranked]
    first = {"token": reply.content or "", "logprob": ranked[0][1], "bytes": None}
    return {"content": [{**first, "top_logprobs": top}]}


def _error(status: int) -> dict[str, Any]:
    message = f"scripted error {status}"
    return {"error": {"message": message, "type": "test_error", "code": str(status)}}


class Shot(BaseModel):
    """The output model of the tests' tasks."""

    camera: str
    count: int


def task(text: str = "dolly", **settings: Any) -> JsonTask[Shot]:
    """A task with one user message, ``text``."""
    return JsonTask(messages=({"role": "user", "content": text},), output=Shot, **settings)


def echo(body: dict[str, Any]) -> Reply:
    """A valid reply naming the first user message (so each task gets its own value) and
    counting the messages (so a re-ask shows)."""
    first_user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return Reply(content=json.dumps({"camera": first_user, "count": len(body["messages"])}))


@contextmanager
def serve() -> Iterator[ChatServer]:
    """A running server on a free port, shut down (and its delays cut short) on exit."""
    server = ChatServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()

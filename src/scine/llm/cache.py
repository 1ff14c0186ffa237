"""A content-addressed cache of valid LLM replies in one SQLite file (WAL mode).

The key is a hash of everything that decides the reply (model, messages, output schema,
sampling settings, JSON mode) and nothing that does not (the server's URL), so the same
model served elsewhere reuses the cache. Each ``put`` commits at once: a run killed half-way
keeps what it finished, and a re-run only asks for the rest.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scine.llm._tasks import Message

__all__ = ["ResponseCache"]

KEY_FORMAT = "scine.llm.cache/1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS replies (
    key TEXT PRIMARY KEY,
    reply TEXT NOT NULL,
    created REAL NOT NULL
)
"""


class ResponseCache:
    """Valid final replies by key, stored in the SQLite file at ``path``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
            self._db.commit()
        except sqlite3.Error as exc:
            raise OSError(f"{self.path}: cannot open the LLM cache: {exc}") from exc

    @staticmethod
    def key_for(
        *,
        model: str,
        messages: Sequence[Message],
        schema: dict[str, Any],
        temperature: float,
        seed: int | None,
        max_tokens: int | None,
        json_mode: str,
    ) -> str:
        """The cache key (sha256 hex) of a request; the server's URL is not part of it."""
        content = {
            "format": KEY_FORMAT,
            "model": model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "schema": schema,
            "temperature": temperature,
            "seed": seed,
            "max_tokens": max_tokens,
            "json_mode": json_mode,
        }
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def get(self, key: str) -> str | None:
        """The stored reply text, or ``None``."""
        with self._lock:
            row = self._db.execute("SELECT reply FROM replies WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, text: str) -> None:
        """Store (or replace) a reply and commit."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO replies (key, reply, created) VALUES (?, ?, ?)",
                (key, text, time.time()),
            )
            self._db.commit()

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            self._db.close()

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM replies").fetchone()
        return int(count)

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.path)!r})"

"""Every database test runs on SQLite and on a real PostgreSQL started for the run."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.study.postgres import running_postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    with running_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL (or SQLite path) of an empty database of each kind."""
    if request.param == "sqlite":
        return str(tmp_path / "study.db")
    psycopg = pytest.importorskip("psycopg")
    server: str = request.getfixturevalue("postgres_server")
    name = f"study_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return f"{server.rsplit('/', 1)[0]}/{name}"

"""Opening the study database: SQLite (WAL) by path or URL, PostgreSQL by URL; migrated
to the newest schema with Alembic."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, make_url

__all__ = ["DatabaseError", "checkpoint_in_background", "database_url", "migrate", "open_database"]


class DatabaseError(ValueError):
    """The database cannot be used as asked; the message says why."""


def database_url(url_or_path: str) -> str:
    """A SQLAlchemy URL: as given when it has a scheme, else a SQLite file path."""
    return url_or_path if "://" in url_or_path else f"sqlite:///{url_or_path}"


def open_database(url_or_path: str, *, create: bool = False) -> Engine:
    """An engine on the study database, migrated when ``create``; otherwise it must
    already hold a study (``scine study create`` makes one), and a SQLite file that is not
    there is an error rather than made empty."""
    url = database_url(url_or_path)
    file = make_url(url).database if url.startswith("sqlite") else None
    if not create and file and file != ":memory:" and not Path(file).is_file():
        raise DatabaseError(f"{file}: no such SQLite file; make the study with scine study create")
    # a server's connections can drop (a restart); a SQLite file's cannot
    engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_settings)
    if create:
        migrate(engine)
    elif not inspect(engine).has_table("study"):
        raise DatabaseError(f"{url}: no study here; make one with scine study create")
    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("scine.study") / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _sqlite_settings(connection: Any, _record: Any) -> None:
    """WAL (readers never wait for the writer), foreign keys, and a wait on locks."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@contextmanager
def checkpoint_in_background(engine: Engine, every: float = 1.0) -> Iterator[None]:
    """For a SQLite engine, move WAL checkpoints off the writers: connections stop
    checkpointing after their commits and a thread checkpoints (passively, never blocking
    a writer) every ``every`` seconds while the block runs. Other databases: nothing."""
    if engine.dialect.name != "sqlite":
        yield
        return
    event.listen(engine, "connect", _no_autocheckpoint)
    engine.dispose()  # connections opened before keep checkpointing; drop them
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(every):
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    worker = threading.Thread(target=run, name="scine-checkpoint", daemon=True)
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join()
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _no_autocheckpoint(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()

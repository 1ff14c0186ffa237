"""The study database: SQLite (WAL) by path or URL, PostgreSQL by URL; made new (migrated
to the newest schema with Alembic) and written in one transaction, or opened."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, inspect, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

__all__ = [
    "DatabaseError",
    "checkpoint_in_background",
    "database_url",
    "migrate",
    "new_database",
    "open_database",
]


class DatabaseError(ValueError):
    """The database cannot be used as asked; the message says why."""


def database_url(url_or_path: str) -> str:
    """A SQLAlchemy URL: as given when it has a scheme, else a SQLite file path."""
    return url_or_path if "://" in url_or_path else f"sqlite:///{url_or_path}"


def open_database(url_or_path: str) -> Engine:
    """An engine on a study database (``scine study create`` makes one with
    ``new_database``); a SQLite file that is not there is an error rather than made empty."""
    url = database_url(url_or_path)
    file = _sqlite_file(url)
    if file is not None and not file.is_file():
        raise DatabaseError(f"{file}: no such SQLite file; make the study with scine study create")
    engine = _engine(url)
    with _connect(engine) as connection:
        has_study = inspect(connection).has_table("study")
    if not has_study:
        raise DatabaseError(f"{url}: no study here; make one with scine study create")
    return engine


@contextmanager
def new_database(url_or_path: str) -> Iterator[Connection]:
    """One transaction on the database a new study goes into, migrated to the newest
    schema, committed when the block ends and rolled back when it raises. A SQLite file must
    not exist yet: it is made under a temporary name beside its path and moved there only
    once committed, so that a failure leaves no file behind."""
    url = database_url(url_or_path)
    file = _sqlite_file(url)
    if file is None:
        with _migrated(url) as connection:
            yield connection
        return
    _check_new_file(file)
    temporary = file.with_name(f".{file.name}.{secrets.token_hex(4)}.tmp")
    try:
        with _migrated(database_url(str(temporary))) as connection:
            yield connection
        _check_new_file(file)
        temporary.rename(file)
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{temporary}{suffix}").unlink(missing_ok=True)


@contextmanager
def _migrated(url: str) -> Iterator[Connection]:
    """One transaction on ``url``, the migrations first; the engine is closed after it (a
    SQLite file's write-ahead log checkpointed into the file first, so the file is whole)."""
    engine = _engine(url)
    try:
        with _connect(engine) as connection, connection.begin():
            migrate(connection)
            yield connection
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()


def migrate(connection: Connection) -> None:
    """Bring the schema to the newest migration, in the connection's transaction."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("scine.study") / "migrations"))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for a server's URL or an in-memory database."""
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    return Path(database) if database and database != ":memory:" else None


def _check_new_file(file: Path) -> None:
    """A new SQLite file can go to ``file``: its folder is there and it is not."""
    if file.exists():
        raise DatabaseError(
            f"{file}: already exists; a study is made in a new SQLite file (remove this one "
            "or choose another path)"
        )
    if not file.parent.is_dir():
        raise DatabaseError(f"{file}: no such folder {file.parent}")


def _engine(url: str) -> Engine:
    """An engine on ``url``; SQLite connections get ``_sqlite_settings``. A URL of no
    database SQLAlchemy can open here (an unknown scheme, a driver not installed) is a
    ``DatabaseError``."""
    try:
        # a server's connections can drop (a restart); a SQLite file's cannot
        engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    except (ArgumentError, ImportError) as exc:
        raise DatabaseError(f"{_shown(url)}: not a database scine can open here ({exc})") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_settings)
    return engine


def _connect(engine: Engine) -> Connection:
    """A connection to the engine's database; one that cannot be made (no server there,
    refused credentials, a file that is no SQLite database) is a ``DatabaseError``."""
    try:
        return engine.connect()
    except DBAPIError as exc:
        raise DatabaseError(f"{_shown(engine.url)}: cannot connect: {_reason(exc)}") from None


def _reason(exc: DBAPIError) -> str:
    """The first line of what the database driver said."""
    said = str(exc.orig if exc.orig is not None else exc).strip()
    return said.splitlines()[0] if said else type(exc.orig).__name__


def _shown(url: str | URL) -> str:
    """``url`` as an error shows it: its password hidden (as given if it cannot be read)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return str(url)


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

"""A real PostgreSQL for the tests: initialised in a temporary folder and started on
127.0.0.1 by the test run itself (as an unprivileged user when the tests run as root)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.ports import free_port

__all__ = ["running_postgres"]


def _binaries() -> Path:
    """The folder of ``initdb`` and ``pg_ctl``: on PATH, or Debian's versioned folders."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / "initdb").exists():
            return folder
    raise RuntimeError(
        "PostgreSQL's initdb was not found: install it (Debian: apt-get install postgresql)"
    )


@contextmanager
def running_postgres(*, fsync: bool = False) -> Iterator[str]:
    """A fresh server for as long as the block runs; yields its SQLAlchemy URL. Its files
    are in a folder of their own under the system's temporary folder (reachable by the
    unprivileged user), removed afterwards. ``fsync=False`` (tests) skips flushing to disk."""
    bin_dir = _binaries()
    as_user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="scine-postgres-"))
    if as_user:
        shutil.chown(folder, "nobody")
    data, port = folder / "data", free_port()
    run = {"check": True, "capture_output": True, "timeout": 120}
    subprocess.run(
        [
            *as_user,
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ],
        **run,
    )  # type: ignore[call-overload]
    options = f"-p {port} -h 127.0.0.1 -k {folder} -c fsync={'on' if fsync else 'off'}"
    subprocess.run(
        [
            *as_user,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(folder / "log"),
            "-w",
            "start",
        ],
        **run,
    )  # type: ignore[call-overload]
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)

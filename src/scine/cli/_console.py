"""Shared console helpers for the CLI: rich output to stdout, errors to stderr."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.text import Text

console = Console()
error_console = Console(stderr=True)
_showing: list[Progress] = []  # the progress displays open now, innermost last


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error for people (no traceback) and exit; progress bars on screen are
    stopped first, so the error is the last thing shown."""
    for progress in reversed(_showing):
        progress.stop()
    error_console.print(
        Text.assemble(("error: ", "bold red"), message), highlight=False, soft_wrap=True
    )
    raise SystemExit(code)


@contextmanager
def resumable() -> Iterator[None]:
    """Around a resumable command's work: Ctrl-C says how to go on (exit status 130)."""
    try:
        yield
    except KeyboardInterrupt:
        fail("interrupted; run the same command again to go on (finished work is kept)", 130)


def echo_json(text: str) -> None:
    """Print machine-readable output exactly, never wrapped or styled."""
    typer.echo(text.rstrip("\n"))


@contextmanager
def progress_bar() -> Iterator[Progress]:
    """The CLI's progress display, on stderr while the block runs: label, bar, done/total,
    time so far."""
    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=error_console,
    )
    _showing.append(progress)
    try:
        with progress:
            yield progress
    finally:
        _showing.remove(progress)


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``--shard I/N`` as (I, N), checked: 0 <= I < N."""
    if text is None:
        return None
    index, sep, count = text.partition("/")
    if not (sep and index.isdigit() and count.isdigit() and int(index) < int(count)):
        raise typer.BadParameter(f"--shard takes I/N with 0 <= I < N (e.g. 0/4), got {text!r}")
    return int(index), int(count)

"""Every command's ``--help`` reads well at 80 columns: docstrings are reflowed to the
terminal, not broken where their source lines end, and the Markdown they are read as loses
no character of the help text."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import pytest
import typer.main
from typer.testing import CliRunner

from scine.cli import app

WIDTH = 80
runner = CliRunner()


def command_paths() -> Iterator[list[str]]:
    """The words of every command and group, the root's included."""

    def walk(command: object, path: list[str]) -> Iterator[list[str]]:
        yield path
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, [*path, name])

    yield from walk(typer.main.get_command(app), [])


COMMANDS = list(command_paths())


def help_of(path: list[str]) -> str:
    shown = runner.invoke(app, [*path, "--help"], env={"COLUMNS": str(WIDTH)})
    assert shown.exit_code == 0, shown.output
    return shown.output


def description(help_text: str) -> list[list[str]]:
    """The paragraphs (lists of lines, margins stripped) above the first option panel."""
    text = help_text.split("╭")[0]
    lines = [line.strip() for line in text.splitlines()][1:]  # the usage line first
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line:
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return [paragraph for paragraph in paragraphs if paragraph and "Usage:" not in paragraph[0]]


def test_every_command_is_found() -> None:
    assert ["run"] in COMMANDS
    assert ["judge", "run"] in COMMANDS
    assert len(COMMANDS) > 30


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "scine")
def test_descriptions_are_reflowed_to_the_terminal(path: list[str]) -> None:
    """A line of a paragraph ends early only when the next word would not have fit on it."""
    room = WIDTH - 2  # one column of margin on each side
    for paragraph in description(help_of(path)):
        for line, after in itertools.pairwise(paragraph):
            assert len(line) + 1 + len(after.split()[0]) > room, (line, after)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "scine")
def test_markdown_loses_no_character_of_the_help(
    path: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read as Markdown, a help text keeps every character it has as plain rich text (an
    angle-bracketed word outside backticks, say, would vanish as an HTML tag)."""

    def visible(text: str) -> str:
        return re.sub(r"[\s`│╭╮╰╯─]+", "", text)

    markdown = visible(help_of(path))
    monkeypatch.setattr(app, "rich_markup_mode", "rich")
    assert visible(help_of(path)) == markdown

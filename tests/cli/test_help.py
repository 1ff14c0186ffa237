"""``--help`` names the default of an option whose default is left to the judge or to the
trainer (its value is None until then)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from scine.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("command", "option", "default"),
    [
        (["judge", "run"], "--fps", "2.0"),
        (["judge", "run"], "--camera-fps", "--fps"),
        (["judge", "run"], "--max-pixels", "200704"),
        (["judge", "run"], "--batch", "1; openai: --concurrency"),
        (["judge", "run"], "--question-batch", "16"),
        (["judge", "run"], "--frames-as", "video"),
        (["judge", "run"], "--concurrency", "16"),
        (["judge", "run"], "--timeout", "120"),
        (["judge", "run"], "--retries", "4"),
        (["judge", "run"], "--workers", "probes: one per CPU; VLMs: 2"),
        (["reward", "train"], "--lora-rank", "16"),
        (["judge", "run"], "--seed", "0"),
    ],
)
def test_help_names_the_default_of_an_option_left_unset(
    command: list[str], option: str, default: str
) -> None:
    shown = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert f"[default: ({default})]" in option_row(shown.output, option)


def option_row(help_text: str, option: str) -> str:
    """The lines of ``option``'s row in a help panel (its help may run onto several)."""
    rows: list[list[str]] = []
    for line in help_text.splitlines():
        if re.match(r"│\s+(\*\s+)?--", line):
            rows.append([])
        if rows:
            rows[-1].append(line)
    return next("\n".join(row) for row in rows if f" {option} " in row[0])

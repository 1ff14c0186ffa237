"""The CLI's errors come last: a progress display open when a command fails is stopped
before the error is printed, so no bar is drawn below it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from scine.cli import app

runner = CliRunner()


def test_a_refused_run_ends_on_its_error_not_on_a_progress_bar(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a run\n")
    result = runner.invoke(app, ["run", "--out", str(tmp_path)])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("error: --out ")
    assert "is not a scine run" in result.stderr

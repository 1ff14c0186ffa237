"""docs/quickstart.md works as written: its commands run, in order, in an empty folder."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```(bash|toml)\n(.*?)```", re.DOTALL)


def blocks() -> list[tuple[str, str]]:
    text = (ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8")
    return [(kind, body) for kind, body in BLOCK.findall(text)]


def test_the_install_step_is_the_readmes() -> None:
    install = blocks()[0][1].strip()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert install in readme


def test_the_quickstart_runs_as_written(tmp_path: Path) -> None:
    """Every block after the install: TOML blocks are saved under the name on their first
    line, shell blocks run with this environment's ``scine`` first on the PATH."""
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for kind, body in blocks()[1:]:
        if kind == "toml":
            name = body.splitlines()[0].removeprefix("#").strip()
            (tmp_path / name).write_text(body, encoding="utf-8")
            continue
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", body],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"{body}\n{done.stdout}\n{done.stderr}"
    summary = json.loads((tmp_path / "runs" / "mine" / "summary.json").read_text())
    assert set(summary["overall"]) == {"my-model", "synth-good"}
    assert (tmp_path / "runs" / "mine" / "report.html").is_file()
    board = (tmp_path / "runs" / "mine" / "leaderboard.md").read_text()
    assert "my-model" in board
    assert "synth-good" in board

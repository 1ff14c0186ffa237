"""``import scine``, the taxonomy CLI and the offline benchmark work with no extra installed;
the analysis works with its own extra but none of the model, video or web packages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

MODEL_SIDE = (
    "torch",
    "transformers",
    "accelerate",
    "peft",
    "diffusers",
    "fastapi",
    "sqlalchemy",
    "av",
    "cv2",
    "openai",
    "sentence_transformers",
)
HEAVY = (*MODEL_SIDE, "matplotlib", "pandas", "numpy", "scipy")

# Runs in a fresh interpreter where importing any heavy package fails, as if not installed.
SCRIPT = """
import importlib.abc, json, sys

HEAVY = {heavy!r}
WORK = {work!r}

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HEAVY:
            raise ModuleNotFoundError("No module named " + repr(name) + " (blocked by the test)")
        return None

sys.meta_path.insert(0, Block())

import scine, scine.taxonomy, scine.records, scine.cli
from scine.cli import main

taxonomy = scine.taxonomy.load_taxonomy()
assert len(taxonomy.leaves()) == 76
open(WORK + "/p.txt", "w").write("The camera pans left.\\n")
for argv in {commands!r}:
    try:
        main(argv)
    except SystemExit as done:
        assert done.code in (0, None), (argv, done.code)
loaded = sorted(name for name in sys.modules if name.split(".")[0] in HEAVY)
print(json.dumps({{"loaded": loaded}}))
"""


CORE_COMMANDS = [
    ["taxonomy", "show"],
    ["taxonomy", "find", "pan left", "--json"],
    ["taxonomy", "export", "--format", "csv"],
    ["taxonomy", "stats", "--json"],
    ["bench", "build", "--out", "{work}/suite", "--scripts", "5", "--visuals", "5"],
    ["bench", "categorize", "{work}/p.txt", "--json"],
]
ANALYSIS_COMMANDS = [
    ["simulate", "--out", "{work}/study", "--models", "3", "--prompts", "20"],
    ["analyze", "{work}/study", "--out", "{work}/analysis", "--boot", "20"],
]


def run_blocked(blocked: tuple[str, ...], commands: list[list[str]], work: Path) -> list[str]:
    """Run CLI commands in a fresh interpreter where ``blocked`` packages cannot be imported;
    return the blocked packages that got imported anyway (none, if all is well)."""
    filled = [[part.replace("{work}", str(work)) for part in argv] for argv in commands]
    script = SCRIPT.format(heavy=blocked, work=str(work), commands=filled)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])["loaded"]
    return loaded


def test_core_works_without_heavy_packages(tmp_path: Path) -> None:
    assert run_blocked(HEAVY, CORE_COMMANDS, tmp_path) == []


def test_analysis_works_without_model_video_and_web_packages(tmp_path: Path) -> None:
    assert run_blocked(MODEL_SIDE, ANALYSIS_COMMANDS, tmp_path) == []
    assert (tmp_path / "analysis" / "report.html").exists()

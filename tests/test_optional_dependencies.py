"""``import scine``, the taxonomy CLI and the offline benchmark work with no extra installed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = (
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
    "matplotlib",
    "pandas",
    "numpy",
    "scipy",
)

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
for argv in (["taxonomy", "show"], ["taxonomy", "find", "pan left", "--json"],
             ["taxonomy", "export", "--format", "csv"], ["taxonomy", "stats", "--json"],
             ["bench", "build", "--out", WORK + "/suite", "--scripts", "5", "--visuals", "5"],
             ["bench", "categorize", WORK + "/p.txt", "--json"]):
    try:
        main(argv)
    except SystemExit as done:
        assert done.code in (0, None), (argv, done.code)
loaded = sorted(name for name in sys.modules if name.split(".")[0] in HEAVY)
print(json.dumps({{"loaded": loaded}}))
"""


def test_core_works_without_heavy_packages(tmp_path: Path) -> None:
    script = SCRIPT.format(heavy=HEAVY, work=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    last_line = done.stdout.strip().splitlines()[-1]
    assert json.loads(last_line) == {"loaded": []}

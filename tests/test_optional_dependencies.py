"""``import scine`` and the taxonomy CLI work with no optional extra installed."""

from __future__ import annotations

import json
import subprocess
import sys

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
SCRIPT = f"""
import importlib.abc, json, sys

HEAVY = {HEAVY!r}

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HEAVY:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)")
        return None

sys.meta_path.insert(0, Block())

import scine, scine.taxonomy, scine.records, scine.cli
from scine.cli import main

taxonomy = scine.taxonomy.load_taxonomy()
assert len(taxonomy.leaves()) == 76
for argv in (["taxonomy", "show"], ["taxonomy", "find", "pan left", "--json"],
             ["taxonomy", "export", "--format", "csv"], ["taxonomy", "stats", "--json"]):
    try:
        main(argv)
    except SystemExit as done:
        assert done.code in (0, None), (argv, done.code)
loaded = sorted(name for name in sys.modules if name.split(".")[0] in HEAVY)
print(json.dumps({{"loaded": loaded}}))
"""


def test_core_works_without_heavy_packages() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    last_line = done.stdout.strip().splitlines()[-1]
    assert json.loads(last_line) == {"loaded": []}

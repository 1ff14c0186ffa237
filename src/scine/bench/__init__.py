"""The SCINE benchmark: seed scripts, SCINE-Scripts, SCINE-Visuals, categories, questions.

The default suite (built offline with ``scine bench build --seed 0``) ships with the package:
``default_suite_path()`` is the folder holding its ``prompts.jsonl``, ``questions.jsonl`` and
``manifest.json``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["default_suite_path"]


def default_suite_path() -> Path:
    """The folder of the packaged default suite."""
    return Path(str(resources.files("scine.bench") / "data" / "suite"))

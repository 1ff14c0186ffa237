"""Every LLM prompt template is frozen by a snapshot.

After an intended change to a template (or to the taxonomy text it includes), refresh the
snapshots with ``SCINE_UPDATE_SNAPSHOTS=1 pytest tests/bench/test_templates.py`` and review
the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scine.bench.templates import TEMPLATES, describe_controls, describe_taxonomy, render
from scine.records import Control
from scine.taxonomy import load_taxonomy

SNAPSHOTS = Path(__file__).parent / "snapshots"
TAXONOMY = load_taxonomy()
CONTROLS = [
    Control(node="camera.trajectory.movement", value="pan_left"),
    Control(node="lighting.source.type", value="tungsten"),
    Control(node="setup.text.content", value="NO VACANCY"),
    Control(node="events.portrayal.temporal"),
]
INPUTS = {
    "script": {
        "genre": "crime",
        "seed": "A night clerk counts the till in an empty motel office.",
        "controls": describe_controls(TAXONOMY, CONTROLS),
    },
    "visual": {
        "script": "A night clerk counts the till in an empty motel office.",
        "controls": describe_controls(TAXONOMY, CONTROLS),
    },
    "categorize": {
        "taxonomy": describe_taxonomy(TAXONOMY),
        "prompt": "A slow pan left across a motel office lit by tungsten lamps.",
    },
}


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_snapshot(name: str) -> None:
    system, user = render(name, **INPUTS[name])
    text = f"=== system ===\n{system['content']}\n=== user ===\n{user['content']}\n"
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("SCINE_UPDATE_SNAPSHOTS"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}: run with SCINE_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8")


def test_every_placeholder_is_filled() -> None:
    for name in TEMPLATES:
        for message in render(name, **INPUTS[name]):
            assert "$" not in message["content"], name


def test_missing_value_is_an_error() -> None:
    with pytest.raises(KeyError, match="genre"):
        render("script", seed="x", controls="y")
    with pytest.raises(ValueError, match="unknown template"):
        render("poem")

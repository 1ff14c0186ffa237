"""The LLM prompt templates of the benchmark (package data, snapshot-tested)."""

from __future__ import annotations

import string
from collections.abc import Sequence
from functools import cache
from importlib import resources

from scine.llm import Message
from scine.records import Control
from scine.taxonomy import Taxonomy

TEMPLATES = ("script", "visual", "categorize")


@cache
def _read(name: str) -> string.Template:
    text = (resources.files("scine.bench") / "templates" / name).read_text(encoding="utf-8")
    return string.Template(text)


def render(name: str, **values: str) -> tuple[Message, Message]:
    """The system and user messages of a template, with ``$placeholders`` filled."""
    if name not in TEMPLATES:
        raise ValueError(f"unknown template {name!r}; templates: {', '.join(TEMPLATES)}")
    system = _read(f"{name}.system.txt").substitute(values).strip()
    user = _read(f"{name}.user.txt").substitute(values).strip()
    return Message(role="system", content=system), Message(role="user", content=user)


def describe_controls(taxonomy: Taxonomy, controls: Sequence[Control]) -> str:
    """One line per control: its path, its value and what the value means."""
    lines = []
    for control in controls:
        leaf = taxonomy.leaf(control.node)
        path = " > ".join(taxonomy.path(leaf.id))
        if control.value is None:
            lines.append(f"- {path}: {leaf.definition}")
        elif leaf.free_form:
            lines.append(f'- {path}: exactly "{control.value}"')
        else:
            value = leaf.value(control.value)
            lines.append(f"- {path}: {value.name} ({value.definition})")
    return "\n".join(lines)


def describe_taxonomy(taxonomy: Taxonomy) -> str:
    """Every leaf id with its name and value ids, one line each, for the categorizer prompt."""
    lines = []
    for leaf in taxonomy.leaves():
        values = "free-form text" if leaf.free_form else ", ".join(v.id for v in leaf.values)
        lines.append(f"- {leaf.id} ({' > '.join(taxonomy.path(leaf.id))}): {values}")
    return "\n".join(lines)

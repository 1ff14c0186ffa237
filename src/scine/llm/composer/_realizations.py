"""Clauses that state one taxonomy control in words, and the check that keeps them honest.

Each (leaf, value) has several clauses, e.g. for ``camera.trajectory.movement`` /
``pan_left``: "the camera pans left across {place}". A clause names its own value with one
of the value's lexicon phrases (its name or a synonym) and names no other control, so the
controls recorded for a composed prompt are exactly the controls its text states.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from scine.taxonomy import Taxonomy, normalize

SLOTS: Mapping[str, str] = {
    "subject": "the man",
    "partner": "the woman",
    "object": "the box",
    "place": "the room",
    "their": "his",
    "them": "him",
    "action": "lifts the box",
    "action2": "sets it down",
    "event": "a door opens",
    "text": "GOOD LUCK",
    "line": "We leave tonight.",
    "delivery": "",
}
"""Every slot a clause may use, with the neutral filler the check renders it with."""

MIN_CLAUSES = 3
_FORMATTER = string.Formatter()


class RealizationError(ValueError):
    """The phrase data is malformed; the message names the file and the leaf/value."""


@dataclass(frozen=True)
class Realizations:
    """Clauses per (leaf id, value id); free-form leaves use the value key ``any``."""

    clauses: Mapping[tuple[str, str], tuple[str, ...]]

    def for_value(self, leaf_id: str, value_id: str | None) -> tuple[str, ...]:
        """The clauses for a value (``None`` for a free-form leaf)."""
        return self.clauses[(leaf_id, value_id or FREE_FORM_KEY)]


FREE_FORM_KEY = "any"


def slots_of(clause: str) -> set[str]:
    """The ``{slot}`` names a clause uses."""
    return {name for _, name, _, _ in _FORMATTER.parse(clause) if name}


def fill(clause: str, values: Mapping[str, str]) -> str:
    """Render a clause with slot values."""
    return clause.format_map(dict(values))


def load_realizations(paths: Iterable[Path] | None = None) -> Realizations:
    """Load clause files (default: the packaged ones), one mapping leaf → value → clauses."""
    clauses: dict[tuple[str, str], tuple[str, ...]] = {}
    for path in paths if paths is not None else packaged_files():
        document: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(document, dict):
            raise RealizationError(f"{path}: expected a mapping of leaf id to values")
        for leaf_id, values in document.items():
            if not isinstance(values, dict):
                raise RealizationError(f"{path}: {leaf_id}: expected a mapping of value ids")
            for value_id, texts in values.items():
                if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                    raise RealizationError(f"{path}: {leaf_id}.{value_id}: expected a list of text")
                key = (str(leaf_id), str(value_id))
                if key in clauses:
                    raise RealizationError(f"{path}: {leaf_id}.{value_id}: defined twice")
                clauses[key] = tuple(texts)
    return Realizations(clauses)


def packaged_files() -> list[Path]:
    """The clause files shipped with the package, in a fixed order."""
    folder = Path(str(resources.files("scine.llm.composer") / "data" / "realizations"))
    return sorted(folder.glob("*.yaml"))


@cache
def packaged_realizations() -> Realizations:
    """The packaged clause data (cached)."""
    return load_realizations()


def check_realizations(
    realizations: Realizations, taxonomy: Taxonomy, axes: Iterable[str] | None = None
) -> list[str]:
    """Every problem with the clause data for the given axes (all by default), as text."""
    wanted_axes = set(axes) if axes is not None else {axis.id for axis in taxonomy.axes}
    problems: list[str] = []
    expected: set[tuple[str, str]] = set()
    for leaf in taxonomy.leaves():
        if leaf.axis not in wanted_axes:
            continue
        keys = [FREE_FORM_KEY] if leaf.free_form else [value.id for value in leaf.values]
        expected.update((leaf.id, key) for key in keys)
    for key in sorted(set(realizations.clauses) - expected):
        if key[0].split(".", 1)[0] in wanted_axes:
            problems.append(f"{key[0]}.{key[1]}: not a value of the taxonomy")
    for leaf_id, value_id in sorted(expected):
        where = f"{leaf_id}.{value_id}"
        texts = realizations.clauses.get((leaf_id, value_id), ())
        if len(texts) < MIN_CLAUSES:
            problems.append(f"{where}: {len(texts)} clauses, need at least {MIN_CLAUSES}")
        if len(set(texts)) != len(texts):
            problems.append(f"{where}: repeated clause")
        own = None if value_id == FREE_FORM_KEY else value_id
        for text in texts:
            found = _clause_problems(text, leaf_id, own, taxonomy)
            problems += [f"{where}: {problem}: {text!r}" for problem in found]
    return problems


def _clause_problems(
    clause: str, leaf_id: str, value_id: str | None, taxonomy: Taxonomy
) -> list[str]:
    unknown = slots_of(clause) - set(SLOTS)
    if unknown:
        return [f"unknown slot(s) {', '.join(sorted(unknown))}"]
    if clause != clause.strip() or clause.endswith((".", "!", "?")):
        return ["a clause has no surrounding spaces and no final punctuation"]
    if re.match(r"^[A-Z]", clause) and not clause.startswith(("I ", "HMI", "LED")):
        return ["a clause starts lower-case (the composer capitalises)"]
    rendered = fill(clause, SLOTS)
    spots = taxonomy.spot(rendered)
    targets = {target for spot in spots for target in spot.targets}
    problems = []
    own = (leaf_id, value_id)
    if own not in targets:
        phrases = _own_phrases(taxonomy, leaf_id, value_id)
        problems.append(f"names none of its own phrases ({'; '.join(phrases[:6])} ...)")
    for spot in spots:
        if own not in spot.targets:
            problems.append(f"also names {spot.targets} via {spot.phrase!r}")
    return problems


def _own_phrases(taxonomy: Taxonomy, leaf_id: str, value_id: str | None) -> list[str]:
    leaf = taxonomy.leaf(leaf_id)
    if value_id is None:
        return [leaf.name, *leaf.synonyms]
    value = leaf.value(value_id)
    return [normalize(text) for text in (value.name, *value.synonyms)]

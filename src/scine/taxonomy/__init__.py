"""The SCINE taxonomy: 4 axes, their groups and 76 leaf controls with values and questions.

Load it with ``load_taxonomy()``; look nodes up with ``Taxonomy.node``/``leaf``/``find``;
render a leaf's question with ``Leaf.render_question(value_id)``; draw seeded controls with
``Taxonomy.sample``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path

from ._export import stats, to_csv, to_json, to_markdown
from ._lexicon import Match, Spot, normalize
from ._load import TaxonomyError
from ._nodes import Axis, Group, Leaf, Node, Provenance, Question, Value
from ._tree import Taxonomy, UnknownNodeError

__all__ = [
    "AXES",
    "Axis",
    "Group",
    "Leaf",
    "Match",
    "Node",
    "Provenance",
    "Question",
    "Spot",
    "Taxonomy",
    "TaxonomyError",
    "UnknownNodeError",
    "Value",
    "default_taxonomy_path",
    "in_axis_order",
    "load_taxonomy",
    "normalize",
    "stats",
    "to_csv",
    "to_json",
    "to_markdown",
]

AXES = ("setup", "events", "lighting", "camera")
"""The ids of SCINE's four axes, in the paper's order."""


def in_axis_order(axes: Iterable[str]) -> list[str]:
    """``axes`` (ids, each once) in the paper's order, any other names after them, sorted."""
    return sorted(
        set(axes), key=lambda axis: (AXES.index(axis), "") if axis in AXES else (len(AXES), axis)
    )


def default_taxonomy_path() -> Path:
    """Path of the taxonomy data file shipped with the package."""
    return Path(str(resources.files("scine.taxonomy") / "data" / "scine.yaml"))


@cache
def _load_default() -> Taxonomy:
    return Taxonomy.from_file(default_taxonomy_path())


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load the packaged taxonomy (cached), or a taxonomy data file at ``path``."""
    return _load_default() if path is None else Taxonomy.from_file(path)

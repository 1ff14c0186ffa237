"""The typed taxonomy: lookup by id, name or synonym; navigation; a content-hash version."""

from __future__ import annotations

import difflib
import hashlib
import json
import random
from collections.abc import Collection, Iterable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._lexicon import Lexicon, Match, Spot
from ._load import build_axes, iter_leaves, read_yaml
from ._nodes import Axis, Group, Leaf, Node, Value
from ._sample import sample_leaves, sample_value

if TYPE_CHECKING:
    from scine.records import Control


class UnknownNodeError(KeyError):
    """No node has this id; the message suggests the closest ids."""

    def __str__(self) -> str:
        return str(self.args[0])


class Taxonomy:
    """The SCINE taxonomy: four axes of groups and leaf controls, each leaf with its values."""

    def __init__(self, axes: Iterable[Axis], *, name: str = "SCINE", source: str = "") -> None:
        self.axes: tuple[Axis, ...] = tuple(axes)
        self.name = name
        self.source = source
        self._nodes: dict[str, Node] = {}
        self._parents: dict[str, str] = {}
        for axis in self.axes:
            self._index(axis, parent=None)

    @classmethod
    def from_file(cls, path: str | Path) -> Taxonomy:
        """Load and validate a taxonomy data file (YAML or JSON)."""
        path = Path(path)
        document = read_yaml(path)
        name = document.get("name", "SCINE") if isinstance(document, dict) else "SCINE"
        return cls(build_axes(document, path), name=str(name), source=str(path))

    def _index(self, node: Node, parent: str | None) -> None:
        self._nodes[node.id] = node
        if parent is not None:
            self._parents[node.id] = parent
        if not isinstance(node, Leaf):
            for child in node.children:
                self._index(child, node.id)

    # -- identity -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The whole tree as plain data (dotted ids), with the version."""
        return {"name": self.name, "version": self.version, **self._content()}

    def _content(self) -> dict[str, Any]:
        return {"axes": [axis.model_dump(mode="json") for axis in self.axes]}

    @cached_property
    def version(self) -> str:
        """A content hash of the tree: any change to ids, texts or values changes it."""
        canonical = json.dumps(self._content(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]

    # -- lookup -----------------------------------------------------------------------------

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def node(self, node_id: str) -> Node:
        """The axis, group or leaf with this dotted id."""
        try:
            return self._nodes[node_id]
        except KeyError:
            close = difflib.get_close_matches(node_id, self._nodes, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UnknownNodeError(f"unknown taxonomy node {node_id!r}{hint}") from None

    def leaf(self, node_id: str) -> Leaf:
        """The leaf control with this dotted id (a group or axis id is an error)."""
        node = self.node(node_id)
        if not isinstance(node, Leaf):
            raise UnknownNodeError(f"{node_id!r} is a {node.kind}, not a leaf control")
        return node

    def value(self, leaf_id: str, value_id: str) -> Value:
        """The value ``value_id`` of the leaf ``leaf_id``."""
        return self.leaf(leaf_id).value(value_id)

    def check_control(self, node_id: str, value: str | None) -> None:
        """Raise ``KeyError`` with a readable message unless (node, value) is a valid control."""
        self.leaf(node_id).check(value)

    @cached_property
    def lexicon(self) -> Lexicon:
        """Every id, name and synonym of every node and value, for matching text."""
        return Lexicon.from_nodes(self._nodes.values())

    def lookup(self, text: str) -> list[Match]:
        """Exact, case-insensitive matches of an id, name or synonym."""
        return self.lexicon.exact(text)

    def spot(self, text: str) -> list[Spot]:
        """Leaf and value names or synonyms written in a text (see ``Lexicon.spot``)."""
        return self.lexicon.spot(text)

    def find(self, text: str, limit: int = 10) -> list[Match]:
        """Ranked matches for free text (exact, contained phrases, near spellings), best first."""
        return self.lexicon.search(text, limit=limit)

    # -- navigation -----------------------------------------------------------------------

    def children(self, node_id: str) -> tuple[Group | Leaf, ...]:
        """The direct children of an axis or group (a leaf has none)."""
        node = self.node(node_id)
        return () if isinstance(node, Leaf) else node.children

    def parent(self, node_id: str) -> Axis | Group | None:
        """The node directly above, or ``None`` for an axis."""
        self.node(node_id)
        parent_id = self._parents.get(node_id)
        if parent_id is None:
            return None
        parent = self._nodes[parent_id]
        assert not isinstance(parent, Leaf)
        return parent

    def ancestors(self, node_id: str) -> list[Axis | Group]:
        """The nodes above, from the axis down to the direct parent."""
        chain: list[Axis | Group] = []
        parent = self.parent(node_id)
        while parent is not None:
            chain.append(parent)
            parent = self.parent(parent.id)
        return chain[::-1]

    def path(self, node_id: str) -> list[str]:
        """Display names from the axis down to the node, e.g. Camera, Extrinsics, Angle."""
        return [node.name for node in (*self.ancestors(node_id), self.node(node_id))]

    def axis_of(self, node_id: str) -> Axis:
        """The axis a node belongs to."""
        self.node(node_id)
        axis = self._nodes[node_id.split(".", 1)[0]]
        assert isinstance(axis, Axis)
        return axis

    def axis(self, axis_id: str) -> Axis:
        """The axis with this id (e.g. ``camera``)."""
        node = self.node(axis_id)
        if not isinstance(node, Axis):
            axes = ", ".join(axis.id for axis in self.axes)
            raise UnknownNodeError(f"{axis_id!r} is not an axis; axes: {axes}")
        return node

    def leaves(self, axis: str | None = None, under: str | None = None) -> list[Leaf]:
        """Leaves in data-file order, optionally only one axis's or one node's."""
        roots: Iterable[Node] = self.axes
        if under is not None:
            roots = [self.node(under)]
        found = [leaf for root in roots for leaf in iter_leaves(root)]
        if axis is not None:
            self.axis(axis)
            found = [leaf for leaf in found if leaf.axis == axis]
        return found

    def groups(self) -> list[Group]:
        """Every group, depth first in data-file order."""
        return [node for node in self._nodes.values() if isinstance(node, Group)]

    def dependents(self, leaf_id: str) -> list[Leaf]:
        """Leaves whose ``dependent_on`` is this leaf."""
        return [leaf for leaf in self.leaves() if leaf.dependent_on == leaf_id]

    def depth(self, node_id: str) -> int:
        """0 for an axis, 1 for its children, and so on."""
        return len(self.ancestors(node_id))

    # -- sampling -------------------------------------------------------------------------

    def sample(
        self,
        k: int,
        seed: int | random.Random,
        axes: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> list[Control]:
        """Sample ``k`` distinct leaf controls, each with a uniformly chosen value.

        ``axes`` limits the axes drawn from; a dependent leaf is drawn only together with its
        parent (both count towards ``k``). The same seed gives the same controls. Free-form
        leaves get the value ``None``.
        """
        from scine.records import Control

        rng = seed if isinstance(seed, random.Random) else random.Random(seed)
        for axis in axes or ():
            self.axis(axis)
        pool = [leaf for leaf in self.leaves() if axes is None or leaf.axis in axes]
        chosen = sample_leaves(pool, k, rng, exclude)
        return [Control(node=leaf.id, value=sample_value(leaf, rng)) for leaf in chosen]

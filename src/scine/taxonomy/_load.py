"""Read and validate a taxonomy data file into typed nodes.

Every problem is reported as a ``TaxonomyError`` naming the file, the line and the node or
field at fault, so an edit to the data file that breaks it says exactly where.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ._nodes import VALUE_SLOT, Axis, Group, Leaf, Question, Value

LINE_KEY = "__line__"
LOCAL_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_YamlLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class TaxonomyError(ValueError):
    """The taxonomy data is malformed; the message names file, line and field."""


class _LineLoader(_YamlLoader):  # type: ignore[misc,valid-type]
    """A safe YAML loader that records the line of every mapping under ``__line__``."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        mapping[LINE_KEY] = node.start_mark.line + 1
        return mapping


def read_yaml(path: Path) -> Any:
    """Parse a YAML file, recording line numbers; errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"{path}: cannot read taxonomy file: {exc}") from exc
    try:
        return yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise TaxonomyError(f"{where}: invalid YAML: {exc}") from exc


class _Builder:
    """Turns the raw nested mappings into frozen nodes with dotted ids, checking as it goes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: dict[str, int] = {}

    def fail(self, line: int | None, where: str, message: str) -> TaxonomyError:
        location = f"{self.path}:{line}" if line else str(self.path)
        return TaxonomyError(f"{location}: {where}: {message}")

    def mapping(self, raw: Any, line: int | None, where: str) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail(line, where, f"expected a mapping, got {type(raw).__name__}")
        return dict(raw)

    def local_id(self, raw: dict[str, Any], line: int, where: str) -> str:
        local = raw.get("id")
        if not isinstance(local, str) or not LOCAL_ID.match(local):
            raise self.fail(line, where, f"field 'id' must be snake_case text, got {local!r}")
        return local

    def register(self, full_id: str, line: int) -> None:
        if full_id in self.seen:
            first = self.seen[full_id]
            raise self.fail(line, full_id, f"duplicate id (first defined at line {first})")
        self.seen[full_id] = line

    def validated(self, model: Any, raw: dict[str, Any], line: int, where: str) -> Any:
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "(node)"
            raise self.fail(line, where, f"field '{field}': {first['msg']}") from exc

    def node(self, raw: Any, parent: str, line: int | None) -> Group | Leaf:
        raw = self.mapping(raw, line, parent)
        line = raw.pop(LINE_KEY, line)
        full_id = f"{parent}.{self.local_id(raw, line, parent)}"
        self.register(full_id, line)
        raw["id"] = full_id
        if "children" in raw:
            raw["children"] = self.children(raw["children"], full_id, line)
            group: Group = self.validated(Group, raw, line, full_id)
            return group
        return self.leaf(raw, full_id, line)

    def children(self, raw: Any, parent: str, line: int) -> tuple[Group | Leaf, ...]:
        if not isinstance(raw, list) or not raw:
            raise self.fail(line, parent, "field 'children' must be a non-empty list")
        return tuple(self.node(child, parent, line) for child in raw)

    def leaf(self, raw: dict[str, Any], full_id: str, line: int) -> Leaf:
        values = []
        value_ids: set[str] = set()
        for raw_value in raw.get("values") or []:
            value_raw = self.mapping(raw_value, line, full_id)
            value_line = value_raw.pop(LINE_KEY, line)
            value_id = self.local_id(value_raw, value_line, f"{full_id} value")
            if value_id in value_ids:
                raise self.fail(value_line, full_id, f"duplicate value id {value_id!r}")
            value_ids.add(value_id)
            values.append(self.validated(Value, value_raw, value_line, f"{full_id}.{value_id}"))
        raw["values"] = values
        question = raw.get("question")
        if isinstance(question, dict):
            question.pop(LINE_KEY, None)
        leaf: Leaf = self.validated(Leaf, raw, line, full_id)
        self.check_leaf(leaf, line)
        return leaf

    def check_leaf(self, leaf: Leaf, line: int) -> None:
        if leaf.free_form and leaf.values:
            raise self.fail(line, leaf.id, "a free-form leaf lists no values")
        if not leaf.free_form and len(leaf.values) < 2:
            raise self.fail(line, leaf.id, "a leaf needs at least 2 values or 'free_form: true'")
        self.check_question(leaf.question, leaf.id, line)

    def check_question(self, question: Question, where: str, line: int) -> None:
        if question.value.count(VALUE_SLOT) != 1:
            raise self.fail(line, where, f"question.value must contain {VALUE_SLOT} exactly once")
        for field, template in (("value", question.value), ("unspecified", question.unspecified)):
            rest = template.replace(VALUE_SLOT, "")
            if "{" in rest or "}" in rest:
                raise self.fail(line, where, f"question.{field} has a stray brace: {template!r}")
            if not template.rstrip().endswith("?"):
                raise self.fail(line, where, f"question.{field} must end with '?'")

    def axis(self, raw: Any, line: int | None) -> Axis:
        raw = self.mapping(raw, line, "axes")
        line = raw.pop(LINE_KEY, line)
        axis_id = self.local_id(raw, line, "axis")
        self.register(axis_id, line)
        raw["children"] = self.children(raw.get("children"), axis_id, line)
        axis: Axis = self.validated(Axis, raw, line, axis_id)
        return axis


def build_axes(document: Any, path: Path) -> tuple[Axis, ...]:
    """Build and validate the axes of a parsed taxonomy document."""
    builder = _Builder(path)
    document = builder.mapping(document, 1, "document")
    axes_raw = document.get("axes")
    if not isinstance(axes_raw, list) or not axes_raw:
        raise builder.fail(document.get(LINE_KEY), "document", "field 'axes' must be a list")
    axes = tuple(builder.axis(raw, document.get(LINE_KEY)) for raw in axes_raw)
    _check_dependencies(axes, builder)
    return axes


def _check_dependencies(axes: tuple[Axis, ...], builder: _Builder) -> None:
    leaves = {leaf.id: leaf for axis in axes for leaf in iter_leaves(axis)}
    for leaf in leaves.values():
        parent = leaf.dependent_on
        if parent is None:
            continue
        line = builder.seen[leaf.id]
        if parent not in leaves:
            kind = "a group, not a leaf" if parent in builder.seen else "not a node"
            raise builder.fail(line, leaf.id, f"dependent_on {parent!r} is {kind}")
        if parent == leaf.id:
            raise builder.fail(line, leaf.id, "a leaf cannot depend on itself")
        if leaves[parent].dependent_on is not None:
            raise builder.fail(
                line,
                leaf.id,
                f"dependent_on {parent!r}, which is itself dependent; chains of "
                "dependencies are not supported",
            )


def iter_leaves(node: Axis | Group | Leaf) -> list[Leaf]:
    """All leaves under a node, in data-file order."""
    if isinstance(node, Leaf):
        return [node]
    return [leaf for child in node.children for leaf in iter_leaves(child)]

"""The taxonomy as JSON, CSV and Markdown, and its summary statistics."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from typing import Any

from ._nodes import Leaf
from ._tree import Taxonomy

CSV_COLUMNS = (
    "axis",
    "path",
    "leaf",
    "leaf_name",
    "provenance",
    "dependent_on",
    "free_form",
    "value",
    "value_name",
    "value_provenance",
    "value_definition",
    "question",
)


def stats(taxonomy: Taxonomy) -> dict[str, Any]:
    """Counts of leaves per axis, groups, values, dependencies and provenance, plus version."""
    leaves = taxonomy.leaves()
    return {
        "name": taxonomy.name,
        "version": taxonomy.version,
        "leaves": len(leaves),
        "axes": {axis.id: len(taxonomy.leaves(axis=axis.id)) for axis in taxonomy.axes},
        "groups": len(taxonomy.groups()),
        "values": sum(len(leaf.values) for leaf in leaves),
        "free_form": sum(leaf.free_form for leaf in leaves),
        "dependent": sum(leaf.dependent_on is not None for leaf in leaves),
        "provenance": dict(Counter(leaf.provenance for leaf in leaves)),
    }


def to_json(taxonomy: Taxonomy) -> str:
    """The whole tree as indented JSON."""
    return json.dumps(taxonomy.to_dict(), indent=2, ensure_ascii=False) + "\n"


def to_csv(taxonomy: Taxonomy) -> str:
    """One row per (leaf, value); a free-form leaf gets one row with an empty value."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for leaf in taxonomy.leaves():
        base = {
            "axis": leaf.axis,
            "path": " > ".join(taxonomy.path(leaf.id)),
            "leaf": leaf.id,
            "leaf_name": leaf.name,
            "provenance": leaf.provenance,
            "dependent_on": leaf.dependent_on or "",
            "free_form": str(leaf.free_form).lower(),
        }
        if leaf.free_form:
            writer.writerow({**base, "question": leaf.question.value})
        for value in leaf.values:
            writer.writerow(
                {
                    **base,
                    "value": value.id,
                    "value_name": value.name,
                    "value_provenance": value.provenance,
                    "value_definition": value.definition,
                    "question": leaf.render_question(value.id),
                }
            )
    return buffer.getvalue()


def to_markdown(taxonomy: Taxonomy) -> str:
    """A reference document: summary, then every leaf with its values and questions."""
    summary = stats(taxonomy)
    lines = [
        f"# The {taxonomy.name} taxonomy",
        "",
        "<!-- Generated from src/scine/taxonomy/data/scine.yaml by "
        "`scine taxonomy export --format markdown`. Do not edit by hand. -->",
        "",
        f"Version `{taxonomy.version}`: {summary['leaves']} leaf controls on "
        f"{len(taxonomy.axes)} axes, {summary['groups']} groups, {summary['values']} values "
        f"({summary['free_form']} free-form leaf, {summary['dependent']} dependent leaves). "
        "Provenance `paper` marks what the SCINE paper names; `designed` marks what scine "
        "completes from professional practice.",
        "",
        "| Axis | Leaves | Values |",
        "| --- | ---: | ---: |",
    ]
    for axis in taxonomy.axes:
        axis_leaves = taxonomy.leaves(axis=axis.id)
        values = sum(len(leaf.values) for leaf in axis_leaves)
        lines.append(f"| [{axis.name}](#{axis.id}) | {len(axis_leaves)} | {values} |")
    for axis in taxonomy.axes:
        lines += ["", f'<a id="{axis.id}"></a>', "", f"## {axis.name}", "", axis.definition]
        for group in (g for g in taxonomy.groups() if g.id.startswith(f"{axis.id}.")):
            path = " › ".join(taxonomy.path(group.id)[1:])
            lines += ["", f"**{path}** ({group.provenance}): {group.definition}"]
        for leaf in taxonomy.leaves(axis=axis.id):
            lines += _leaf_markdown(taxonomy, leaf)
    return "\n".join(lines) + "\n"


def _leaf_markdown(taxonomy: Taxonomy, leaf: Leaf) -> list[str]:
    path = " › ".join(taxonomy.path(leaf.id)[1:])
    facts = [f"provenance: {leaf.provenance}"]
    if leaf.dependent_on:
        facts.append(f"depends on `{leaf.dependent_on}`")
    if leaf.free_form:
        facts.append("free-form value")
    lines = [
        "",
        f"### {path}",
        "",
        f"`{leaf.id}` · {' · '.join(facts)}",
        "",
        leaf.definition,
        "",
        f"- Synonyms: {', '.join(leaf.synonyms) or '—'}",
        f"- Question: {leaf.question.value}",
        f"- Question (no value named): {leaf.question.unspecified}",
    ]
    if leaf.values:
        lines += ["", "| Value | Name | Definition | Synonyms |", "| --- | --- | --- | --- |"]
        for value in leaf.values:
            name = f"{value.name} (paper)" if value.provenance == "paper" else value.name
            synonyms = ", ".join(value.synonyms)
            lines.append(
                f"| `{value.id}` | {name} | {_cell(value.definition)} | {_cell(synonyms)} |"
            )
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")

"""``scine taxonomy``: browse, search, export and check the taxonomy."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.tree import Tree

from scine.taxonomy import (
    Leaf,
    Node,
    Taxonomy,
    load_taxonomy,
    stats,
    to_csv,
    to_json,
    to_markdown,
)

from ._console import console, echo_json, fail

app = typer.Typer(
    help="Browse, search and export the SCINE taxonomy (4 axes, 76 leaf controls).",
    no_args_is_help=True,
)

TaxonomyFile = Annotated[
    Path | None,
    typer.Option("--file", help="A taxonomy data file to use instead of the packaged one."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"
    markdown = "markdown"


@app.command()
def show(
    axis: Annotated[
        str | None, typer.Option("--axis", "-a", help="Only this axis (e.g. camera).")
    ] = None,
    depth: Annotated[
        int | None,
        typer.Option("--depth", "-d", min=1, help="Levels to show below the root (1 = axes)."),
    ] = None,
    values: Annotated[
        bool, typer.Option("--values/--no-values", help="List each leaf's values.")
    ] = True,
    file: TaxonomyFile = None,
) -> None:
    """Print the taxonomy as a tree."""
    taxonomy = load_taxonomy(file)
    axes = [taxonomy.axis(axis)] if axis else list(taxonomy.axes)
    summary = stats(taxonomy)
    tree = Tree(
        f"[bold]{taxonomy.name}[/] taxonomy · {summary['leaves']} leaves · "
        f"{summary['values']} values · version {taxonomy.version}"
    )
    for node in axes:
        _add_branch(tree, taxonomy, node, 1, depth, values)
    console.print(tree)


def _add_branch(
    tree: Tree, taxonomy: Taxonomy, node: Node, level: int, depth: int | None, values: bool
) -> None:
    if isinstance(node, Leaf):
        label = f"[green]{node.name}[/] [dim]{node.id}[/]"
        if node.dependent_on:
            label += f" [yellow](depends on {node.dependent_on})[/]"
        if values:
            choices = "free-form" if node.free_form else " · ".join(v.name for v in node.values)
            label += f"\n[dim]{choices}[/]"
        tree.add(label)
        return
    count = len(taxonomy.leaves(under=node.id))
    style = "bold cyan" if node.kind == "axis" else "bold"
    branch = tree.add(f"[{style}]{node.name}[/] [dim]{node.id} · {count} leaves[/]")
    if depth is not None and level >= depth:
        return
    for child in node.children:
        _add_branch(branch, taxonomy, child, level + 1, depth, values)


@app.command()
def find(
    text: Annotated[str, typer.Argument(help="A word or phrase, e.g. 'dutch angle'.")],
    as_json: AsJson = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many.")] = 10,
    file: TaxonomyFile = None,
) -> None:
    """Find leaf controls and values by id, name or synonym, best match first."""
    matches = load_taxonomy(file).find(text, limit=limit)
    if as_json:
        echo_json(json.dumps([match.to_dict() for match in matches], ensure_ascii=False))
        return
    if not matches:
        fail(f"no taxonomy node matches {text!r}")
    table = Table("score", "leaf", "value", "matched", "via")
    table.columns[1].no_wrap = True
    for match in matches:
        table.add_row(
            f"{match.score:.2f}", match.node, match.value or "", match.matched, match.field
        )
    console.print(table)


@app.command()
def export(
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ExportFormat.json,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
    file: TaxonomyFile = None,
) -> None:
    """Export the whole taxonomy as JSON (the tree), CSV (one row per value) or Markdown."""
    render = {"json": to_json, "csv": to_csv, "markdown": to_markdown}[fmt.value]
    text = render(load_taxonomy(file))
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out}")


@app.command("stats")
def stats_command(as_json: AsJson = False, file: TaxonomyFile = None) -> None:
    """Counts of leaves per axis, groups, values, and the taxonomy version."""
    summary = stats(load_taxonomy(file))
    if as_json:
        echo_json(json.dumps(summary, ensure_ascii=False))
        return
    table = Table("", "count", title=f"taxonomy version {summary['version']}")
    for axis, count in summary["axes"].items():
        table.add_row(f"leaves · {axis}", str(count))
    for key in ("leaves", "groups", "values", "free_form", "dependent"):
        table.add_row(key.replace("_", "-"), str(summary[key]))
    for provenance, count in summary["provenance"].items():
        table.add_row(f"leaves · {provenance}", str(count))
    console.print(table)


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="A taxonomy data file (YAML or JSON).")],
) -> None:
    """Check a taxonomy data file: schema, unique ids, references, question templates."""
    summary = stats(Taxonomy.from_file(path))
    console.print(
        f"[green]ok[/] {path}: {summary['leaves']} leaves, {summary['values']} values, "
        f"version {summary['version']}"
    )

"""``scine leaderboard``: several runs' results in one table.

Each run folder's ``run.json`` gives, per rater, every model's overall mean score with its
95% interval and its per-axis means. Rows are (rater, model), ranked within each rater.
Runs are comparable only if they share the taxonomy version, the prompts, and each rater's
sampling of the videos; otherwise merging is refused unless ``allow_mixed``, and then the
table says so.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from scine._spreadsheet import spreadsheet_text
from scine.taxonomy import AXES


class LeaderboardError(ValueError):
    """Runs that cannot be merged as asked; the message names them and why."""


@dataclass(frozen=True)
class Row:
    """One model as one rater scored it in one run."""

    rater: str
    judge: str
    model: str
    run: str
    mean: float
    ci_low: float | None
    ci_high: float | None
    axes: dict[str, float | None]


@dataclass
class Leaderboard:
    """The merged rows, ranked per rater, and what differed between the runs."""

    rows: list[Row]
    mixed: list[str] = field(default_factory=list)

    def rank(self, row: Row) -> int:
        """The row's place among its rater's rows (1 = best)."""
        mine = [r for r in self.rows if r.rater == row.rater]
        return 1 + sum(r.mean > row.mean for r in mine)


def merge_runs(folders: Sequence[str | Path], allow_mixed: bool = False) -> Leaderboard:
    """One leaderboard from the ``run.json`` of each run folder (see the module doc)."""
    runs = [(Path(folder), _read(Path(folder))) for folder in folders]
    mixed = _differences(runs)
    if mixed and not allow_mixed:
        raise LeaderboardError(
            "these runs are not comparable: " + "; ".join(mixed) + " (--allow-mixed merges "
            "them anyway and says so in the table)"
        )
    rows = []
    seen: dict[tuple[str, str], Path] = {}
    for folder, found in runs:
        for rater, scores in found["raters"].items():
            for model, overall in scores["overall"].items():
                if (rater, model) in seen:
                    raise LeaderboardError(
                        f"{model} is rated by {rater} in both {seen[rater, model]} and {folder}; "
                        "merge runs of different models"
                    )
                seen[rater, model] = folder
                low, high = overall.get("ci") or (None, None)
                axes = scores["axis_scores"].get(model, {})
                rows.append(
                    Row(
                        rater,
                        scores.get("judge", rater),
                        model,
                        str(folder),
                        overall["mean"],
                        low,
                        high,
                        {axis: axes.get(axis) for axis in AXES},
                    )
                )
    rows.sort(key=lambda row: (row.rater, -row.mean, row.model))
    return Leaderboard(rows, mixed)


HEAD = ("rater", "judge", "rank", "model", "overall (95% CI)", *AXES, "run")


class _Overall(BaseModel):
    mean: float
    ci: tuple[float | None, float | None] | None = None


class _Rater(BaseModel):
    judge: str | None = None
    overall: dict[str, _Overall]
    axis_scores: dict[str, dict[str, float | None]] = {}


class _RunFile(BaseModel):
    """The parts of ``run.json`` a leaderboard reads (other keys are left alone)."""

    taxonomy_version: str
    prompts_sha256: str
    raters: dict[str, _Rater]


def to_markdown(board: Leaderboard) -> str:
    """The leaderboard as a Markdown table, the judge beside its rater (with a note if the
    runs were mixed)."""
    head = ["rater", *HEAD[2:]]
    aligned = ["---:" if name == "rank" or name in AXES else "---" for name in head]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(aligned) + " |"]
    for row in board.rows:
        rater, judge, *rest = _cells(board, row)
        cells = [f"{_markdown(rater)} ({_code(judge)})", *map(_markdown, rest)]
        lines.append("| " + " | ".join(cells) + " |")
    if board.mixed:
        lines += ["", "Merged although not comparable: " + "; ".join(board.mixed) + "."]
    return "\n".join(lines) + "\n"


def to_csv(board: Leaderboard) -> str:
    """The leaderboard as CSV, one row per (rater, model); runs merged although not
    comparable add a ``not_comparable`` column saying why. A name a spreadsheet would run
    as a formula is written with a leading apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    note = ["not_comparable"] if board.mixed else []
    head = ["rater", "judge", "rank", "model", "mean", "ci_low", "ci_high", *AXES, "run"]
    writer.writerow(head + note)
    for row in board.rows:
        axes = [row.axes[a] for a in AXES]
        cells = (
            [row.rater, row.judge, board.rank(row), row.model, row.mean, row.ci_low, row.ci_high]
            + ["" if v is None else v for v in axes]
            + [row.run]
            + (["; ".join(board.mixed)] if board.mixed else [])
        )
        writer.writerow(map(spreadsheet_text, cells))
    return buffer.getvalue()


def to_html(board: Leaderboard) -> str:
    """The leaderboard as a self-contained HTML page."""
    body = [
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in _cells(board, row)) + "</tr>"
        for row in board.rows
    ]
    note = (
        f"<p>Merged although not comparable: {html.escape('; '.join(board.mixed))}.</p>"
        if board.mixed
        else ""
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>scine leaderboard</title><style>body{font-family:sans-serif;margin:2em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em}"
        "</style></head><body><h1>scine leaderboard</h1><table><thead><tr>"
        + "".join(f"<th>{html.escape(h)}</th>" for h in HEAD)
        + "</tr></thead><tbody>"
        + "".join(body)
        + f"</tbody></table>{note}</body></html>\n"
    )


def _cells(board: Leaderboard, row: Row) -> list[str]:
    """A row's cells under ``HEAD``."""
    axes = [_number(row.axes[axis]) for axis in AXES]
    return [row.rater, row.judge, str(board.rank(row)), row.model, _interval(row), *axes, row.run]


def _read(folder: Path) -> dict[str, Any]:
    path = folder / "run.json"
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        raise LeaderboardError(f"{path}: not found; is {folder} a finished scine run?") from None
    except json.JSONDecodeError as exc:
        raise LeaderboardError(f"{path}: not JSON ({exc})") from None
    if not isinstance(found, dict):
        raise LeaderboardError(f"{path}: not a run summary (a JSON object)")
    for key in ("taxonomy_version", "prompts_sha256", "raters"):
        if key not in found:
            raise LeaderboardError(f"{path}: no {key!r}; run it again with this scine version")
    try:
        _RunFile.model_validate(found)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        raise LeaderboardError(f"{path}: {key}: {error['msg']}") from None
    return found


def _differences(runs: list[tuple[Path, dict[str, Any]]]) -> list[str]:
    """What makes the runs' scores incomparable, in words."""
    said = []
    for key, what in (("taxonomy_version", "taxonomy versions"), ("prompts_sha256", "prompts")):
        values = {found[key] for _, found in runs}
        if len(values) > 1:
            said.append(f"different {what} ({', '.join(sorted(str(v)[:12] for v in values))})")
    raters = {rater for _, found in runs for rater in found["raters"]}
    for rater in sorted(raters):
        samplings = {
            json.dumps(found["raters"][rater].get("sampling"), sort_keys=True)
            for _, found in runs
            if rater in found["raters"]
        }
        if len(samplings) > 1:
            said.append(f"{rater} sampled the videos differently across runs")
    return said


def _markdown(text: str) -> str:
    """Text for a Markdown table cell: HTML escaped, pipes escaped."""
    return html.escape(text, quote=False).replace("|", "\\|")


def _code(text: str) -> str:
    """A code span for a Markdown table cell, or escaped text if the text has a backtick."""
    return _markdown(text) if "`" in text else "`" + text.replace("|", "\\|") + "`"


def _interval(row: Row) -> str:
    if row.ci_low is None or row.ci_high is None:
        return f"{row.mean:.3f}"
    return f"{row.mean:.3f} ({row.ci_low:.3f}-{row.ci_high:.3f})"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"

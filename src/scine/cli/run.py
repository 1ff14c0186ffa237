"""``scine run``: prompts to leaderboard in one resumable command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, TaskID
from rich.table import Table
from rich.text import Text

from scine.taxonomy import in_axis_order

from ._console import console, echo_json, fail, progress_bar, resumable


class _Bars:
    """The pipeline's display: one bar for the stages, one for the current stage's work."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.stages: TaskID = progress.add_task("stages", total=None)
        self.work: TaskID | None = None

    def stage(self, name: str, index: int, total: int) -> None:
        self.progress.update(
            self.stages, description=f"stage: {name}", completed=index, total=total
        )
        if self.work is not None:
            self.progress.remove_task(self.work)
            self.work = None

    def step(self, what: str, done: int, total: int | None) -> None:
        if self.work is None:
            self.work = self.progress.add_task(what, total=total)
        self.progress.update(self.work, description=f"  {what}", completed=done, total=total)

    def say(self, text: str) -> None:
        self.progress.console.print(text, highlight=False, soft_wrap=True)


def run_command(
    config: Annotated[
        Path | None,
        typer.Argument(help="The run's TOML file (default: the embedded offline demo)."),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Run folder: new, empty, or a run's to resume (any other folder is refused).",
        ),
    ] = Path("runs/default"),
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Run every stage again (finished videos and cached answers are kept)."
        ),
    ] = False,
) -> None:
    """Build the suite, get videos, rate them, analyse: one resumable pipeline.

    Each stage is skipped when its settings and inputs are what it last finished with, so
    running again after a crash or a change redoes only what changed. Without a CONFIG:
    the embedded default (offline suite, three synthetic models of planted fidelity, the
    probes, simulated experts); every key is in docs/run.md and in DIR/run.toml.
    """
    from scine.run import ConfigError, RunError, load_config, run_pipeline

    try:
        settings = load_config(config)
    except ConfigError as exc:
        fail(str(exc))
    with resumable(), progress_bar() as progress:
        bars = _Bars(progress)
        try:
            result = run_pipeline(settings, out, bars, force=force)
        except RunError as exc:
            fail(str(exc))
        bars.stage("done", len(result.stages), len(result.stages))
    stages = Table("stage", "status", "seconds", title="stages")
    for stage in result.stages:
        stages.add_row(stage.name, stage.status, f"{stage.seconds:.1f}")
    console.print(stages)
    for rater, found in result.summary["raters"].items():
        console.print(_leaderboard(rater, found, result.summary.get("truth_check", {})))
    console.print(f"report:  {result.report}")
    console.print(f"summary: {result.out / 'summary.json'}")


def _leaderboard(rater: str, found: dict[str, Any], truth: dict[str, Any]) -> Table:
    """One rater's models by overall score, with axis scores and agreement."""
    axes = in_axis_order(axis for scores in found["axis_scores"].values() for axis in scores)
    title = f"leaderboard: {rater}"
    agreement = found.get("agreement_with_experts")
    if agreement and agreement.get("accuracy") is not None:
        title += f" (pairwise accuracy against the experts {agreement['accuracy']:.3f})"
    table = Table("model", "tier", "overall", *axes, title=title)
    tier_of = {model: i + 1 for i, tier in enumerate(found["tiers"]) for model in tier}
    for model, score in sorted(found["overall"].items(), key=lambda item: -item[1]["mean"]):
        cells = [_number(found["axis_scores"].get(model, {}).get(axis)) for axis in axes]
        table.add_row(Text(model), str(tier_of.get(model, "")), _number(score["mean"]), *cells)
    captions = []
    checked = truth.get(rater)
    if checked:
        kept = [axis for axis, check in checked.items() if check["matches"]]
        captions.append(f"planted order recovered on: {', '.join(kept) or 'no axis'}")
    if found.get("uneven_coverage"):
        captions.append(f"read with care: {found['uneven_coverage']}")
    table.caption = Text("\n".join(captions)) if captions else None
    return table


def _number(value: Any) -> str:
    return "" if value is None else f"{value:.3f}"


FORMATS = {"markdown": ".md", "csv": ".csv", "html": ".html"}


def leaderboard_command(
    runs: Annotated[list[Path], typer.Argument(help="Run folders (each with run.json).")],
    output_format: Annotated[
        str | None,
        typer.Option("--format", help="markdown, csv or html (default: --out's suffix, else md)."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here.")] = None,
    allow_mixed: Annotated[
        bool,
        typer.Option(
            "--allow-mixed", help="Merge runs of other taxonomy versions, prompts or sampling."
        ),
    ] = False,
) -> None:
    """Merge runs into one leaderboard: mean score with its 95% interval per model and
    rater, per-axis means, the evaluator used."""
    from scine.run.leaderboard import LeaderboardError, merge_runs, to_csv, to_html, to_markdown

    chosen = output_format or next(
        (name for name, suffix in FORMATS.items() if out and out.suffix == suffix), "markdown"
    )
    if chosen not in FORMATS:
        fail(f"--format {chosen!r}: expected {', '.join(FORMATS)}")
    if output_format is None and out is not None and out.suffix not in FORMATS.values():
        fail(f"--out {out}: name a .md, .csv or .html file, or give --format")
    try:
        board = merge_runs(runs, allow_mixed=allow_mixed)
    except LeaderboardError as exc:
        fail(str(exc))
    text = {"markdown": to_markdown, "csv": to_csv, "html": to_html}[chosen](board)
    if out is None:
        echo_json(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out} ({len(board.rows)} rows)")

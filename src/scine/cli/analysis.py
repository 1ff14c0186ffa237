"""``scine analyze`` and ``scine simulate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from ._console import console, error_console, progress_bar


def analyze(
    folder: Annotated[
        Path,
        typer.Argument(help="Study folder: prompts.jsonl, questions.jsonl, videos.jsonl, ratings."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for summary, report, plots.")],
    boot: Annotated[
        int, typer.Option("--boot", min=0, help="Bootstrap resamples (0: none).")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random choice.")] = 0,
    tie_margin: Annotated[
        float, typer.Option("--tie-margin", min=0, help="Vote-mean difference counted as a tie.")
    ] = 0.0,
    drop_ties: Annotated[
        bool, typer.Option("--drop-ties", help="Bradley-Terry without ties (default: half wins).")
    ] = False,
    rater_kind: Annotated[
        str, typer.Option("--rater-kind", help="Analyse 'human', 'model' or 'any' ratings.")
    ] = "any",
    strict: Annotated[
        bool, typer.Option("--strict", help="Stop at ratings that cannot be analysed.")
    ] = False,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Draw the plots.")] = True,
) -> None:
    """Analyse a study: scores, ICC and alpha, Wilcoxon tiers, Bradley-Terry and Elo, report."""
    from scine.analysis.pipeline import (
        ANALYSIS_STAGES,
        AnalysisSettings,
        analysis_manifest,
        write_outputs,
    )
    from scine.analysis.pipeline import analyze as run_analysis
    from scine.analysis.table import load_study

    if rater_kind not in ("human", "model", "any"):
        raise typer.BadParameter("--rater-kind must be human, model or any")
    settings = AnalysisSettings(
        n_boot=boot, seed=seed, tie_margin=tie_margin, ties="drop" if drop_ties else "half"
    )
    steps = ["reading the study", *ANALYSIS_STAGES, "writing plots and report"]
    with progress_bar() as bars:
        task = bars.add_task(steps[0], total=len(steps))

        def advance(name: str) -> None:
            bars.update(task, description=name, completed=steps.index(name))

        study = load_study(folder, rater_kind=rater_kind, strict=strict)  # type: ignore[arg-type]
        result = run_analysis(study, settings, advance)
        advance(steps[-1])
        manifest = analysis_manifest(folder, settings, rater_kind=rater_kind)
        written = write_outputs(result, out, manifest, plots=plots)
        bars.update(task, description="done", completed=len(steps))
    _leaderboard(result)
    for reason, count in result.excluded.items():
        error_console.print(f"[yellow]left out[/] {count}: {reason}")
    if result.uneven:
        error_console.print(Text.assemble(("read with care: ", "yellow"), result.uneven))
    console.print(f"summary: {written['summary']}")
    console.print(f"report:  {written['report']}")


def _leaderboard(result: Any) -> None:
    from scine.taxonomy import in_axis_order

    scores = result.scores
    overall = scores[scores["scope"] == "overall"].sort_values("mean", ascending=False)
    axis = scores[scores["scope"] == "axis"].pivot(index="model", columns="key", values="mean")
    axis = axis[in_axis_order(axis.columns)]
    tier_of = {model: index + 1 for index, tier in enumerate(result.tiers) for model in tier}
    table = Table("model", "tier", "overall (95% CI)", *axis.columns, title="leaderboard")
    for row in overall.itertuples():
        interval = f"{row.mean:.3f}"
        if row.ci_low == row.ci_low:  # not NaN: --boot 0 draws no interval
            interval += f" ({row.ci_low:.3f}-{row.ci_high:.3f})"
        cells = [f"{axis.loc[row.model, column]:.3f}" for column in axis.columns]
        table.add_row(Text(row.model), str(tier_of.get(row.model, "")), interval, *cells)
    console.print(table)


def simulate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the simulated study.")],
    models: Annotated[int, typer.Option("--models", min=2, help="Number of models.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulation.")] = 0,
    prompts: Annotated[int, typer.Option("--prompts", min=1, help="Prompts of the suite.")] = 200,
    annotators: Annotated[int, typer.Option("--annotators", min=1, help="Annotators.")] = 24,
    votes: Annotated[int, typer.Option("--votes", min=1, help="Votes per video-question.")] = 3,
    missing: Annotated[
        float, typer.Option("--missing", min=0, max=0.99, help="Probability a vote is missing.")
    ] = 0.02,
) -> None:
    """Write a synthetic study with planted model skills (truth.json) to analyse."""
    from scine.analysis.simulate import SimulationConfig, write_simulation
    from scine.analysis.simulate import simulate as run_simulation

    config = SimulationConfig(
        models=models,
        prompts=prompts,
        annotators=annotators,
        votes=votes,
        missing=missing,
        seed=seed,
    )
    try:
        config.check()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    with console.status("simulating"):
        study = run_simulation(config)
        write_simulation(study, out)
    console.print(
        f"wrote {out}: {len(study.prompts)} prompts, {len(study.questions)} questions, "
        f"{len(study.videos)} videos, {len(study.ratings)} ratings (truth in truth.json)"
    )

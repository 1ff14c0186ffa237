"""``scine judge run`` and ``scine probe``: automatic raters over videos and questions."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from scine.records import Question, Video, read_records, write_jsonl
from scine.taxonomy import load_taxonomy

from ._console import console, echo_json, error_console, fail

app = typer.Typer(help="Automatic raters: score videos on their questions.", no_args_is_help=True)


class JudgeName(StrEnum):
    """The raters ``scine judge run`` can use."""

    probes = "probes"


@app.command("run")
def run_command(
    videos: Annotated[Path, typer.Option("--videos", help="videos.jsonl (or .parquet).")],
    questions: Annotated[
        Path, typer.Option("--questions", help="questions.jsonl of the videos' prompts.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="The ratings.jsonl to write.")],
    judge: Annotated[JudgeName, typer.Option("--judge", help="Which rater.")] = JudgeName.probes,
    root: Annotated[
        Path | None,
        typer.Option("--root", help="Folder video paths are relative to (default: --videos')."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Videos at once (default: CPUs).")
    ] = None,
    cache: Annotated[
        Path | None,
        typer.Option(
            "--cache", help="Readings cache, by video content (default: probe-cache.sqlite)."
        ),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor store.")] = False,
) -> None:
    """Score every video on its prompt's questions; write Ratings and a report.

    With ``--judge probes`` the measured probes answer the questions on the leaves they
    read; every other question is an abstention, counted by reason in ``<out>.report.json``.
    Each video's readings are cached (``probe-cache.sqlite`` beside ``--out``) as soon as
    they are made, so an interrupted run resumes and a re-run reads instead of decoding.
    """
    from scine.judge.probe_rater import rate_with_probes
    from scine.llm.cache import ResponseCache

    taxonomy = load_taxonomy()
    video_records = read_records(videos, Video, taxonomy)
    question_records = read_records(questions, Question, taxonomy)
    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=error_console,
    )
    with progress:
        task = progress.add_task("probing videos", total=None)
        run = rate_with_probes(
            video_records,
            question_records,
            root or videos.parent,
            workers=workers,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
            cache=None if no_cache else ResponseCache(cache or out.parent / "probe-cache.sqlite"),
        )
    write_jsonl(out, run.ratings)
    report_path = out.with_name(f"{out.stem}.report.json")
    counts = run.summary()
    report = {
        "judge": judge.value,
        "videos": str(videos),
        "questions": str(questions),
        "counts": counts,
        "unreadable": run.unreadable,
        "abstentions": [vars(a) for a in run.abstentions],
    }
    report_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    reasons = ", ".join(f"{n} {why}" for why, n in counts["abstentions_by_reason"].items())
    console.print(
        f"wrote {out}: {counts['ratings']} rating(s) of {counts['videos']} video(s); "
        f"{counts['abstentions']} question(s) abstained from ({reasons or '-'}); "
        f"{run.cached} video(s) read from the cache; report {report_path}",
        soft_wrap=True,
    )
    if run.unreadable:
        fail(f"{len(run.unreadable)} video(s) could not be read (listed in {report_path})")


def probe(
    paths: Annotated[list[Path], typer.Argument(help="Video files.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per video.")] = False,
) -> None:
    """Measure camera, framing and lighting controls of videos with the probes (no model).

    Prints what each probe read: the value, its confidence and the measurements. Probes that
    cannot tell say why. Exits with status 1 if any file cannot be read.
    """
    from scine.judge.probes import probe_video
    from scine.video.sample import SamplingError

    unreadable = 0
    for path in paths:
        try:
            readings = probe_video(path)
        except SamplingError as exc:
            unreadable += 1
            if as_json:
                echo_json(json.dumps({"video": str(path), "error": str(exc)}))
            else:
                error_console.print(f"[red]unreadable[/] {exc}", soft_wrap=True)
            continue
        controls = [
            {
                "node": reading.node,
                "value": reading.value,
                "confidence": round(reading.confidence, 3),
                "support": {value: round(p, 3) for value, p in reading.support.items()},
                "measure": reading.measure,
                **({"reason": reading.reason} if reading.reason else {}),
            }
            for reading in readings
        ]
        if as_json:
            echo_json(json.dumps({"video": str(path), "controls": controls}))
            continue
        table = Table(title=str(path), title_justify="left")
        for column in ("leaf", "value", "confidence", "note"):
            table.add_column(column)
        for control in controls:
            table.add_row(
                str(control["node"]),
                str(control["value"] or "-"),
                f"{control['confidence']:.2f}",
                str(control.get("reason", "")),
            )
        console.print(table)
    if unreadable:
        fail(f"{unreadable} of {len(paths)} video(s) could not be read")


@app.command("agreement")
def agreement_command(
    human: Annotated[
        Path,
        typer.Option(
            "--human",
            help="Study folder: prompts, questions, videos and the experts' ratings.",
        ),
    ],
    model: Annotated[Path, typer.Option("--model", help="The rater's ratings (.jsonl/.parquet).")],
    rater: Annotated[
        str | None, typer.Option("--rater", help="Which rater, if the file holds several.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Pairwise accuracy of a rater against the experts: overall, per axis, leaf and model.

    A pair is two videos of one prompt rated on the same question; the experts prefer the
    higher mean of their votes. Reported without ties (expert ties dropped, rater ties
    wrong) and with ties (tie threshold calibrated on the other half of the prompts).
    """
    from scine.analysis.agreement import AgreementError, agreement, model_scores
    from scine.analysis.table import load_study, read_ratings

    study = load_study(human, rater_kind="human")
    try:
        figures = agreement(study, model_scores(read_ratings(model), rater))
    except AgreementError as exc:
        fail(str(exc))
    if as_json:
        echo_json(json.dumps(figures, indent=2))
        return
    table = Table(title=f"agreement of {model} with the experts of {human}", title_justify="left")
    for column in ("scope", "accuracy", "pairs"):
        table.add_column(column)

    def row(scope: str, cell: dict[str, object]) -> None:
        accuracy = cell["accuracy"]
        shown = "-" if accuracy is None else f"{float(accuracy):.3f}"  # type: ignore[arg-type]
        table.add_row(scope, shown, str(cell["pairs"]))

    row("all, without ties", figures["without_ties"])
    row("all, with ties", figures["with_ties"])
    for group in ("by_axis", "by_generator", "by_node"):
        for scope, cell in figures[group].items():
            row(f"{group[3:]}: {scope}", cell)
    console.print(table)
    console.print(
        f"{figures['pairs']} pair(s) of the {figures['design']} design; "
        f"{figures['unscored_pairs']} without a score from the rater; "
        f"{figures['without_ties']['expert_ties_dropped']} expert tie(s) dropped"
    )

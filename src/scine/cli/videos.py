"""``scine videos``: import videos by manifest, render synthetic shots, generate with T2V models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import JsonValue

from scine.records import Prompt, read_jsonl, write_jsonl
from scine.taxonomy import load_taxonomy

from ._console import console, error_console, fail, parse_shard, progress_bar, resumable

app = typer.Typer(
    help="Import anyone's videos by manifest, render synthetic shots, generate with T2V models.",
    no_args_is_help=True,
)

PromptsFile = Annotated[
    Path, typer.Option("--prompts", help="The suite's prompts.jsonl (videos are keyed by its ids).")
]


@app.command("import")
def import_command(
    prompts: PromptsFile,
    mapping: Annotated[
        Path,
        typer.Option(
            "--map",
            help="CSV/JSONL of prompt_id,model,path[,seed], or a folder "
            "`DIR/<model>/<prompt_id>.mp4`.",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="The videos.jsonl to write.")],
    root: Annotated[
        Path | None,
        typer.Option("--root", help="Folder the map's paths are relative to (default: the map's)."),
    ] = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Import the good files even if some are bad.")
    ] = False,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Files probed at once.")] = 2,
) -> None:
    """Probe every mapped file and write the good ones as Video records.

    Bad files and missing (prompt, model) pairs are listed in ``<out>.report.json``; the
    command fails when any file is bad, unless ``--skip-bad`` is given.
    """
    from scine.video.importer import import_videos, write_import_report

    records = read_jsonl(prompts, Prompt, load_taxonomy())
    with progress_bar() as bars:
        task = bars.add_task("probing videos", total=None)
        report = import_videos(
            records,
            mapping,
            root,
            workers=workers,
            progress=lambda done, total: bars.update(task, completed=done, total=total),
        )
    report_path = out.with_name(f"{out.stem}.report.json")
    write_import_report(report, report_path)
    for bad in report.bad[:10]:
        where = f"{mapping}:{bad.line}: " if bad.line else ""
        error_console.print(f"[red]bad[/] {where}{bad.path}: {bad.reason}", soft_wrap=True)
    if len(report.bad) > 10:
        error_console.print(f"... and {len(report.bad) - 10} more bad files (see {report_path})")
    if report.missing:
        error_console.print(
            f"[yellow]missing[/] {len(report.missing)} (prompt, model) pair(s) without a video, "
            f"e.g. {report.missing[0][0]} / {report.missing[0][1]} (all in {report_path})"
        )
    if report.bad and not skip_bad:
        fail(f"{len(report.bad)} bad file(s); fix them or pass --skip-bad (report: {report_path})")
    write_jsonl(out, report.videos)
    skipped = f", skipped {len(report.bad)} bad file(s)" if report.bad else ""
    console.print(
        f"wrote {out}: {len(report.videos)} video(s) of {len(report.models)} model(s){skipped}; "
        f"paths relative to {report.root}; report {report_path}"
    )


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    n: Annotated[int, typer.Option("--n", min=0, help="How many shots.")] = 36,
    seed: Annotated[int, typer.Option("--seed", help="Shot i depends only on (seed, i).")] = 0,
    mix: Annotated[
        float,
        typer.Option("--mix", min=0.0, max=1.0, help="Share of shots varying 2-3 kinds at once."),
    ] = 0.25,
    seconds: Annotated[
        float, typer.Option("--seconds", min=0.5, help="Length of each shot.")
    ] = 5.0,
    fps: Annotated[float, typer.Option("--fps", min=1.0, help="Frames per second.")] = 24.0,
    size: Annotated[str, typer.Option("--size", help="WIDTHxHEIGHT.")] = "854x480",
) -> None:
    """Render shots of real photographs whose cinematic controls are known exactly.

    Writes ``videos/synth/shot-NNNN.mp4``, ``videos.jsonl``, ``truth.jsonl`` (each video's
    taxonomy controls and full shot spec) and ``manifest.json`` into ``--out``.
    """
    from scine.video.synth import write_synth_suite

    try:
        with progress_bar() as bars:
            task = bars.add_task("rendering shots", total=n)
            manifest = write_synth_suite(
                out,
                n,
                seed,
                mix,
                size=_size(size),
                fps=fps,
                seconds=seconds,
                progress=lambda done, total: bars.update(task, completed=done, total=total),
            )
    except ValueError as exc:  # settings no shot can have
        fail(str(exc))
    kinds = len(manifest["counts"]["controls"])
    console.print(
        f"wrote {manifest['counts']['videos']} shot(s) carrying {kinds} distinct "
        f"control value(s) to {out} (videos.jsonl, truth.jsonl, manifest.json)"
    )


def _size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    if not (sep and width.isdigit() and height.isdigit()):
        raise typer.BadParameter(f"--size takes WIDTHxHEIGHT (e.g. 854x480), got {text!r}")
    return int(width), int(height)


@app.command()
def generate(
    model: Annotated[
        str, typer.Option("--model", help="A model name (see `scine videos models`).")
    ],
    prompts: Annotated[Path, typer.Option("--prompts", help="The suite's prompts.jsonl.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (resumable).")],
    seed: Annotated[
        int, typer.Option("--seed", help="Run seed; each prompt's seed derives from it.")
    ] = 0,
    weights: Annotated[
        Path | None, typer.Option("--weights", help="A local folder instead of the Hub id.")
    ] = None,
    revision: Annotated[str | None, typer.Option("--revision", help="Hub revision.")] = None,
    device: Annotated[str, typer.Option("--device", help="cuda, cuda:N or cpu.")] = "cuda",
    dtype: Annotated[
        str | None,
        typer.Option("--dtype", help="float32, float16 or bfloat16 (default: the model's)."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="Pipeline argument KEY=VALUE (JSON value), repeatable."),
    ] = None,
    fps: Annotated[
        float | None, typer.Option("--fps", help="Frame rate of the written videos.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Redo prompts done with other settings or seed.")
    ] = False,
    shard: Annotated[
        str | None,
        typer.Option("--shard", help="I/N: this job renders every N-th prompt from the I-th."),
    ] = None,
) -> None:
    """Render a suite's videos with a text-to-video model: one seed per prompt, resumable.

    Several GPUs: ``accelerate launch --multi_gpu --num_processes N -m scine.cli videos
    generate ...``; independent jobs: ``--shard I/N`` each, then ``scine videos merge DIR``.
    """
    from scine.video.generate import generate_videos

    with resumable(), progress_bar() as bars:
        task = bars.add_task(f"{model}", total=None)
        summary = generate_videos(
            model,
            prompts,
            out,
            run_seed=seed,
            weights=weights,
            revision=revision,
            device=device,
            dtype=dtype,
            params=_params(param or []),
            fps=fps,
            force=force,
            shard=parse_shard(shard),
            progress=lambda step: bars.update(task, completed=step.done, total=step.total),
        )
    console.print(
        f"{summary.model}: {summary.generated} generated, {summary.skipped} already done, "
        f"{summary.assigned} of {summary.prompts} prompts in this process; videos in {summary.out}"
    )
    if summary.merged is None and summary.shard[1] > 1:
        console.print(f"when every shard has finished: scine videos merge {summary.out}")


def _params(pairs: list[str]) -> dict[str, JsonValue]:
    import json

    parsed: dict[str, JsonValue] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"--param takes KEY=VALUE, got {pair!r}")
        try:
            parsed[key] = json.loads(raw)
        except json.JSONDecodeError:
            parsed[key] = raw
    return parsed


@app.command()
def merge(out: Annotated[Path, typer.Argument(help="A generation output folder.")]) -> None:
    """Merge the records of finished shards into ``videos.jsonl`` and ``manifest.json``."""
    from scine.video.generate import merge_records

    summary = merge_records(out)
    console.print(
        f"merged {summary.parts} part file(s): {summary.videos} video(s) of "
        f"{', '.join(summary.models)}; {summary.superseded} superseded, "
        f"{summary.torn_lines} cut-off line(s)"
    )


@app.command()
def models() -> None:
    """The text-to-video models scine can run, with their default sampling parameters."""
    from rich.table import Table

    from scine.video._adapters import MODELS
    from scine.video.synth import SYNTHETIC_MODELS

    table = Table("name", "weights", "size x frames @ fps", "steps", "guidance", "dtype")
    for spec in MODELS.values():
        size = f"{spec.height}x{spec.width}" if spec.height else "model default"
        table.add_row(
            spec.name,
            spec.hf_id,
            f"{size} x {spec.frames or 'default'} @ {spec.fps:g}",
            str(spec.steps),
            f"{spec.guidance:g}",
            spec.dtype,
        )
    for name, fidelity in SYNTHETIC_MODELS.items():
        table.add_row(
            name, "(renderer, no weights)", "854x480 x 120 @ 24", "-", "-", f"fidelity {fidelity:g}"
        )
    console.print(table)

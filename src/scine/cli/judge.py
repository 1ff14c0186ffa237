"""``scine judge run`` and ``scine probe``: automatic raters over videos and questions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from scine.records import (
    Prompt,
    Question,
    Rating,
    Video,
    file_sha256,
    read_jsonl,
    read_records,
    write_jsonl,
)
from scine.run.evaluate import JUDGES
from scine.taxonomy import load_taxonomy

from ._console import console, echo_json, error_console, fail, parse_shard, progress_bar, resumable

app = typer.Typer(help="Automatic raters: score videos on their questions.", no_args_is_help=True)


@app.command("run")
def run_command(
    videos: Annotated[Path, typer.Option("--videos", help="videos.jsonl (or .parquet).")],
    questions: Annotated[
        Path, typer.Option("--questions", help="questions.jsonl of the videos' prompts.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="The ratings.jsonl to write.")],
    judge: Annotated[str, typer.Option("--judge", help=f"Which rater: {JUDGES}.")] = "probes",
    prompts: Annotated[
        Path | None,
        typer.Option("--prompts", help="VLMs: prompts.jsonl (default: beside --questions)."),
    ] = None,
    root: Annotated[
        Path | None,
        typer.Option("--root", help="Folder video paths are relative to (default: --videos')."),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="openai: the server's URL (e.g. vLLM's).")
    ] = None,
    fps: Annotated[
        float | None,
        typer.Option("--fps", min=0.01, help="qwen:, openai: frames a second.", show_default="2.0"),
    ] = None,
    camera_fps: Annotated[
        float | None,
        typer.Option(
            "--camera-fps",
            min=0.01,
            help="qwen:, openai: frames a second on Camera questions.",
            show_default="--fps",
        ),
    ] = None,
    max_pixels: Annotated[
        int | None,
        typer.Option(
            "--max-pixels",
            min=784,
            help="qwen:, openai: pixels of a frame, at most.",
            show_default="200704",
        ),
    ] = None,
    batch: Annotated[
        int | None,
        typer.Option(
            "--batch",
            min=1,
            help="VLMs: videos at once.",
            show_default="1; openai: --concurrency",
        ),
    ] = None,
    question_batch: Annotated[
        int | None,
        typer.Option(
            "--question-batch",
            min=1,
            help="qwen:, reward: questions run at once.",
            show_default="16",
        ),
    ] = None,
    frames_as: Annotated[
        str | None,
        typer.Option(
            "--frames-as", help="openai: send frames as 'video' or 'images'.", show_default="video"
        ),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option("--concurrency", min=1, help="openai: requests in flight.", show_default="16"),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout", min=0.1, help="openai: seconds to wait for a reply.", show_default="120"
        ),
    ] = None,
    retries: Annotated[
        int | None,
        typer.Option(
            "--retries", min=0, help="openai: retries of a failed request.", show_default="4"
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Videos decoded at once.",
            show_default="probes: one per CPU; VLMs: 2",
        ),
    ] = None,
    cache: Annotated[
        Path | None,
        typer.Option(
            "--cache", help="Answer cache (default: probe- or judge-cache.sqlite beside --out)."
        ),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor store.")] = False,
    prompt_swap: Annotated[
        int,
        typer.Option(
            "--prompt-swap", min=0, help="Also rate N videos on another prompt's question."
        ),
    ] = 0,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Seed of the prompt swap.", show_default="0"),
    ] = None,
    shard: Annotated[
        str | None,
        typer.Option("--shard", help="I/N: rate every N-th video (by id) from the I-th."),
    ] = None,
) -> None:
    """Score every video on its prompt's questions; write Ratings and a report.

    ``--judge probes``: the measured probes answer the questions on the leaves they read;
    every other question is an abstention. ``--judge qwen:MODEL`` runs Qwen2.5-VL here (on
    the GPUs if there are any); ``--judge openai:MODEL`` asks an OpenAI-compatible server;
    ``--judge reward:CHECKPOINT`` is a trained evaluator. An option marked with judges
    (VLMs: qwen:, openai:, reward:) is for them alone; another judge refuses it.
    A VLM's score is its expected rating under its probabilities of the answers 1 to 5.
    Answers are cached as soon as they are made, so an interrupted run resumes. Counts,
    failures and throughput go to ``<out>.report.json``. ``--prompt-swap N`` rates N videos
    on a question of another prompt too (``<out>.swap.jsonl``), the negative control that
    ``scine judge agreement --controls`` reports. ``--shard I/N`` (one job per GPU or
    machine) writes ``<out>.shard-I-of-N.jsonl``; ``scine judge merge OUT`` joins them.
    """
    from scine.judge.shards import report_path, shard_of, shard_path
    from scine.llm.cache import ResponseCache
    from scine.run.evaluate import EvaluatorError, JudgeOptions, Rated, check_judge, rate_videos

    options = JudgeOptions(
        base_url=base_url,
        fps=fps,
        camera_fps=camera_fps,
        max_pixels=max_pixels,
        batch=batch,
        question_batch=question_batch,
        frames_as=frames_as,
        concurrency=concurrency,
        timeout=timeout,
        retries=retries,
        workers=workers,
    )
    try:
        check_judge(judge, options, others=[] if prompts is None else ["prompts"])
    except EvaluatorError as exc:
        fail(str(exc))
    if seed is not None and not prompt_swap:
        fail("--seed is the prompt swap's: give it with --prompt-swap N")
    if cache is not None and no_cache:
        fail(f"--cache {cache} and --no-cache: give one of them")
    if out.suffix != ".jsonl":
        fail(f"--out {out}: ratings are written as JSONL; name a .jsonl file")
    taxonomy = load_taxonomy()
    video_records = read_records(videos, Video, taxonomy)
    question_records = read_records(questions, Question, taxonomy)
    folder = root or videos.parent
    sharded = parse_shard(shard)
    if sharded is not None:
        if prompt_swap:
            fail("--prompt-swap rates a sample of all videos: run it without --shard")
        video_records = shard_of(video_records, *sharded)
        out = shard_path(out, *sharded)
    _check_files(videos, video_records, folder)
    default_cache = "probe-cache.sqlite" if judge == "probes" else "judge-cache.sqlite"
    store = None if no_cache else ResponseCache(cache or out.parent / default_cache)
    report: dict[str, Any] = {
        "judge": judge,
        "videos": str(videos),
        "questions": str(questions),
        "questions_sha256": file_sha256(questions),
    }
    asked_prompts = {question.prompt_id for question in question_records}
    unasked = [video.id for video in video_records if video.prompt_id not in asked_prompts]
    if unasked:
        report["videos_without_questions"] = unasked
        error_console.print(
            f"[yellow]note[/] {len(unasked)} video(s) have no question in {questions} "
            f"(e.g. {unasked[0]!r}): they get no rating (listed in the report)",
            soft_wrap=True,
        )
    shown_prompts = {video.prompt_id for video in video_records}
    unshown = [q.id for q in question_records if q.prompt_id not in shown_prompts]
    if unshown and sharded is None:
        report["questions_without_videos"] = unshown
        error_console.print(
            f"[yellow]note[/] {len(unshown)} question(s) have no video in {videos} "
            f"(e.g. {unshown[0]!r}): nothing is rated on them (listed in the report)",
            soft_wrap=True,
        )
    texts: dict[str, str] = {}
    if judge != "probes":
        prompt_file = prompts or questions.with_name("prompts.jsonl")
        if not prompt_file.exists():
            fail(f"{prompt_file}: no such file; give the videos' prompts with --prompts")
        texts = {p.id: p.text for p in read_records(prompt_file, Prompt, taxonomy)}
        unknown = sorted({v.prompt_id for v in video_records} - set(texts))
        if unknown:
            fail(f"{prompt_file}: no prompt {', '.join(unknown[:5])} (of {len(unknown)} missing)")
        report["prompts"] = str(prompt_file)

    def rate(chosen: list[Video], asked: list[Question]) -> Rated:
        with progress_bar() as progress:
            task = progress.add_task(f"rating with {judge}", total=None)
            try:
                return rate_videos(
                    judge,
                    chosen,
                    asked,
                    texts,
                    folder,
                    options,
                    store,
                    progress=lambda done, total: progress.update(task, completed=done, total=total),
                    say=error_console.print,
                )
            except EvaluatorError as exc:
                fail(str(exc))

    with resumable():
        rated = rate(video_records, question_records)
    counts = rated.details["counts"]
    if "answers_made" in counts:
        error_console.print(
            f"{counts['answers_made']} answer(s) in {counts['seconds']:.1f} s "
            f"({counts['answers_per_second'] or 0:.2f} (video, question)/s), "
            f"{counts['answers_from_cache']} from the cache"
        )
    broken = rated.broken
    if prompt_swap:
        from scine.judge.controls import prompt_swap_summary, prompt_swaps, swapped_pairs

        swaps = prompt_swaps(video_records, question_records, prompt_swap, seed or 0)
        asked = list({swap.question.id: swap.question for swap in swaps}.values())
        swap_run = rate([swap.video for swap in swaps], asked)
        wanted = swapped_pairs(swaps)
        swapped = [r for r in swap_run.ratings if (r.video_id, r.question_id) in wanted]
        failed = [
            f
            for f in swap_run.details.get("failures", [])
            if (f["video_id"], f["question_id"]) in wanted
        ]
        write_jsonl(out.with_name(f"{out.stem}.swap.jsonl"), swapped)
        rated.details["prompt_swap"] = {
            **prompt_swap_summary(rated.ratings, swapped),
            "asked": len(swaps),
            "failures": failed,
        }
        broken += [f"swapped {line}" for line in Rated([], {"failures": failed}).broken]
    write_jsonl(out, rated.ratings)
    report_file = report_path(out)
    report.update(rated.details)
    report_file.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    console.print(f"wrote {out}: {_said(report['counts'])}; report {report_file}", soft_wrap=True)
    if broken:
        fail(
            f"{len(broken)} video(s) or question(s) got no score, first {broken[0]} "
            f"(all listed in {report_file})"
        )


@app.command("merge")
def merge_command(
    out: Annotated[Path, typer.Argument(help="The ratings file the shards were run for.")],
    allow_failures: Annotated[
        bool,
        typer.Option("--allow-failures", help="Merge shards that left questions unscored."),
    ] = False,
) -> None:
    """Join the ratings of ``scine judge run --shard I/N``'s N jobs into OUT, checking every
    shard is there, all were run alike (judge, questions, sampling: from their reports),
    none left questions without a score, and no (video, question) was rated twice."""
    from scine.judge.shards import ShardError, merge_shards, report_path

    try:
        merged = merge_shards(out, allow_failures=allow_failures)
    except ShardError as exc:
        fail(str(exc))
    write_jsonl(out, merged.ratings)
    summary = {
        "merged_from": [path.name for path in merged.shards],
        "ratings": len(merged.ratings),
        "unscored_by_shard": merged.unscored,
    }
    report_path(out).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    console.print(f"wrote {out}: {len(merged.ratings)} rating(s) from {len(merged.shards)} shards")


def _check_files(source: Path, videos: list[Video], root: Path) -> None:
    """Fail, naming the records, unless every video's file is there."""
    missing = [video for video in videos if not video.file(root).is_file()]
    if not missing:
        return
    shown = "; ".join(f"video {v.id!r}: field 'path': {v.file(root)}" for v in missing[:5])
    more = f"; and {len(missing) - 5} more" if len(missing) > 5 else ""
    fail(
        f"{source}: {len(missing)} video file(s) not found ({shown}{more}); paths are relative "
        f"to --root, default the folder of --videos"
    )


def _said(counts: dict[str, Any]) -> str:
    """One line on what a run wrote."""
    if "abstentions" in counts:
        reasons = ", ".join(f"{n} {why}" for why, n in counts["abstentions_by_reason"].items())
        return (
            f"{counts['ratings']} rating(s) of {counts['videos']} video(s); "
            f"{counts['abstentions']} question(s) abstained from ({reasons or '-'}); "
            f"{counts['videos_read_from_cache']} video(s) read from the cache"
        )
    fallbacks = ", ".join(f"{n} {kind}" for kind, n in counts["fallbacks"].items())
    return (
        f"{counts['ratings']} rating(s) of {counts['videos']} video(s); "
        f"{counts['failures']} question(s) without a score; "
        f"fallbacks: {fallbacks or 'none'}"
    )


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
    controls: Annotated[
        bool,
        typer.Option("--controls", help="Also the negative controls: prompt swap and A/B order."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Pairwise accuracy of a rater against the experts: overall, per axis, leaf and model.

    A pair is two videos of one prompt rated on the same question; the experts prefer the
    higher mean of their votes. Reported without ties (expert ties dropped, rater ties
    wrong) and with ties (tie threshold calibrated on the other half of the prompts).
    ``--controls`` adds the prompt swap (from ``<model>.swap.jsonl``, written by ``scine
    judge run --prompt-swap``) and the A/B order check.
    """
    from scine.analysis.agreement import AgreementError, agreement, model_scores
    from scine.analysis.table import load_study, read_ratings

    study = load_study(human, rater_kind="human")
    try:
        figures = agreement(study, model_scores(read_ratings(model), rater))
    except AgreementError as exc:
        fail(str(exc))
    if controls:
        figures["controls"] = _controls(model, rater)
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
    for name, found in figures.get("controls", {}).items():
        console.print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in found.items()))
    console.print(
        f"{figures['pairs']} pair(s) of the {figures['design']} design; "
        f"{figures['unscored_pairs']} without a score from the rater; "
        f"{figures['without_ties']['expert_ties_dropped']} expert tie(s) dropped"
    )


def _controls(model: Path, rater: str | None) -> dict[str, Any]:
    """The negative controls of the ratings in ``model``: prompt swap and A/B order."""
    from scine.judge.controls import presentation_spread, prompt_swap_summary

    own = [r for r in read_jsonl(model, Rating) if rater is None or r.rater == rater]
    swap_file = model.with_name(f"{model.stem}.swap.jsonl")
    if not swap_file.exists():
        fail(f"{swap_file}: no such file; make it with scine judge run --prompt-swap N")
    swapped = [r for r in read_jsonl(swap_file, Rating) if rater is None or r.rater == rater]
    return {
        "prompt_swap": prompt_swap_summary(own, swapped),
        "a_b_order": presentation_spread(own),
    }

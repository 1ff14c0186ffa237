"""``scine study``: set up the expert study, and export its votes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from scine.records import Prompt, Question, Rating, Video, read_records, write_records
from scine.taxonomy import load_taxonomy

from ._console import console, echo_json, error_console, fail

app = typer.Typer(
    help="The human study: create it, serve it, export its votes.", no_args_is_help=True
)

Database = Annotated[
    str, typer.Option("--db", help="Database URL (postgresql://...) or SQLite file path.")
]
Media = Annotated[Path, typer.Option("--media", help="Folder the videos' paths are under.")]


@app.command("create")
def create_command(
    prompts: Annotated[Path, typer.Option("--prompts", help="prompts.jsonl")],
    questions: Annotated[Path, typer.Option("--questions", help="questions.jsonl")],
    videos: Annotated[
        Path, typer.Option("--videos", help="videos.jsonl (paths under the media folder)")
    ],
    annotators: Annotated[
        Path, typer.Option("--annotators", help="Text file: one annotator name per line.")
    ],
    db: Database,
    media: Media,
    votes: Annotated[int, typer.Option("--votes", min=1, help="Votes per (video, question).")] = 3,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the assignment and sides.")] = 0,
    url: Annotated[
        str, typer.Option("--url", help="Where the app will be served, for the links.")
    ] = "http://127.0.0.1:8000",
    gold: Annotated[
        Path | None,
        typer.Option("--gold", help="JSONL of known answers: video_id, question_id, low, high."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the links as JSON (the summary goes to stderr).")
    ] = False,
) -> None:
    """Create a study: every (video, question) gets --votes votes from different annotators,
    the work spread evenly, sides drawn per task. Prints each annotator's invitation link
    (and the admin's); only hashes of the tokens are stored, so keep the links. Every
    video must be a file inside --media, as ``study serve`` will require."""
    from scine.study.access import servable_from
    from scine.study.assign import AssignmentError
    from scine.study.create import create_study, unplayable
    from scine.study.database import DatabaseError
    from scine.study.gold import GoldError, read_gold

    taxonomy = load_taxonomy()
    prompt_records = read_records(prompts, Prompt, taxonomy)
    of_a_prompt = {"prompt_id": _among(prompt_records, prompts)}
    question_records = read_records(questions, Question, taxonomy, checks=of_a_prompt)
    video_records = read_records(
        videos, Video, checks={**of_a_prompt, "path": servable_from(_folder(media))}
    )
    _warn_unplayable(unplayable(video_records))
    names = _annotator_names(annotators)
    try:
        made = create_study(
            db,
            prompt_records,
            question_records,
            video_records,
            names,
            votes=votes,
            seed=seed,
            gold=read_gold(gold) if gold else (),
        )
    except (AssignmentError, GoldError, DatabaseError) as exc:
        fail(str(exc))
    links = {name: f"{url.rstrip('/')}/login?token={token}" for name, token in made.tokens.items()}
    if as_json:
        echo_json(json.dumps({"links": links, "tasks": made.tasks_per_annotator}, indent=2))
    else:
        for name, link in links.items():
            console.print(
                f"{name}\t{made.tasks_per_annotator.get(name, 0)} task(s)\t{link}", soft_wrap=True
            )
    left = (
        f"; {len(made.prompts_left_out)} prompt(s) with one video left out"
        if made.prompts_left_out
        else ""
    )
    (error_console if as_json else console).print(
        f"study created in {db}: {made.comparisons} comparison(s), {made.tasks} task(s) for "
        f"{len(names)} annotator(s), {votes} vote(s) per item{left}",
        soft_wrap=True,
    )


@app.command("export")
def export_command(
    db: Database,
    out: Annotated[Path, typer.Option("--out", "-o", help="ratings.parquet or ratings.jsonl")],
) -> None:
    """Write the votes as the long ratings table ``scine analyze`` reads (one row per vote;
    "can't judge" left out and counted)."""
    from scine.study.database import DatabaseError, open_database
    from scine.study.votes import export_ratings

    try:
        ratings, unjudged = export_ratings(open_database(db))
    except DatabaseError as exc:
        fail(str(exc))
    write_records(out, ratings, Rating)
    console.print(f'wrote {out}: {len(ratings)} vote(s); {unjudged} "can\'t judge" left out')


@app.command("serve")
def serve_command(
    db: Database,
    media: Media,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
) -> None:
    """Serve the annotation app. Set SCINE_STUDY_SECRET (hex) to keep pages valid across
    restarts; otherwise a reload after a restart is needed before submitting."""
    import uvicorn
    from sqlalchemy.orm import Session

    from scine.study.access import unservable_videos
    from scine.study.app import make_app
    from scine.study.database import DatabaseError, open_database

    secret = _secret_from_environment()
    _folder(media)
    try:
        engine = open_database(db)
    except DatabaseError as exc:
        fail(str(exc))
    with Session(engine) as session:
        unservable = unservable_videos(session, media)
    if unservable:
        shown = ", ".join(f"{video} ({path})" for video, path in unservable[:3])
        fail(
            f"{len(unservable)} video(s) of the study are not files inside {media}, so their "
            f"tasks could never be finished: {shown}; put them there (paths as in the study)"
        )
    uvicorn.run(
        make_app(engine, media, secret=secret),
        host=host,
        port=port,
        log_level="warning",
    )


def _among(prompts: list[Prompt], file: Path) -> Callable[[str], str | None]:
    """A check of a prompt id: what is wrong when it is none of ``prompts`` (read from
    ``file``), else None."""
    known = {prompt.id for prompt in prompts}
    return lambda id_: None if id_ in known else f"{id_!r} is not a prompt in {file}"


def _warn_unplayable(odd: list[tuple[str, str]]) -> None:
    """Warn of the videos (id, codec) in a codec browsers may not play."""
    if not odd:
        return
    shown = ", ".join(f"{video} ({codec})" for video, codec in odd[:5])
    error_console.print(
        f"[yellow]warning[/] {len(odd)} video(s) are in a codec browsers may not play: "
        f"{shown}{' ...' if len(odd) > 5 else ''}; re-encode them as H.264 (e.g. ffmpeg -i "
        "IN -c:v libx264 -pix_fmt yuv420p OUT.mp4) and import them again",
        soft_wrap=True,
    )


def _annotator_names(path: Path) -> list[str]:
    """The names in an annotators file: one a line, blank lines and ``#`` comments skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror or exc}")
    except UnicodeDecodeError as exc:
        fail(f"{path}: not valid UTF-8 ({exc.reason})")
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _folder(path: Path) -> Path:
    """``path`` when it is a folder; otherwise an error naming it."""
    if not path.is_dir():
        fail(f"{path}: no such folder")
    return path


def _secret_from_environment() -> bytes | None:
    """SCINE_STUDY_SECRET as bytes, None when unset or empty; other than hex is an error."""
    import os

    text = os.environ.get("SCINE_STUDY_SECRET", "")
    try:
        return bytes.fromhex(text) or None
    except ValueError:
        fail(
            "SCINE_STUDY_SECRET must be hexadecimal digits, two per byte (make one with "
            "python -c 'import secrets; print(secrets.token_hex(32))'), or unset"
        )


@app.command("labelstudio-export")
def labelstudio_export_command(
    prompts: Annotated[Path, typer.Option("--prompts", help="prompts.jsonl")],
    questions: Annotated[Path, typer.Option("--questions", help="questions.jsonl")],
    videos: Annotated[Path, typer.Option("--videos", help="videos.jsonl")],
    media_url: Annotated[
        str, typer.Option("--media-url", help="URL the videos' paths are under, for Label Studio.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for config.xml and tasks.json.")],
) -> None:
    """Write the study as a Label Studio project: labeling config and tasks (one per
    comparison; set "annotations per task" in Label Studio to the votes wanted)."""
    from scine.study.labelstudio import labelstudio_project

    taxonomy = load_taxonomy()
    config, tasks = labelstudio_project(
        read_records(prompts, Prompt, taxonomy),
        read_records(questions, Question, taxonomy),
        read_records(videos, Video),
        media_url,
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.xml").write_text(config, encoding="utf-8")
    (out / "tasks.json").write_text(json.dumps(tasks, indent=1) + "\n", encoding="utf-8")
    console.print(f"wrote {out / 'config.xml'} and {out / 'tasks.json'} ({len(tasks)} task(s))")


@app.command("labelstudio-import")
def labelstudio_import_command(
    export: Annotated[Path, typer.Argument(help="Label Studio's JSON export of the project.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="ratings.jsonl or .parquet to write.")],
) -> None:
    """Read a Label Studio export back into the ratings table; ratings that cannot be
    placed are listed, and the command then exits with status 1."""
    from scine.study.labelstudio import LabelStudioError, read_labelstudio_export

    try:
        ratings, problems = read_labelstudio_export(export)
    except LabelStudioError as exc:
        fail(str(exc))
    write_records(out, ratings, Rating)
    console.print(f"wrote {out}: {len(ratings)} rating(s)")
    if problems:
        for problem in problems:
            console.print(problem, soft_wrap=True)
        fail(f"{len(problems)} rating(s) could not be read (listed above)")

"""Study setup and votes on SQLite: assignment, tokens, submissions, export."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("sqlalchemy")
pytest.importorskip("alembic")

from sqlalchemy import create_engine, inspect, select
from sqlalchemy.orm import Session

from scine.cli import app, main
from scine.records import Prompt, Question, Rating, Video, read_jsonl, write_jsonl
from scine.study import schema
from scine.study.access import unservable_videos
from scine.study.assign import AssignmentError, comparisons, plan_tasks
from scine.study.create import ADMIN, create_study, hash_token, unplayable
from scine.study.database import DatabaseError, checkpoint_in_background, open_database
from scine.study.gold import GoldError, GoldItem, gold_checks, read_gold
from scine.study.votes import Ballot, NotYourTask, SubmissionError, export_ratings, submit
from tests.ports import free_port

MOVE = "camera.trajectory.movement"
runner = CliRunner()


def records(
    prompts: int = 6,
    models: tuple[str, ...] = ("m1", "m2", "m3", "m4"),
    values: tuple[str, ...] = ("pan_left", "tilt_up"),
) -> tuple[list[Prompt], list[Question], list[Video]]:
    """A study's records: every prompt filmed by every model, asked about camera movement."""
    ps = [Prompt(id=f"p{n}", text=f"Shot {n}.", split="visuals") for n in range(prompts)]
    qs = [
        Question(id=f"p{n}/{v}", prompt_id=f"p{n}", node=MOVE, value=v, text=f"{v}?")
        for n in range(prompts)
        for v in values
    ]
    vs = [
        Video(
            id=f"{m}/p{n}",
            prompt_id=f"p{n}",
            model=m,
            seed=0,
            path=f"{m}/p{n}.mp4",
            fps=24,
            frames=48,
            width=64,
            height=64,
        )
        for n in range(prompts)
        for m in models
    ]
    return ps, qs, vs


def test_videos_pair_up_and_an_odd_one_is_rated_beside_a_reference() -> None:
    _, _, videos = records(2, ("m1", "m2", "m3"))
    found, alone = comparisons(
        [
            *videos,
            Video(
                id="solo",
                prompt_id="p9",
                model="m1",
                path="s.mp4",
                fps=24,
                frames=1,
                width=64,
                height=64,
            ),
        ]
    )
    assert alone == ["p9"]
    assert [(c.first, c.second, c.rated) for c in found if c.prompt_id == "p0"] == [
        ("m1/p0", "m2/p0", (True, True)),
        ("m3/p0", "m1/p0", (True, False)),
    ]
    twin = videos[0].model_copy(update={"id": "twin"})
    with pytest.raises(AssignmentError, match="two videos of the same seed"):
        comparisons([*videos, twin])


def test_every_rated_item_gets_exactly_k_votes_from_different_annotators() -> None:
    _, questions, videos = records(7, ("m1", "m2", "m3"))
    found, _ = comparisons(videos)
    per_prompt = Counter(q.prompt_id for q in questions)
    people = [f"a{n}" for n in range(5)]
    tasks = plan_tasks(found, per_prompt, people, votes=3, seed=4)
    voters: dict[str, list[str]] = {}
    for task in tasks:
        for video, rated in ((task.left, task.rate_left), (task.right, task.rate_right)):
            if rated:
                voters.setdefault(video, []).append(task.annotator)
    assert set(voters) == {v.id for v in videos}
    assert all(len(names) == 3 == len(set(names)) for names in voters.values())
    load = Counter[str]()
    for task in tasks:
        load[task.annotator] += (task.rate_left + task.rate_right) * 2
    assert max(load.values()) - min(load.values()) <= 4  # at most one task's work apart
    assert {task.rate_left for task in tasks if not task.rate_right} == {True}
    assert (
        Counter(task.left < task.right for task in tasks if task.rate_left and task.rate_right)[
            True
        ]
        > 0
    )
    for name in people:
        own = sorted(t.position for t in tasks if t.annotator == name)
        assert own == list(range(len(own)))  # each queue in order, no gaps
    with pytest.raises(AssignmentError, match="at least 3 different annotators"):
        plan_tasks(found, per_prompt, ["a", "b"], votes=3)


@pytest.fixture
def study(database: str) -> tuple[object, dict[str, str]]:
    made = create_study(database, *records(), ["ann", "bob", "cyd", "dee"], votes=3, seed=1)
    return open_database(database), made.tokens


def test_tokens_are_stored_hashed_and_a_study_is_made_once(
    study: tuple[object, dict[str, str]], database: str
) -> None:
    engine, tokens = study

    def people() -> dict[str, schema.Annotator]:
        with Session(engine) as session:  # type: ignore[arg-type]
            return {a.name: a for a in session.scalars(select(schema.Annotator))}

    found = people()
    assert set(found) == {"ann", "bob", "cyd", "dee", ADMIN}
    assert found[ADMIN].admin
    assert not found["ann"].admin
    for name, token in tokens.items():
        assert found[name].token_hash == hash_token(token) != token
    refused = "already holds a study" if "://" in database else "already exists"
    with pytest.raises(DatabaseError, match=refused):
        create_study(database, *records(), ["eve", "fay", "gus"])
    assert set(people()) == set(found)


def ballots_for(session: Session, task: schema.Task, score: int | None = 4) -> list[Ballot]:
    questions = session.scalars(
        select(schema.Question.id).where(schema.Question.prompt_id == task.prompt_id)
    ).all()
    sides = [side for side, on in (("left", task.rate_left), ("right", task.rate_right)) if on]
    return [Ballot(side, question, score) for side in sides for question in questions]


def test_a_resubmission_replaces_and_bad_ballots_are_refused(
    study: tuple[object, dict[str, str]],
) -> None:
    engine, _ = study
    with Session(engine) as session, session.begin():  # type: ignore[arg-type]
        task = session.scalars(select(schema.Task).order_by(schema.Task.id)).first()
        assert task is not None
        ballots = ballots_for(session, task)
        assert submit(session, task.annotator_id, task.id, ballots) == 4
        assert submit(session, task.annotator_id, task.id, ballots_for(session, task, None)) == 4
        assert session.query(schema.Vote).filter_by(task_id=task.id).count() == 4
        with pytest.raises(NotYourTask):
            submit(session, task.annotator_id + 1, task.id, ballots)
        with pytest.raises(SubmissionError, match="missing"):
            submit(session, task.annotator_id, task.id, ballots[:-1])
        with pytest.raises(SubmissionError, match="whole numbers 1-5"):
            submit(
                session,
                task.annotator_id,
                task.id,
                [*ballots[:-1], Ballot(ballots[-1].side, ballots[-1].question_id, 6)],
            )
        with pytest.raises(SubmissionError, match="not part of this task"):
            submit(
                session, task.annotator_id, task.id, [*ballots, Ballot("left", "p9/pan_left", 3)]
            )


def test_export_gives_the_ratings_table(study: tuple[object, dict[str, str]]) -> None:
    engine, _ = study
    with Session(engine) as session, session.begin():  # type: ignore[arg-type]
        tasks = session.scalars(select(schema.Task)).all()
        for task in tasks:
            submit(
                session,
                task.annotator_id,
                task.id,
                ballots_for(session, task, 5 if task.id % 2 else None),
            )
    ratings, unjudged = export_ratings(engine)  # type: ignore[arg-type]
    assert len(ratings) + unjudged == 6 * 4 * 2 * 3  # prompts x videos x questions x votes
    assert all(
        r.rater_kind == "human" and r.pair_id and r.pair_id.startswith("task-") for r in ratings
    )
    assert {r.meta["side"] for r in ratings} == {"left", "right"}


def write_media(media: Path, videos: list[Video]) -> Path:
    """A placeholder file under ``media`` for each video (the study never decodes them)."""
    for video in videos:
        (media / video.path).parent.mkdir(parents=True, exist_ok=True)
        (media / video.path).write_bytes(b"\x00\x00\x00\x18ftypmp42" + video.id.encode())
    return media


def create_args(
    folder: Path, prompts: list[Prompt], questions: list[Question], videos: list[Video]
) -> list[str]:
    """``scine study create``'s arguments over the records written as JSONL into ``folder``
    (annotators ann, bob and cyd; the database study.db; the media folder media/)."""
    (folder / "people.txt").write_text("# the panel\nann\nbob\ncyd\n")
    args = ["study", "create", "--db", str(folder / "study.db")]
    args += ["--annotators", str(folder / "people.txt"), "--media", str(folder / "media")]
    for name, rows in (("prompts", prompts), ("questions", questions), ("videos", videos)):
        write_jsonl(folder / f"{name}.jsonl", rows)
        args += [f"--{name}", str(folder / f"{name}.jsonl")]
    return args


def test_cli_creates_a_study_and_exports_it(tmp_path: Path) -> None:
    prompts, questions, videos = records(4)
    write_media(tmp_path / "media", videos)
    args = [*create_args(tmp_path, prompts, questions, videos), "--json"]
    db = str(tmp_path / "study.db")
    made = runner.invoke(app, args)
    assert made.exit_code == 0, made.output
    links = json.loads(made.stdout)["links"]  # nothing else on stdout
    assert "study created in" in made.stderr
    assert leftovers(db, tmp_path) == ["study.db"]  # no temporary file or log beside it
    assert set(links) == {"ann", "bob", "cyd", ADMIN}
    assert all("/login?token=" in link for link in links.values())
    out = tmp_path / "ratings.jsonl"
    exported = runner.invoke(app, ["study", "export", "--db", db, "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert read_jsonl(out, Rating) == []
    again = runner.invoke(app, args)
    assert again.exit_code == 1
    assert f"{db}: already exists; a study is made in a new SQLite file" in again.output
    sqlite3.connect(tmp_path / "empty.db").close()
    with pytest.raises(DatabaseError, match="no study here"):
        open_database(str(tmp_path / "empty.db"))


def test_videos_in_a_codec_browsers_may_not_play_are_named(tmp_path: Path) -> None:
    prompts, questions, videos = records(2)
    videos[1] = videos[1].model_copy(update={"provenance": {"codec": "hevc"}})
    videos[2] = videos[2].model_copy(update={"provenance": {"codec": "h264"}})
    assert unplayable(videos) == [(videos[1].id, "hevc")]
    write_media(tmp_path / "media", videos)
    made = runner.invoke(app, create_args(tmp_path, prompts, questions, videos))
    assert made.exit_code == 0, made.output
    said = " ".join(made.stderr.split())
    assert f"1 video(s) are in a codec browsers may not play: {videos[1].id} (hevc)" in said


def test_create_refuses_the_videos_serve_would_refuse_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts, questions, videos = records(2)
    media = write_media(tmp_path / "media", videos[1:])  # the first video's file is missing
    (tmp_path / "secret.mp4").write_bytes(b"outside")
    (media / "m1/p1.mp4").unlink()
    (media / "m1/p1.mp4").symlink_to(tmp_path / "secret.mp4")  # a link leading out
    videos[2] = videos[2].model_copy(update={"path": "../secret.mp4"})
    videos[3] = videos[3].model_copy(update={"path": str(tmp_path / "secret.mp4")})
    videos[5] = videos[5].model_copy(update={"path": str(media / "m2/p1.mp4")})  # inside: fine
    args = create_args(tmp_path, prompts, questions, videos)
    with pytest.raises(SystemExit) as stopped:
        main(args)
    assert stopped.value.code == 1
    said = capsys.readouterr().err.removeprefix("error: ").splitlines()
    videos_file = tmp_path / "videos.jsonl"
    assert [line.split(": '")[0] for line in said] == [
        f"{videos_file}:{line}: Video field 'path'" for line in (1, 3, 4, 5)
    ]
    assert "'m1/p0.mp4' is not a file inside the media folder" in said[0]
    assert said[0].endswith("study serve could never show it")
    assert not (tmp_path / "study.db").exists()
    unchecked = str(tmp_path / "unchecked.db")
    create_study(unchecked, prompts, questions, videos, ["ann", "bob", "cyd"], votes=1)
    with Session(open_database(unchecked)) as session:  # serve refuses the very same videos
        refused = [video for video, _ in unservable_videos(session, media)]
    assert refused == sorted(videos[n].id for n in (0, 2, 3, 4))


def leftovers(database: str, folder: Path) -> list[str]:
    """What a study create left behind: files of the study's SQLite database in ``folder``
    (a temporary one included), or the tables of a PostgreSQL database."""
    if "://" not in database:
        return sorted(path.name for path in folder.iterdir() if "study.db" in path.name)
    engine = create_engine(database)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def spoil(path: Path, line: int, **fields: str) -> str:
    """Change ``fields`` on one line of a JSONL file; returns "path:line"."""
    rows = path.read_text().splitlines()
    rows[line - 1] = json.dumps({**json.loads(rows[line - 1]), **fields})
    path.write_text("\n".join(rows) + "\n")
    return f"{path}:{line}"


def bad_input(bad: str, folder: Path, args: list[str]) -> str:
    """Make one input of ``scine study create`` (``args``, as ``create_args`` writes them)
    bad; returns the start of the error it should give."""
    if bad == "prompts":
        return spoil(folder / "prompts.jsonl", 2, split="nope") + ": Prompt field 'split'"
    if bad == "questions":
        return spoil(folder / "questions.jsonl", 3, value="pan_sideways") + ": field 'value'"
    if bad == "prompt_id":
        where = spoil(folder / "questions.jsonl", 4, prompt_id="p9")
        return f"{where}: Question field 'prompt_id': 'p9' is not a prompt in {folder}"
    if bad == "votes":
        args += ["--votes", "4"]
        return "4 votes per item need at least 4 different annotators; 3 given"
    if bad == "gold":
        gold = folder / "gold.jsonl"
        gold.write_text(
            '{"video_id": "m1/p0", "question_id": "p0/pan_left", "low": 4, "high": 5}\n'
            '{"video_id": "m1/p1", "question_id": "p1/pan_left", "low": 5}\n'
        )
        args += ["--gold", str(gold)]
        return f"{gold}:2: high: Field required"
    if bad == "annotators":
        args[args.index("--annotators") + 1] = str(folder / "panel.txt")
        return f"{folder / 'panel.txt'}: cannot read: No such file or directory"
    (folder / "people.txt").write_bytes("ann\nbob\nbé\n".encode("latin-1"))
    return f"{folder / 'people.txt'}: not valid UTF-8 (invalid continuation byte)"


@pytest.mark.parametrize(
    "bad", ["prompts", "questions", "prompt_id", "votes", "gold", "annotators", "latin-1"]
)
def test_a_bad_input_is_named_and_leaves_no_database(
    bad: str, database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every input is read and the study assigned before the database is touched: no
    SQLite file, no table on PostgreSQL, so the next create starts from nothing."""
    prompts, questions, videos = records(2)
    write_media(tmp_path / "media", videos)
    args = create_args(tmp_path, prompts, questions, videos)
    args[args.index("--db") + 1] = database
    expected = bad_input(bad, tmp_path, args)
    with pytest.raises(SystemExit) as stopped:
        main(args)
    assert stopped.value.code == 1
    assert capsys.readouterr().err.startswith(f"error: {expected}")
    assert leftovers(database, tmp_path) == []


def test_a_failure_while_writing_leaves_no_database(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The schema and the study are written in one transaction (a SQLite file under a
    temporary name, moved into place once complete)."""

    def broken(*args: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr("scine.study.create._write_tasks", broken)
        with pytest.raises(OSError, match="disk full"):
            create_study(database, *records(), ["ann", "bob", "cyd"])
    assert leftovers(database, tmp_path) == []
    made = create_study(database, *records(), ["ann", "bob", "cyd"])
    with Session(open_database(database)) as session:
        assert session.query(schema.Task).count() == made.tasks == 6 * 2 * 3


def test_a_sqlite_study_is_made_in_a_new_file_only(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("not a database of ours")
    with pytest.raises(DatabaseError, match=f"{notes}: already exists"):
        create_study(str(notes), *records(), ["ann", "bob", "cyd"])
    assert notes.read_text() == "not a database of ours"
    missing = tmp_path / "nowhere" / "study.db"
    with pytest.raises(DatabaseError, match=f"{missing}: no such folder"):
        create_study(str(missing), *records(), ["ann", "bob", "cyd"])
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.db"]


@pytest.mark.parametrize(
    "command", [["export", "--out", "ratings.jsonl"], ["serve", "--media", "."]]
)
def test_a_missing_database_file_is_named_and_not_made(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    outcome = runner.invoke(app, ["study", command[0], "--db", "typo.db", *command[1:]])
    assert outcome.exit_code == 1
    assert "typo.db: no such SQLite file" in outcome.stderr
    assert sorted(tmp_path.iterdir()) == []


def test_gold_items_flag_an_annotator_who_misses_them(database: str, tmp_path: Path) -> None:
    prompts, questions, videos = records(6, ("m1", "m2"))
    gold = [
        GoldItem(video_id=f"m1/p{n}", question_id=f"p{n}/pan_left", low=4, high=5) for n in range(6)
    ]
    create_study(database, prompts, questions, videos, ["ann", "bob", "cyd"], votes=3, gold=gold)
    engine = open_database(database)
    with Session(engine) as session, session.begin():
        for task in session.scalars(select(schema.Task)).all():
            person = session.get(schema.Annotator, task.annotator_id)
            assert person is not None
            submit(
                session,
                task.annotator_id,
                task.id,
                ballots_for(session, task, 1 if person.name == "bob" else 5),
            )
    with Session(engine) as session:
        checks = {row["name"]: row for row in gold_checks(session)}
    assert checks["bob"] == {"name": "bob", "answered": 6, "missed": 6, "flagged": True}
    assert checks["ann"]["missed"] == 0
    assert not checks["ann"]["flagged"]
    other = str(tmp_path / "other.db")
    stray = GoldItem(video_id="m1/p0", question_id="p1/pan_left", low=1, high=2)
    for wrong, said in (
        ([stray], "gold item 1: m1/p0 / p1/pan_left is not a video and a question of the same"),
        ([*gold[:2], gold[0]], r"gold item 3: .* has a known answer already \(gold item 1\)"),
    ):
        with pytest.raises(AssignmentError, match=said):
            create_study(other, prompts, questions, videos, ["a", "b"], votes=1, gold=wrong)
    assert not (tmp_path / "other.db").exists()


def test_a_gold_file_names_its_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text(
        '{"video_id": "v", "question_id": "q", "low": 4, "high": 5}\n'
        '{"video_id": "v", "question_id": "q", "low": 5, "high": 9}\n'
    )
    with pytest.raises(
        GoldError, match=r"gold.jsonl:2: high: Input should be less than or equal to 5"
    ):
        read_gold(path)
    path.write_bytes(b'{"note": "\xe9"}\n')
    with pytest.raises(GoldError, match=r"gold.jsonl: not valid UTF-8"):
        read_gold(path)
    with pytest.raises(GoldError, match=r"absent.jsonl: cannot read: No such file"):
        read_gold(tmp_path / "absent.jsonl")


def test_background_checkpoints_empty_the_write_ahead_log(tmp_path: Path) -> None:
    database = str(tmp_path / "study.db")
    create_study(database, *records(), ["ann", "bob", "cyd"])
    assert not (tmp_path / "study.db-wal").exists()  # the new file holds everything
    engine = open_database(database)
    with checkpoint_in_background(engine, every=0.05):
        with Session(engine) as session, session.begin():
            for task in session.scalars(select(schema.Task)).all():
                submit(session, task.annotator_id, task.id, ballots_for(session, task))
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        assert (tmp_path / "study.db-wal").stat().st_size > 0
    assert (tmp_path / "study.db-wal").stat().st_size == 0  # checkpointed and truncated
    with Session(engine) as session:
        assert session.query(schema.Task).count() == 6 * 2 * 3  # prompts x comparisons x votes
        assert session.query(schema.Vote).count() == 6 * 2 * 3 * 4  # 2 videos x 2 questions


UNUSABLE = [
    (
        f"postgresql+psycopg://ann:secret@127.0.0.1:{free_port()}/scine",
        "postgresql+psycopg://ann:***@127.0.0.1:",
        "cannot connect: connection failed",
    ),
    ("nosuch://host/scine", "nosuch://host/scine", "not a database scine can open here"),
]


@pytest.mark.parametrize(("url", "shown", "reason"), UNUSABLE)
@pytest.mark.parametrize("command", ["create", "export", "serve"])
def test_a_database_that_cannot_be_reached_is_named_without_its_password(
    command: str, url: str, shown: str, reason: str, tmp_path: Path
) -> None:
    prompts, questions, videos = records(2)
    files = {"prompts": prompts, "questions": questions, "videos": videos}
    for name, rows in files.items():
        write_jsonl(tmp_path / f"{name}.jsonl", rows)
    write_media(tmp_path, videos)
    inputs = [f"--{name}={tmp_path / f'{name}.jsonl'}" for name in files]
    (tmp_path / "annotators.txt").write_text("ann\nbob\ncyd\n")
    arguments = {
        "create": [*inputs, f"--annotators={tmp_path / 'annotators.txt'}", f"--media={tmp_path}"],
        "export": ["--out", str(tmp_path / "ratings.jsonl")],
        "serve": ["--media", str(tmp_path)],
    }[command]
    outcome = runner.invoke(app, ["study", command, "--db", url, *arguments])
    assert outcome.exit_code == 1, outcome.output
    assert outcome.exception is None or isinstance(outcome.exception, SystemExit)
    assert f"error: {shown}" in outcome.stderr
    assert reason in outcome.stderr
    assert "secret" not in outcome.output


def test_a_file_that_is_no_database_is_named(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("shot list\n")
    with pytest.raises(DatabaseError, match=r"notes\.db: cannot connect: file is not a database"):
        open_database(str(notes))
    assert notes.read_text() == "shot list\n"

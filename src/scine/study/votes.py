"""Submitting a task's votes and reading them out as the ratings table.

A submission is checked whole (the task is the annotator's, every rated video has a 1-5
score or "can't judge" on every question of the prompt, nothing else) and written in one
transaction that replaces whatever the task held: submitting twice never doubles a vote,
and two submissions of one task at once are stored one after the other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from scine.records import Rating

from . import schema

__all__ = [
    "Ballot",
    "NotYourTask",
    "SubmissionError",
    "export_ratings",
    "prompt_questions",
    "submit",
]

SCORES = frozenset({1, 2, 3, 4, 5})

# Built once: a submission runs these on the table level, past the ORM's bookkeeping.
# Reading the task locks its row (FOR UPDATE; SQLite has one writer anyway), so two
# submissions of one task at once take turns instead of both inserting its votes.
_TASK = (
    select(
        schema.Task.annotator_id,
        schema.Task.prompt_id,
        schema.Task.left_video_id,
        schema.Task.right_video_id,
        schema.Task.rate_left,
        schema.Task.rate_right,
    )
    .where(schema.Task.id == bindparam("task"))
    .with_for_update()
)
_VOTES, _TASKS = schema.Base.metadata.tables["vote"], schema.Base.metadata.tables["task"]
_CLEAR = delete(_VOTES).where(schema.Vote.task_id == bindparam("task"))
_ADD = insert(_VOTES)
_DONE = update(_TASKS).where(schema.Task.id == bindparam("task")).values(submitted=bindparam("now"))


class SubmissionError(ValueError):
    """A submission that cannot be stored; the message says what is wrong."""


class NotYourTask(PermissionError):
    """The task is not the annotator's (or does not exist)."""


@dataclass(frozen=True)
class Ballot:
    """One answer in a submission: the video by its side of the task ("left" or "right"),
    a question, a score 1-5 or None for "can't judge", and an optional comment."""

    side: str
    question_id: str
    score: int | None
    comment: str | None = None


def submit(
    session: Session,
    annotator_id: int,
    task_id: int,
    ballots: Sequence[Ballot],
    known_questions: dict[str, frozenset[str]] | None = None,
) -> int:
    """Store a task's votes, replacing earlier ones; returns how many. The caller's
    ``session`` transaction makes it atomic and keeps the task's row locked until it ends.
    ``known_questions``: question ids by prompt, kept by a caller across submissions (they
    never change) and filled here as needed."""
    connection = session.connection()
    task = connection.execute(_TASK, {"task": task_id}).first()
    if task is None or task.annotator_id != annotator_id:
        raise NotYourTask(f"task {task_id} is not yours")
    rated = {
        side: video
        for side, video, on in (
            ("left", task.left_video_id, task.rate_left),
            ("right", task.right_video_id, task.rate_right),
        )
        if on
    }
    known = {} if known_questions is None else known_questions
    if task.prompt_id not in known:
        known[task.prompt_id] = prompt_questions(session, task.prompt_id)
    questions = known[task.prompt_id]
    expected = {(side, question) for side in rated for question in questions}
    given = Counter((b.side, b.question_id) for b in ballots)
    problems = []
    if twice := sorted(k for k, n in given.items() if n > 1):
        problems.append(f"answered twice: {twice[:3]}")
    if foreign := sorted(set(given) - expected):
        problems.append(f"not part of this task: {foreign[:3]}")
    if missing := sorted(expected - set(given)):
        problems.append(f"{len(missing)} answer(s) missing, e.g. {missing[:3]}")
    if bad := [b.score for b in ballots if b.score is not None and b.score not in SCORES]:
        problems.append(f"scores must be whole numbers 1-5 (or can't judge): got {bad[:3]}")
    if problems:
        raise SubmissionError("; ".join(problems))
    now = datetime.now(UTC)
    connection.execute(_CLEAR, {"task": task_id})
    rows = [
        {
            "task_id": task_id,
            "video_id": rated[b.side],
            "question_id": b.question_id,
            "annotator_id": annotator_id,
            "score": None if b.score is None else float(b.score),
            "comment": (b.comment or None) and b.comment[:2000],
            "side": b.side,
            "created": now,
        }
        for b in ballots
    ]
    connection.execute(_ADD, rows)
    connection.execute(_DONE, {"task": task_id, "now": now})
    return len(ballots)


def prompt_questions(session: Session, prompt_id: str) -> frozenset[str]:
    """The ids of a prompt's questions."""
    found = session.scalars(
        select(schema.Question.id).where(schema.Question.prompt_id == prompt_id)
    )
    return frozenset(found)


def export_ratings(engine: Engine) -> tuple[list[Rating], int]:
    """Every scored vote as a ``Rating`` (``rater_kind="human"``, ``pair_id`` the task), and
    how many "can't judge" votes were left out."""
    with Session(engine) as session:
        rows = session.execute(
            select(schema.Vote, schema.Annotator.name)
            .join(schema.Annotator, schema.Annotator.id == schema.Vote.annotator_id)
            .order_by(schema.Vote.task_id, schema.Vote.video_id, schema.Vote.question_id)
        ).all()
    ratings = [
        Rating(
            video_id=vote.video_id,
            question_id=vote.question_id,
            rater=name,
            rater_kind="human",
            score=vote.score,
            pair_id=f"task-{vote.task_id}",
            meta={"side": vote.side, **({"comment": vote.comment} if vote.comment else {})},
        )
        for vote, name in rows
        if vote.score is not None
    ]
    return ratings, sum(vote.score is None for vote, _ in rows)

"""Setting up a study in its database: records, annotators with their tokens, tasks."""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scine.records import Prompt, Question, Video
from scine.taxonomy import load_taxonomy

from . import schema
from .assign import AssignmentError, Comparison, PlannedTask, comparisons, plan_tasks
from .database import DatabaseError, new_database
from .gold import GoldItem

__all__ = ["ADMIN", "BROWSER_CODECS", "CreatedStudy", "create_study", "hash_token", "unplayable"]

ADMIN = "admin"
"""The name of the study's administrator account, made with every study."""


@dataclass
class CreatedStudy:
    """Tokens to hand out (by annotator name, the admin's included) and what was made."""

    tokens: dict[str, str]
    tasks: int
    comparisons: int
    tasks_per_annotator: dict[str, int] = field(default_factory=dict)
    prompts_left_out: list[str] = field(default_factory=list)


BROWSER_CODECS = frozenset({"h264", "vp8", "vp9", "av1"})
"""Video codecs every current browser plays (HEVC, ProRes and others play in few or none)."""


def unplayable(videos: Sequence[Video]) -> list[tuple[str, str]]:
    """(id, codec) of the videos whose recorded codec (``provenance.codec``, as ``scine
    videos import`` writes it) browsers may not play: their tasks could not be finished."""
    found = [(video.id, video.provenance.get("codec")) for video in videos]
    return [
        (id_, codec)
        for id_, codec in found
        if isinstance(codec, str) and codec not in BROWSER_CODECS
    ]


def hash_token(token: str) -> str:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_study(
    database: str,
    prompts: Sequence[Prompt],
    questions: Sequence[Question],
    videos: Sequence[Video],
    annotators: Sequence[str],
    *,
    votes: int = 3,
    seed: int = 0,
    name: str = "SCINE study",
    gold: Sequence[GoldItem] = (),
) -> CreatedStudy:
    """Make the study in a new database (a URL, or the path of a SQLite file that is not
    there yet): every video's and question's prompt must be among ``prompts``; prompts with
    a single video are left out (listed). ``gold``: known answers, each on a video and a
    question of the same prompt. Everything is checked and assigned before the database is
    touched, and written in one transaction (see ``new_database``)."""
    names = [a.strip() for a in annotators if a.strip()]
    found, alone = _checked_comparisons(prompts, questions, videos, names, gold)
    per_prompt = Counter(q.prompt_id for q in questions)
    planned = plan_tasks(found, per_prompt, names, votes=votes, seed=seed)
    tokens = {person: secrets.token_urlsafe(24) for person in [*names, ADMIN]}
    with new_database(database) as connection, Session(bind=connection) as session:
        if session.scalar(select(schema.Study.id)) is not None:
            raise DatabaseError("this database already holds a study")
        session.add(
            schema.Study(
                name=name,
                votes_per_item=votes,
                seed=seed,
                taxonomy=load_taxonomy().version,
                created=datetime.now(UTC),
            )
        )
        people = _write_annotators(session, tokens)
        _write_records(session, prompts, questions, videos, gold)
        _write_tasks(session, planned, people)
    return CreatedStudy(
        tokens=tokens,
        tasks=len(planned),
        comparisons=len(found),
        tasks_per_annotator=dict(Counter(t.annotator for t in planned)),
        prompts_left_out=alone,
    )


def _checked_comparisons(
    prompts: Sequence[Prompt],
    questions: Sequence[Question],
    videos: Sequence[Video],
    names: Sequence[str],
    gold: Sequence[GoldItem],
) -> tuple[list[Comparison], list[str]]:
    """The study's comparisons and the prompts left out, once the records fit together."""
    repeated = [n for n, count in Counter(names).items() if count > 1]
    if repeated or ADMIN in names:
        raise AssignmentError(
            f"annotator names must be unique and not {ADMIN!r}: {', '.join(repeated or [ADMIN])}"
        )
    known = {p.id for p in prompts}
    strays = sorted(({v.prompt_id for v in videos} | {q.prompt_id for q in questions}) - known)
    if strays:
        raise AssignmentError(f"videos or questions of unknown prompts: {', '.join(strays[:5])}")
    _check_gold(gold, videos, questions)
    found, alone = comparisons(videos)
    unasked = sorted({c.prompt_id for c in found} - {q.prompt_id for q in questions})
    if unasked:
        raise AssignmentError(f"prompts with videos but no questions: {', '.join(unasked[:5])}")
    return found, alone


def _write_annotators(session: Session, tokens: dict[str, str]) -> dict[str, schema.Annotator]:
    """The annotators (and the admin), each with the hash of their token, by name."""
    people = {
        person: schema.Annotator(name=person, token_hash=hash_token(token), admin=person == ADMIN)
        for person, token in tokens.items()
    }
    session.add_all(people.values())
    session.flush()
    return people


def _write_records(
    session: Session,
    prompts: Sequence[Prompt],
    questions: Sequence[Question],
    videos: Sequence[Video],
    gold: Sequence[GoldItem],
) -> None:
    """Prompts, questions (in their order within each prompt), videos and gold answers."""
    session.add_all(schema.Prompt(id=p.id, text=p.text) for p in prompts)
    session.flush()
    order = Counter[str]()
    for question in questions:
        session.add(
            schema.Question(
                id=question.id,
                prompt_id=question.prompt_id,
                node=question.node,
                value=question.value,
                text=question.text,
                position=order[question.prompt_id],
            )
        )
        order[question.prompt_id] += 1
    session.add_all(
        schema.Video(id=v.id, prompt_id=v.prompt_id, model=v.model, seed=v.seed, path=v.path)
        for v in videos
    )
    session.flush()  # gold answers refer to the videos and questions
    session.add_all(
        schema.GoldAnswer(
            video_id=g.video_id, question_id=g.question_id, low=g.low, high=g.high, note=g.note
        )
        for g in gold
    )
    session.flush()


def _write_tasks(
    session: Session, planned: Sequence[PlannedTask], people: dict[str, schema.Annotator]
) -> None:
    """Every annotator's queue of tasks."""
    session.add_all(
        schema.Task(
            annotator_id=people[task.annotator].id,
            prompt_id=task.prompt_id,
            left_video_id=task.left,
            right_video_id=task.right,
            rate_left=task.rate_left,
            rate_right=task.rate_right,
            position=task.position,
        )
        for task in planned
    )
    session.flush()


def _check_gold(
    gold: Sequence[GoldItem], videos: Sequence[Video], questions: Sequence[Question]
) -> None:
    """Every gold item on a known video and a question of that video's prompt, once."""
    prompt_of_video = {v.id: v.prompt_id for v in videos}
    prompt_of_question = {q.id: q.prompt_id for q in questions}
    first: dict[tuple[str, str], int] = {}
    for number, item in enumerate(gold, start=1):
        video = prompt_of_video.get(item.video_id)
        question = prompt_of_question.get(item.question_id)
        if video is None or question is None or video != question:
            raise AssignmentError(
                f"gold item {number}: {item.video_id} / {item.question_id} is not a video and a "
                "question of the same prompt in this study"
            )
        seen = first.setdefault((item.video_id, item.question_id), number)
        if seen != number:
            raise AssignmentError(
                f"gold item {number}: {item.video_id} / {item.question_id} has a known answer "
                f"already (gold item {seen})"
            )

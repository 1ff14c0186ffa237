"""The study's tables (SQLAlchemy 2). Alembic migrations in ``migrations/`` create them.

A *task* is one prompt and two of its videos (different models, same seed), shown to one
annotator with the prompt's questions; which video is on the left is drawn per task and
stored. A *vote* is one annotator's 1-5 rating (or "can't judge") of one video on one
question within a task; a task's votes are written in one transaction and a resubmission
replaces them (one row per task, video and question).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Annotator",
    "Base",
    "GoldAnswer",
    "Prompt",
    "Question",
    "Study",
    "Task",
    "Video",
    "Vote",
]


class Base(DeclarativeBase):
    """The study database's tables."""


class Study(Base):
    """Settings of the one study a database holds."""

    __tablename__ = "study"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    votes_per_item: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    taxonomy: Mapped[str] = mapped_column(String(32))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Annotator(Base):
    """Someone who rates (or, with ``admin``, manages); only a hash of the token is kept."""

    __tablename__ = "annotator"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)


class Prompt(Base):
    __tablename__ = "prompt"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    text: Mapped[str] = mapped_column(Text)


class Question(Base):
    __tablename__ = "question"

    id: Mapped[str] = mapped_column(String(400), primary_key=True)
    prompt_id: Mapped[str] = mapped_column(ForeignKey("prompt.id"), index=True)
    node: Mapped[str] = mapped_column(String(200))
    value: Mapped[str | None] = mapped_column(String(200), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)


class Video(Base):
    __tablename__ = "video"

    id: Mapped[str] = mapped_column(String(400), primary_key=True)
    prompt_id: Mapped[str] = mapped_column(ForeignKey("prompt.id"), index=True)
    model: Mapped[str] = mapped_column(String(200))
    seed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    path: Mapped[str] = mapped_column(Text)


class Task(Base):
    """One annotator's side-by-side comparison; ``rate_left``/``rate_right`` say which
    sides are rated (a prompt with an odd number of videos shows its last one beside a
    reference video that is not rated again)."""

    __tablename__ = "task"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotator.id"), index=True)
    prompt_id: Mapped[str] = mapped_column(ForeignKey("prompt.id"))
    left_video_id: Mapped[str] = mapped_column(ForeignKey("video.id"))
    right_video_id: Mapped[str] = mapped_column(ForeignKey("video.id"))
    rate_left: Mapped[bool] = mapped_column(Boolean, default=True)
    rate_right: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer)  # the order in the annotator's queue
    submitted: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Vote(Base):
    """One rating; ``score`` is None when the annotator could not judge."""

    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("task_id", "video_id", "question_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    video_id: Mapped[str] = mapped_column(ForeignKey("video.id"))
    question_id: Mapped[str] = mapped_column(ForeignKey("question.id"))
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotator.id"), index=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    side: Mapped[str] = mapped_column(String(5))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GoldAnswer(Base):
    """A known answer, to flag inattentive raters: the score range expected."""

    __tablename__ = "gold"

    video_id: Mapped[str] = mapped_column(ForeignKey("video.id"), primary_key=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("question.id"), primary_key=True)
    low: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)

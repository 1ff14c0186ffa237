"""Gold items: questions on videos whose answer is known, to find inattentive raters.

A gold item names a video, a question and the range of scores that counts as right. It is
rated like any other item (annotators cannot tell it apart); the admin pages list, per
annotator, how many gold items they answered and missed, flagging anyone who missed more
than ``MISS_SHARE`` of at least ``MIN_ANSWERED``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import schema

__all__ = ["MIN_ANSWERED", "MISS_SHARE", "GoldError", "GoldItem", "gold_checks", "read_gold"]

MISS_SHARE = 0.25
MIN_ANSWERED = 3

Score = Annotated[float, Field(ge=1, le=5)]


class GoldError(ValueError):
    """A gold file that cannot be read; the message names the line and field."""


class GoldItem(BaseModel):
    """A known answer: ``video_id`` rated ``low``..``high`` on ``question_id``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    video_id: str
    question_id: str
    low: Score
    high: Score
    note: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> GoldItem:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) is above high ({self.high})")
        return self


def read_gold(path: str | Path) -> list[GoldItem]:
    """Gold items from a JSONL file; a bad line is an error naming the line and field."""
    items = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise GoldError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise GoldError(f"{path}: not valid UTF-8 ({exc.reason})") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            items.append(GoldItem.model_validate_json(line))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "line"
            raise GoldError(f"{path}:{number}: {field}: {first['msg']}") from exc
    return items


def gold_checks(session: Session) -> list[dict[str, Any]]:
    """Per annotator who rated gold items: answered, missed, and whether flagged."""
    rows = session.execute(
        select(
            schema.Annotator.name, schema.Vote.score, schema.GoldAnswer.low, schema.GoldAnswer.high
        )
        .join(schema.Vote, schema.Vote.annotator_id == schema.Annotator.id)
        .join(
            schema.GoldAnswer,
            (schema.GoldAnswer.video_id == schema.Vote.video_id)
            & (schema.GoldAnswer.question_id == schema.Vote.question_id),
        )
        .where(schema.Vote.score.is_not(None))
    ).all()
    found: dict[str, list[bool]] = {}
    for name, score, low, high in rows:
        assert score is not None  # "can't judge" votes are left out above
        found.setdefault(name, []).append(not low <= score <= high)
    return [
        {
            "name": name,
            "answered": len(misses),
            "missed": sum(misses),
            "flagged": len(misses) >= MIN_ANSWERED and sum(misses) / len(misses) > MISS_SHARE,
        }
        for name, misses in sorted(found.items())
    ]

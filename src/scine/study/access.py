"""Who is asking, and what they may see: tokens, CSRF tokens, media paths."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import schema
from .create import hash_token

__all__ = [
    "annotator_for",
    "csrf_matches",
    "csrf_token",
    "media_file",
    "servable_from",
    "unservable_videos",
]


def annotator_for(session: Session, token: str | None) -> schema.Annotator | None:
    """The annotator whose token this is (compared by hash), or None."""
    if not token or len(token) > 200:
        return None
    return session.scalar(
        select(schema.Annotator).where(schema.Annotator.token_hash == hash_token(token))
    )


def csrf_token(secret: bytes, token_hash: str) -> str:
    """A per-annotator token (from the hash of their sign-in token) that state-changing
    requests must echo: the votes API in a header, the sign-out form in a field."""
    return hmac.new(secret, token_hash.encode("ascii"), hashlib.sha256).hexdigest()


def csrf_matches(secret: bytes, token_hash: str, sent: str) -> bool:
    """Whether ``sent`` is the annotator's CSRF token (compared in constant time; any
    text, ASCII or not, may arrive)."""
    expected = csrf_token(secret, token_hash).encode("ascii")
    return secrets.compare_digest(sent.encode("utf-8", "surrogateescape"), expected)


def unservable_videos(session: Session, root: Path) -> list[tuple[str, str]]:
    """(id, path) of the study's videos that ``media_file`` cannot serve from ``root``: the
    tasks showing them could never be finished."""
    videos = session.execute(select(schema.Video.id, schema.Video.path).order_by(schema.Video.id))
    return [(video, path) for video, path in videos if media_file(root, path) is None]


def servable_from(root: Path) -> Callable[[str], str | None]:
    """A check of a video's path before a study is made: what is wrong with it by
    ``media_file``'s rule (the one ``study serve`` applies), or None when it can be served."""

    def check(relative: str) -> str | None:
        if media_file(root, relative) is not None:
            return None
        return (
            f"{relative!r} is not a file inside the media folder {root} (missing, a folder, "
            "or led out of it by '..', an absolute path or a symlink): study serve could "
            "never show it"
        )

    return check


def media_file(root: Path, relative: str) -> Path | None:
    """The file at ``relative`` inside ``root``, or None if it is outside it (``..``,
    an absolute path, or a symlink that leads out) or not a file."""
    base = root.resolve()
    try:
        target = (base / relative).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target

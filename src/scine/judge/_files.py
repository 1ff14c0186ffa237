"""What identifies a video for a cache: the hash of its bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["video_digest"]


def video_digest(path: Path) -> str | None:
    """The sha256 of the file's bytes, or None when it cannot be read (sampling then says why)."""
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None

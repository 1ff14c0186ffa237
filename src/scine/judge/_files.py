"""What identifies a video for a cache: the hash of its bytes."""

from __future__ import annotations

from pathlib import Path

from scine.records import file_sha256

__all__ = ["video_digest"]


def video_digest(path: Path) -> str | None:
    """The sha256 of the file's bytes, or None when it cannot be read (sampling then says why)."""
    try:
        return file_sha256(path)
    except OSError:
        return None

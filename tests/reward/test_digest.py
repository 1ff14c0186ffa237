"""The checkpoint digest (the trained evaluator's cache tag): hashed once, kept with each
file's size and modification time, hashed again when any of them changes."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

import scine.reward.checkpoint as checkpoint
from scine.reward.checkpoint import DIGEST_FILE, checkpoint_digest

FILES = {"reward.json": b"{}", "head.safetensors": b"head-0", "tokenizer/vocab.json": b"[]"}
LONG_AGO = time.time_ns() - 3600 * 10**9


def write_checkpoint(folder: Path) -> Path:
    """A checkpoint's files, last modified an hour ago."""
    for name, data in FILES.items():
        settle(folder / name, data)
    return folder


def settle(path: Path, data: bytes, *, age_ns: int = 0) -> None:
    """``path`` holding ``data``, last modified an hour (and ``age_ns``) ago."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, ns=(LONG_AGO - age_ns, LONG_AGO - age_ns))


def expected(folder: Path) -> str:
    """The digest as defined: sha256 over each file's path and sha256, the kept digest's
    own file left out."""
    lines = [
        f"{path.relative_to(folder).as_posix()}\0{hashlib.sha256(path.read_bytes()).hexdigest()}"
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != DIGEST_FILE
    ]
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files ``checkpoint_digest`` hashes, in order."""
    hashed: list[Path] = []
    file_sha256 = checkpoint.file_sha256

    def counted(path: Path) -> str:
        hashed.append(path)
        return file_sha256(path)

    monkeypatch.setattr(checkpoint, "file_sha256", counted)
    return hashed


def test_an_unchanged_checkpoint_is_hashed_once(tmp_path: Path, reads: list[Path]) -> None:
    folder = write_checkpoint(tmp_path / "ckpt")
    first = checkpoint_digest(folder)
    assert first == expected(folder)
    assert len(reads) == 3
    assert (folder / DIGEST_FILE).is_file()
    assert checkpoint_digest(folder) == first
    assert len(reads) == 3  # read back, not hashed


@pytest.mark.parametrize(
    "change",
    [
        "content of the same size",
        "modification time",
        "file added",
        "file removed",
    ],
)
def test_a_changed_file_is_hashed_again(tmp_path: Path, reads: list[Path], change: str) -> None:
    folder = write_checkpoint(tmp_path / "ckpt")
    before = checkpoint_digest(folder)
    reads.clear()
    head = folder / "head.safetensors"
    if change == "content of the same size":
        settle(head, b"head-1", age_ns=1)
    elif change == "modification time":
        settle(head, head.read_bytes(), age_ns=1)
    elif change == "file added":
        settle(folder / "adapter.safetensors", b"lora")
    else:
        head.unlink()
    after = checkpoint_digest(folder)
    assert reads, "nothing was hashed again"
    assert after == expected(folder)
    assert (after == before) == (change == "modification time")
    reads.clear()
    assert checkpoint_digest(folder) == after
    assert reads == []  # kept again


def test_files_modified_just_now_are_hashed_every_time(tmp_path: Path, reads: list[Path]) -> None:
    """A file's modification time can stay the same over a change made within one tick of
    the file system's clock: the digest of files that recent is not kept."""
    folder = write_checkpoint(tmp_path / "ckpt")
    (folder / "head.safetensors").write_bytes(b"head-1")
    assert checkpoint_digest(folder) == expected(folder)
    assert not (folder / DIGEST_FILE).exists()
    reads.clear()
    checkpoint_digest(folder)
    assert len(reads) == 3


def test_a_folder_that_cannot_be_written_is_hashed_every_time(
    tmp_path: Path, reads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_checkpoint(tmp_path / "ckpt")
    checkpoint_digest(folder)  # kept while the folder could be written
    kept = (folder / DIGEST_FILE).read_bytes()
    settle(folder / "head.safetensors", b"head-1", age_ns=1)
    written = Path.write_text

    def refused(path: Path, *args: object, **kw: object) -> int:
        if path.parent == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return written(path, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", refused)  # as chmod does for all but root
    reads.clear()
    assert checkpoint_digest(folder) == expected(folder)
    assert checkpoint_digest(folder) == expected(folder)
    assert len(reads) == 6  # hashed both times
    assert (folder / DIGEST_FILE).read_bytes() == kept  # the stale record is left as it was
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [DIGEST_FILE, "head.safetensors", "reward.json", "tokenizer"]
    )


def test_a_kept_digest_that_is_no_record_is_hashed_again(tmp_path: Path, reads: list[Path]) -> None:
    folder = write_checkpoint(tmp_path / "ckpt")
    digest = checkpoint_digest(folder)
    record = json.loads((folder / DIGEST_FILE).read_text())
    for broken in ("{", json.dumps(dict(record, format="other")), json.dumps([record])):
        (folder / DIGEST_FILE).write_text(broken)
        reads.clear()
        assert checkpoint_digest(folder) == digest
        assert len(reads) == 3

"""Which stages of a run are current: a fingerprint of each stage's settings and inputs,
and the hashes of what it wrote, kept in ``DIR/.run/<stage>.json``; and what makes ``DIR``
a run folder: ``DIR/.run/scine-run.json``, written before the first stage writes anything."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic_core import to_jsonable_python

from scine import __version__
from scine.records import file_sha256
from scine.taxonomy import load_taxonomy

STATE = ".run"
MARKER = "scine-run.json"


def fingerprint(root: Path, stage: str, settings: Any, inputs: Sequence[Path]) -> str:
    """What decides a stage's outputs: its settings, the bytes of its input files (named
    relative to the run folder ``root`` when inside it; a missing one counts as missing, and
    the stage says why it needs it), and the scine and taxonomy versions."""
    parts = {
        "stage": stage,
        "settings": settings,
        "inputs": {
            run_name(root, path): file_sha256(path) if path.is_file() else None
            for path in sorted(inputs)
        },
        "scine": __version__,
        "taxonomy": load_taxonomy().version,
    }
    text = json.dumps(parts, sort_keys=True, default=to_jsonable_python)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_current(root: Path, stage: str, print_: str) -> bool:
    """Whether the stage last finished with this fingerprint and its outputs are unchanged."""
    record = _read(root / STATE / f"{stage}.json")
    if record is None or record.get("fingerprint") != print_:
        return False
    outputs = record.get("outputs", {})
    return all(
        (root / name).is_file() and file_sha256(root / name) == digest
        for name, digest in outputs.items()
    )


def mark_done(root: Path, stage: str, print_: str, outputs: Sequence[Path], seconds: float) -> None:
    """Record a finished stage (written last, atomically: a crash leaves it not current)."""
    record = {
        "fingerprint": print_,
        "outputs": {run_name(root, path): file_sha256(path) for path in outputs},
        "seconds": round(seconds, 3),
    }
    folder = root / STATE
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{stage}.json.tmp"
    temporary.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, folder / f"{stage}.json")


def is_run_folder(root: Path, stages: Sequence[str]) -> bool:
    """Whether ``root`` holds a scine run: its marker, or a record of one of ``stages`` (a
    run made before the marker was written)."""
    state = root / STATE
    return (state / MARKER).is_file() or any((state / f"{s}.json").is_file() for s in stages)


def mark_run_folder(root: Path) -> None:
    """Mark ``root`` as a scine run folder (once; an existing marker is kept). A marker that
    cannot be written is not left half-made, nor the ``.run`` folder made for it (which
    would make the folder look like another tool's)."""
    marker = root / STATE / MARKER
    if marker.is_file():
        return
    made = not marker.parent.is_dir()
    marker.parent.mkdir(parents=True, exist_ok=True)
    record = {"made_by": "scine run", "scine_version": __version__}
    try:
        marker.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    except OSError:
        with contextlib.suppress(OSError):
            marker.unlink(missing_ok=True)
            if made:
                marker.parent.rmdir()
        raise


def run_name(root: Path, path: Path) -> str:
    """A file's name in a stage record: relative to the run folder, or absolute outside it."""
    return str(path.relative_to(root) if path.is_relative_to(root) else path)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return found if isinstance(found, dict) else None

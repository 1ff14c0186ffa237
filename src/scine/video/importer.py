"""Import anyone's videos by an id-keyed map, never by guessing from file names.

The map is a CSV (header ``prompt_id,model,path[,seed]``), a JSONL file (objects with those
keys) or a directory laid out ``DIR/<model>/<prompt_id>.<video extension>``. Every row is
either imported as a ``Video`` or reported as a ``BadFile`` with its line and a reason, and
every prompt without a video for a model named in the map is listed as missing. A malformed
map (missing column or field, bad JSON, bad seed) raises ``VideoImportError``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from scine.records import Prompt, Video
from scine.video.probe import MAX_PIXELS, MAX_SIDE, VIDEO_EXTENSIONS, Probe, probe

__all__ = [
    "BadFile",
    "BadKind",
    "ImportReport",
    "VideoImportError",
    "import_videos",
    "write_import_report",
]

BadKind = Literal[
    "invalid", "unknown_prompt", "duplicate", "outside_root", "not_in_layout", "same_file", "video"
]
REQUIRED = ("prompt_id", "model", "path")
OPTIONAL = ("seed",)
_ID = re.compile(r"\S(.*\S)?")  # the id rule of scine.records
_HEADER = "prompt_id,model,path[,seed]"


class VideoImportError(ValueError):
    """The map itself is malformed or unreadable; the message names file, line and field."""


@dataclass(frozen=True)
class BadFile:
    """One map entry that was not imported, where it is and why.

    ``line`` is the map's line (None for a directory map); ``path`` is as written in the
    map, or relative to the root for a directory map.
    """

    path: str
    prompt_id: str | None
    model: str | None
    line: int | None
    reason: str
    kind: BadKind


@dataclass
class ImportReport:
    """What an import found: one ``Video`` per good file, every bad entry, missing pairs.

    ``rows`` counts the map's entries (rows, or files under a directory map); each is either
    in ``videos`` or in ``bad``. ``missing`` holds every (prompt_id, model) without a video,
    for each model named on at least one row, models sorted, prompts in the given order.
    """

    mapping: Path
    root: Path
    rows: int
    videos: list[Video] = field(default_factory=list)
    bad: list[BadFile] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    models: list[str] = field(default_factory=list)

    @property
    def unknown_prompts(self) -> list[BadFile]:
        """Rows whose prompt_id is not among the prompts."""
        return [entry for entry in self.bad if entry.kind == "unknown_prompt"]

    @property
    def duplicates(self) -> list[BadFile]:
        """Rows naming a (prompt, model) pair that another row names too."""
        return [entry for entry in self.bad if entry.kind == "duplicate"]

    def counts(self) -> dict[str, Any]:
        """Rows, imported, bad (and bad by kind), missing and model counts."""
        return {
            "rows": self.rows,
            "imported": len(self.videos),
            "bad": len(self.bad),
            "bad_by_kind": dict(sorted(Counter(entry.kind for entry in self.bad).items())),
            "missing": len(self.missing),
            "models": len(self.models),
        }


@dataclass(frozen=True)
class _Row:
    line: int | None
    prompt_id: str
    model: str
    path: str
    seed: int | None = None

    def where(self) -> str:
        return f"line {self.line}" if self.line is not None else self.path

    def bad(self, kind: BadKind, reason: str) -> BadFile:
        return BadFile(self.path, self.prompt_id, self.model, self.line, reason, kind)


def import_videos(
    prompts: Sequence[Prompt],
    mapping: Path,
    root: Path | None = None,
    *,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import the videos a map names for ``prompts``; see the module docstring.

    Paths in a CSV/JSONL map are relative to ``root`` (default: the map's folder) or
    absolute; under a directory map the root defaults to the directory. A path leaving the
    root (``..``, absolute elsewhere, a symlink out) is a bad file. Every file is probed with
    ``scine.video.probe`` (``workers`` threads); ``progress(done, total)`` follows the probes.
    """
    mapping = Path(mapping)
    known = _prompt_ids(prompts)
    if not mapping.exists():
        raise VideoImportError(f"{mapping}: map not found (a .csv, a .jsonl or a directory)")
    if mapping.is_dir():
        base = Path(root) if root is not None else mapping
        _check_root(base)
        rows, bad = _read_directory(mapping, base)
    else:
        rows, bad = _read_map_file(mapping), []
        base = Path(root) if root is not None else mapping.parent
        _check_root(base)

    report = ImportReport(mapping=mapping, root=base, rows=len(rows) + len(bad))
    candidates: list[_Row] = []
    models: set[str] = set()
    for row in rows:
        problem = _id_problem(row)
        if problem:
            bad.append(row.bad("invalid", problem))
            continue
        models.add(row.model)
        if row.prompt_id not in known:
            reason = f"prompt_id {row.prompt_id!r} is not among the {len(known)} prompts"
            bad.append(row.bad("unknown_prompt", reason))
            continue
        candidates.append(row)

    unique, duplicated = _split_duplicates(candidates)
    bad.extend(duplicated)
    located, outside = _locate(unique, base)
    bad.extend(outside)
    located, shared = _split_shared(located)
    bad.extend(shared)

    probes = _probe_all([file for _, _, file in located], workers, progress)
    for (row, clean, _), found in zip(located, probes, strict=True):
        if found.ok:
            report.videos.append(_video(row, clean, found))
        else:
            bad.append(row.bad("video", found.reason or "not a usable video"))

    imported = {(video.prompt_id, video.model) for video in report.videos}
    report.models = sorted(models)
    report.missing = [
        (prompt_id, model)
        for model in report.models
        for prompt_id in known
        if (prompt_id, model) not in imported
    ]
    report.bad = sorted(bad, key=lambda entry: (entry.line or 0, entry.path))
    return report


def write_import_report(report: ImportReport, path: str | Path) -> None:
    """Write the report as JSON: counts, probe limits, per-model counts, bad files, missing."""
    per_model: dict[str, dict[str, int]] = {
        model: {"imported": 0, "bad": 0, "missing": 0} for model in report.models
    }
    for video in report.videos:
        per_model[video.model]["imported"] += 1
    for entry in report.bad:
        if entry.model in per_model:
            per_model[entry.model]["bad"] += 1
    for _, model in report.missing:
        per_model[model]["missing"] += 1
    data = {
        "mapping": str(report.mapping),
        "root": str(report.root),
        "counts": report.counts(),
        "limits": {"max_side": MAX_SIDE, "max_pixels": MAX_PIXELS},
        "models": per_model,
        "bad": [
            {
                "path": entry.path,
                "prompt_id": entry.prompt_id,
                "model": entry.model,
                "line": entry.line,
                "kind": entry.kind,
                "reason": entry.reason,
            }
            for entry in report.bad
        ],
        "missing": [{"prompt_id": prompt, "model": model} for prompt, model in report.missing],
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# -- reading the map ------------------------------------------------------------------------


def _prompt_ids(prompts: Sequence[Prompt]) -> dict[str, None]:
    known: dict[str, None] = {}
    for prompt in prompts:
        if prompt.id in known:
            raise VideoImportError(f"prompts: duplicate prompt id {prompt.id!r}")
        known[prompt.id] = None
    return known


def _check_root(root: Path) -> None:
    if not root.is_dir():
        raise VideoImportError(f"{root}: the root is not a directory")


def _read_map_file(mapping: Path) -> list[_Row]:
    suffix = mapping.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise VideoImportError(
            f"{mapping}: unknown map type {suffix or '(no extension)'!r}: expected a .csv, "
            f"a .jsonl or a directory laid out DIR/<model>/<prompt_id>.mp4"
        )
    try:
        data = mapping.read_bytes()
    except OSError as exc:
        raise VideoImportError(f"{mapping}: cannot read: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise VideoImportError(f"{mapping}:{line}: not valid UTF-8 ({exc.reason})") from exc
    return _csv_rows(mapping, text) if suffix == ".csv" else _jsonl_rows(mapping, text)


def _csv_rows(mapping: Path, text: str) -> list[_Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise VideoImportError(f"{mapping}: empty file, expected the header {_HEADER}")
    names = [name.strip() for name in header]
    _check_keys(f"{mapping}:1: header", names)
    rows = []
    for cells in reader:
        where = f"{mapping}:{reader.line_num}"
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) < len(names):
            raise VideoImportError(
                f"{where}: field {names[len(cells)]!r} is missing "
                f"({len(cells)} cells, the header has {len(names)})"
            )
        if len(cells) > len(names):
            raise VideoImportError(
                f"{where}: {len(cells)} cells, the header has {len(names)} ({','.join(names)})"
            )
        rows.append(_row(where, reader.line_num, dict(zip(names, cells, strict=True))))
    return rows


def _jsonl_rows(mapping: Path, text: str) -> list[_Row]:
    rows = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{mapping}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise VideoImportError(
                f"{where}: invalid JSON: {exc.msg} (column {exc.colno})"
            ) from exc
        if not isinstance(data, dict):
            raise VideoImportError(f"{where}: expected a JSON object with keys {_HEADER}")
        _check_keys(where, list(data))
        rows.append(_row(where, number, data))
    return rows


def _check_keys(where: str, names: list[str]) -> None:
    unknown = [name for name in names if name not in REQUIRED + OPTIONAL]
    if unknown:
        raise VideoImportError(
            f"{where}: unknown field(s) {', '.join(map(repr, unknown))} (expected {_HEADER})"
        )
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise VideoImportError(f"{where}: field(s) {', '.join(map(repr, repeated))} repeated")
    absent = [name for name in REQUIRED if name not in names]
    if absent:
        raise VideoImportError(f"{where}: field {absent[0]!r} is missing (expected {_HEADER})")


def _row(where: str, line: int, data: Mapping[str, Any]) -> _Row:
    values: dict[str, str] = {}
    for name in REQUIRED:
        value = data[name]
        if not isinstance(value, str):
            raise VideoImportError(
                f"{where}: field {name!r}: expected a string, got {json.dumps(value)}"
            )
        values[name] = value
    return _Row(line, values["prompt_id"], values["model"], values["path"], _seed(where, data))


def _seed(where: str, data: Mapping[str, Any]) -> int | None:
    seed = data.get("seed")
    if seed is None or seed == "":
        return None
    if isinstance(seed, str) and re.fullmatch(r"-?[0-9]+", seed.strip()):
        return int(seed)
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed
    raise VideoImportError(
        f"{where}: field 'seed': expected an integer or nothing, got {json.dumps(seed)}"
    )


def _read_directory(directory: Path, root: Path) -> tuple[list[_Row], list[BadFile]]:
    """Rows from DIR/<model>/<prompt_id>.<ext>; every other file is a bad entry."""
    rows: list[_Row] = []
    bad: list[BadFile] = []
    layout = f"not in the layout {directory}/<model>/<prompt_id>.mp4 (or {_other_types()})"

    def stray(path: Path) -> None:
        bad.append(BadFile(_relative(path, root), None, None, None, layout, "not_in_layout"))

    for entry in _listing(directory):
        if not entry.is_dir():
            stray(entry)
            continue
        for item in _listing(entry):
            if item.is_dir():
                for below in _files_below(item):
                    stray(below)
            elif item.suffix.lower() in VIDEO_EXTENSIONS and item.stem:
                rows.append(_Row(None, item.stem, entry.name, _relative(item, root)))
            else:
                stray(item)
    return rows, bad


def _listing(directory: Path) -> list[Path]:
    try:
        return sorted(directory.iterdir())
    except OSError as exc:
        raise VideoImportError(f"{directory}: cannot list: {exc.strerror or exc}") from exc


def _files_below(directory: Path) -> list[Path]:
    """Every file under a directory, and links to directories, which are not followed."""
    found: list[Path] = []
    for current, dirnames, filenames in os.walk(directory):
        here = Path(current)
        links = [name for name in dirnames if (here / name).is_symlink()]
        found.extend(here / name for name in filenames + links)
    return sorted(found)


def _other_types() -> str:
    return " ".join(extension for extension in VIDEO_EXTENSIONS if extension != ".mp4")


def _relative(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


# -- checking rows ---------------------------------------------------------------------------


def _id_problem(row: _Row) -> str | None:
    for name, value in (("prompt_id", row.prompt_id), ("model", row.model)):
        if not value:
            return f"{name} is empty"
        if not _ID.fullmatch(value):
            return f"{name} {value!r} is not a valid id (spaces around it or a line break)"
    if "/" in row.model:
        return f"model {row.model!r} contains '/' (video ids are <model>/<prompt_id>)"
    if not row.path:
        return "path is empty"
    if "\0" in row.path:
        return "path contains a NUL character"
    return None


def _split_duplicates(rows: list[_Row]) -> tuple[list[_Row], list[BadFile]]:
    """Rows of pairs named once, and every row of a pair named more than once (all bad)."""
    by_pair: dict[tuple[str, str], list[_Row]] = defaultdict(list)
    for row in rows:
        by_pair[row.prompt_id, row.model].append(row)
    unique, bad = [], []
    for row in rows:
        group = by_pair[row.prompt_id, row.model]
        if len(group) == 1:
            unique.append(row)
            continue
        others = ", ".join(other.where() for other in group if other is not row)
        reason = f"duplicate: prompt {row.prompt_id!r} and model {row.model!r} are also on {others}"
        bad.append(row.bad("duplicate", reason))
    return unique, bad


def _locate(rows: list[_Row], root: Path) -> tuple[list[tuple[_Row, str, Path]], list[BadFile]]:
    """Each row with its clean path relative to the root and the file, or a bad entry."""
    located, bad = [], []
    base, real_base = Path(os.path.abspath(root)), Path(os.path.realpath(root))
    for row in rows:
        clean = _inside(row.path, base, real_base)
        if clean is None:
            bad.append(row.bad("outside_root", f"path escapes the root {root}"))
        else:
            located.append((row, clean, root / clean))
    return located, bad


def _inside(raw: str, base: Path, real_base: Path) -> str | None:
    """The path relative to the root, normalised, or None when it leaves the root.

    ``base`` is the absolute root, ``real_base`` the root with symlinks resolved. Checked
    twice: the written path (``..``, absolute) and the real file (symlinks).
    """
    given = Path(raw)
    candidate = Path(os.path.normpath(given if given.is_absolute() else base / given))
    if candidate.is_relative_to(base):
        clean = candidate.relative_to(base)
    elif candidate.is_relative_to(real_base):  # absolute, written against the real root
        clean = candidate.relative_to(real_base)
    else:
        return None
    if not Path(os.path.realpath(base / clean)).is_relative_to(real_base):
        return None
    return clean.as_posix()


def _split_shared(
    located: list[tuple[_Row, str, Path]],
) -> tuple[list[tuple[_Row, str, Path]], list[BadFile]]:
    """Rows whose file no other row uses, and every row of a file used twice (all bad)."""
    keys: list[tuple[int, int] | None] = []
    for _, _, file in located:
        try:
            info = file.stat()
            keys.append((info.st_dev, info.st_ino))
        except OSError:
            keys.append(None)  # the probe reports it
    users: dict[tuple[int, int], list[_Row]] = defaultdict(list)
    for (row, _, _), key in zip(located, keys, strict=True):
        if key is not None:
            users[key].append(row)
    kept, bad = [], []
    for item, key in zip(located, keys, strict=True):
        row = item[0]
        group = users[key] if key is not None else [row]
        if len(group) == 1:
            kept.append(item)
            continue
        others = ", ".join(
            f"{other.where()} ({other.model}/{other.prompt_id})"
            for other in group
            if other is not row
        )
        bad.append(row.bad("same_file", f"the same file is also mapped on {others}"))
    return kept, bad


def _probe_all(
    files: list[Path], workers: int, progress: Callable[[int, int], None] | None
) -> list[Probe]:
    results: list[Probe] = []

    def done(found: Probe) -> None:
        results.append(found)
        if progress is not None:
            progress(len(results), len(files))

    if workers <= 1:
        for file in files:
            done(probe(file))
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for found in pool.map(probe, files):
                done(found)
    return results


def _video(row: _Row, clean: str, found: Probe) -> Video:
    # a probe that is ok has every figure
    assert found.fps is not None
    assert found.frames is not None
    assert found.width is not None
    assert found.height is not None
    return Video(
        id=f"{row.model}/{row.prompt_id}",
        prompt_id=row.prompt_id,
        model=row.model,
        seed=row.seed,
        path=clean,
        fps=found.fps,
        frames=found.frames,
        width=found.width,
        height=found.height,
        provenance={
            "source": "import",
            "codec": found.codec,
            "container": found.container,
            "duration": found.duration,
            "size_bytes": found.size_bytes,
            "probe": "pyav",
            **({"rotation": found.rotation} if found.rotation else {}),
        },
    )

"""The record types every stage reads and writes, and their JSONL and Parquet IO.

Records are keyed by ids, never by file names. A malformed line or row raises a
``RecordError`` naming the file, the line (JSONL) or row (Parquet, 1-based) and the field;
node and value ids are checked against the taxonomy when one is given, and fields against
the caller's own ``checks`` (e.g. that a video's path is a file the study can serve).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter, ValidationError

from scine.taxonomy import Taxonomy

__all__ = [
    "Control",
    "Difficulty",
    "FieldChecks",
    "Prompt",
    "Question",
    "Rater",
    "Rating",
    "Record",
    "RecordError",
    "Role",
    "Split",
    "Video",
    "file_sha256",
    "read_jsonl",
    "read_parquet",
    "read_records",
    "write_jsonl",
    "write_parquet",
    "write_records",
]

Id = Annotated[str, Field(min_length=1, pattern=r"^\S(.*\S)?$")]
Split = Literal["scripts", "visuals", "custom"]
Role = Literal["screenwriter", "cinematographer", "production_designer", "director"]
Difficulty = Literal["basic", "advanced"]
Rater = Literal["human", "model"]

MAX_PROMPT_CHARS = 4000
MAX_REPORTED_ERRORS = 5


class RecordError(ValueError):
    """A record file is malformed; the message names file, line or row, and field."""


class Record(BaseModel):
    """Base of all records: immutable, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def controls_to_check(self) -> Iterator[tuple[str, str, str | None]]:
        """(field prefix, node id, value) of each pair that must be a valid taxonomy control;
        the fields are named ``<prefix>node`` and ``<prefix>value``."""
        return iter(())


class Control(Record):
    """One taxonomy choice: a leaf control and, optionally, one of its values.

    For a free-form leaf (e.g. the words of on-screen text) ``value`` holds that text.
    """

    node: Id
    value: Id | None = None


class Prompt(Record):
    """A text-to-video prompt and the controls that were injected when it was generated."""

    id: Id
    text: Annotated[str, Field(min_length=1, max_length=MAX_PROMPT_CHARS)]
    split: Split
    role: Role | None = None
    difficulty: Difficulty | None = None
    genre: str | None = None
    controls: tuple[Control, ...] = ()
    parent_id: Id | None = None
    provenance: dict[str, JsonValue] = Field(default_factory=dict)

    def controls_to_check(self) -> Iterator[tuple[str, str, str | None]]:
        for index, control in enumerate(self.controls):
            yield f"controls.{index}.", control.node, control.value


class Question(Record):
    """One question about one control of one prompt, rated 1-5."""

    id: Id
    prompt_id: Id
    node: Id
    value: Id | None = None
    text: Annotated[str, Field(min_length=1)]

    def controls_to_check(self) -> Iterator[tuple[str, str, str | None]]:
        yield "", self.node, self.value


class Video(Record):
    """A video generated (or imported) for a prompt by a model."""

    id: Id
    prompt_id: Id
    model: Id
    seed: int | None = None
    path: Annotated[str, Field(min_length=1)]
    fps: Annotated[float, Field(gt=0)]
    frames: Annotated[int, Field(gt=0)]
    width: Annotated[int, Field(gt=0)]
    height: Annotated[int, Field(gt=0)]
    provenance: dict[str, JsonValue] = Field(default_factory=dict)

    def file(self, root: str | Path) -> Path:
        """Where the video's file is: ``path``, taken relative to ``root`` unless absolute."""
        path = Path(self.path)
        return path if path.is_absolute() else Path(root) / path


class Rating(Record):
    """One score of one video on one question by one rater, human or model."""

    video_id: Id
    question_id: Id
    rater: Id
    rater_kind: Rater
    score: Annotated[float, Field(ge=1, le=5, allow_inf_nan=False)]
    pair_id: Id | None = None
    raw: JsonValue = None
    meta: dict[str, JsonValue] = Field(default_factory=dict)


R = TypeVar("R", bound=Record)


# -- JSONL ----------------------------------------------------------------------------------


def write_jsonl(path: str | Path, records: Iterable[Record]) -> int:
    """Write one JSON object per line (atomically); returns the number written."""
    count = 0

    def write(handle: BinaryIO) -> None:
        nonlocal count
        for record in records:
            handle.write(record.model_dump_json().encode("utf-8") + b"\n")
            count += 1

    _atomic_write(Path(path), write)
    return count


FieldChecks = Mapping[str, Callable[[Any], str | None]]
"""Per field name, a function of the field's value saying what is wrong with it, or None."""


def read_jsonl(
    path: str | Path,
    kind: type[R],
    taxonomy: Taxonomy | None = None,
    *,
    checks: FieldChecks | None = None,
) -> list[R]:
    """Read records of one kind; blank lines are allowed, anything malformed is an error."""
    path = Path(path)
    rows: list[Any] = []
    lines: list[int] = []
    for number, raw in enumerate(_read_bytes(path).split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RecordError(f"{path}:{number}: not valid UTF-8 ({exc.reason})") from exc
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise RecordError(
                f"{path}:{number}: invalid JSON: {exc.msg} (column {exc.colno})"
            ) from exc
        lines.append(number)
    return _validate(rows, kind, taxonomy, checks, lambda index: f"{path}:{lines[index]}")


# -- Parquet --------------------------------------------------------------------------------


def write_parquet(path: str | Path, records: Sequence[R], kind: type[R]) -> int:
    """Write records as a Parquet table: scalar fields as columns, nested ones as JSON text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    json_fields = _json_fields(kind)
    columns: dict[str, list[Any]] = {name: [] for name in kind.model_fields}
    for record in records:
        if not isinstance(record, kind):
            raise TypeError(f"expected {kind.__name__} records, got {type(record).__name__}")
        data = record.model_dump(mode="json")
        for name, column in columns.items():
            value = data[name]
            column.append(json.dumps(value, ensure_ascii=False) if name in json_fields else value)
    schema = pa.schema(
        [(name, _arrow_type(kind, name) or pa.string()) for name in kind.model_fields]
    )
    table = pa.table(columns, schema=schema)
    _atomic_write(Path(path), lambda handle: pq.write_table(table, handle))
    return len(records)


def read_parquet(
    path: str | Path,
    kind: type[R],
    taxonomy: Taxonomy | None = None,
    *,
    checks: FieldChecks | None = None,
) -> list[R]:
    """Read a Parquet table written by ``write_parquet`` (or any table with the same columns)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise RecordError(f"{path}: cannot read Parquet: {exc}") from exc
    columns = set(table.column_names)
    unknown = sorted(columns - set(kind.model_fields))
    if unknown:
        raise RecordError(f"{path}: unknown column(s) for {kind.__name__}: {', '.join(unknown)}")
    required = {name for name, field in kind.model_fields.items() if field.is_required()}
    missing = sorted(required - columns)
    if missing:
        raise RecordError(f"{path}: missing column(s) for {kind.__name__}: {', '.join(missing)}")
    json_fields = _json_fields(kind) & columns
    rows = table.to_pylist()
    for number, row in enumerate(rows, start=1):
        for name in json_fields:
            if isinstance(row[name], str):
                try:
                    row[name] = json.loads(row[name])
                except json.JSONDecodeError as exc:
                    raise RecordError(
                        f"{path}: row {number}: field '{name}': invalid JSON: {exc.msg} "
                        f"(column {exc.colno})"
                    ) from exc
    return _validate(rows, kind, taxonomy, checks, lambda index: f"{path}: row {index + 1}")


# -- either format --------------------------------------------------------------------------


def read_records(
    path: str | Path,
    kind: type[R],
    taxonomy: Taxonomy | None = None,
    *,
    checks: FieldChecks | None = None,
) -> list[R]:
    """Read ``.jsonl`` or ``.parquet`` by the file's suffix; ``checks`` are applied to every
    record read, and the records that fail them are named (file, line or row, field)."""
    if _is_parquet(path):
        return read_parquet(path, kind, taxonomy, checks=checks)
    return read_jsonl(path, kind, taxonomy, checks=checks)


def write_records(path: str | Path, records: Sequence[R], kind: type[R]) -> int:
    """Write ``.jsonl`` or ``.parquet`` by the file's suffix."""
    if _is_parquet(path):
        return write_parquet(path, records, kind)
    return write_jsonl(path, records)


def _is_parquet(path: str | Path) -> bool:
    suffix = Path(path).suffix.lower()
    if suffix not in (".jsonl", ".parquet", ".pq"):
        raise RecordError(f"{path}: unknown record file type {suffix!r} (use .jsonl or .parquet)")
    return suffix != ".jsonl"


# -- helpers --------------------------------------------------------------------------------


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file's bytes, in hex (what identifies a video's content)."""
    with Path(path).open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RecordError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def _validate(
    rows: list[Any],
    kind: type[R],
    taxonomy: Taxonomy | None,
    checks: FieldChecks | None,
    where: Callable[[int], str],
) -> list[R]:
    try:
        records = TypeAdapter(list[kind]).validate_python(rows)  # type: ignore[valid-type]
    except ValidationError as exc:
        raise RecordError(_describe(exc, kind, where)) from None
    _check_unique_ids(records, where)
    if taxonomy is not None:
        _check_controls(records, taxonomy, where)
    if checks:
        _check_fields(records, checks, where)
    return list(records)


def _describe(exc: ValidationError, kind: type[Record], where: Callable[[int], str]) -> str:
    errors = exc.errors(include_url=False)
    messages = []
    for error in errors[:MAX_REPORTED_ERRORS]:
        index, *field_path = error["loc"]
        field = ".".join(str(part) for part in field_path) or "(record)"
        got = "" if error["type"] == "missing" else f" (got {error['input']!r:.80})"
        messages.append(
            f"{where(int(index))}: {kind.__name__} field '{field}': {error['msg']}{got}"
        )
    if len(errors) > MAX_REPORTED_ERRORS:
        messages.append(f"... and {len(errors) - MAX_REPORTED_ERRORS} more errors")
    return "\n".join(messages)


def _check_unique_ids(records: Sequence[Record], where: Callable[[int], str]) -> None:
    if not records or "id" not in type(records[0]).model_fields:
        return
    first_seen: dict[str, int] = {}
    for index, record in enumerate(records):
        record_id = record.id  # type: ignore[attr-defined]
        if record_id in first_seen:
            raise RecordError(
                f"{where(index)}: field 'id': duplicate id {record_id!r} "
                f"(first at {where(first_seen[record_id])})"
            )
        first_seen[record_id] = index


def _check_controls(
    records: Sequence[Record], taxonomy: Taxonomy, where: Callable[[int], str]
) -> None:
    for index, record in enumerate(records):
        for prefix, node, value in record.controls_to_check():
            try:
                leaf = taxonomy.leaf(node)
            except KeyError as exc:
                raise RecordError(f"{where(index)}: field '{prefix}node': {exc.args[0]}") from None
            try:
                leaf.check(value)
            except KeyError as exc:
                raise RecordError(f"{where(index)}: field '{prefix}value': {exc.args[0]}") from None


def _check_fields(
    records: Sequence[Record], checks: FieldChecks, where: Callable[[int], str]
) -> None:
    """Every record's fields through ``checks``; the first problems found are named."""
    problems = [
        f"{where(index)}: {type(record).__name__} field '{field}': {problem}"
        for index, record in enumerate(records)
        for field, check in checks.items()
        if (problem := check(getattr(record, field))) is not None
    ]
    if problems:
        shown = problems[:MAX_REPORTED_ERRORS]
        if len(problems) > MAX_REPORTED_ERRORS:
            shown.append(f"... and {len(problems) - MAX_REPORTED_ERRORS} more errors")
        raise RecordError("\n".join(shown))


def _atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write to a temporary file beside ``path`` and rename it: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.chmod(tmp, 0o666 & ~_umask())  # what a plain open() would have given
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _json_fields(kind: type[Record]) -> set[str]:
    return {name for name in kind.model_fields if _arrow_type(kind, name) is None}


def _unwrap(annotation: Any) -> Any:
    return get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation


def _arrow_type(kind: type[Record], name: str) -> Any:
    """The Arrow type of a scalar field, or ``None`` for a field stored as JSON text."""
    import pyarrow as pa

    annotation = _unwrap(kind.model_fields[name].annotation)
    if get_origin(annotation) in (Union, types.UnionType):
        members = [_unwrap(arg) for arg in get_args(annotation) if arg is not type(None)]
        annotation = members[0] if len(members) == 1 else None
    if get_origin(annotation) is Literal:
        return pa.string()
    scalar = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
    return scalar.get(annotation) if isinstance(annotation, type) else None

"""Read prompts from anyone's files: text (one per line), prompt JSONL, CSV or JSON.

Bad input is an error naming the file and line (or row): empty, duplicate, non-UTF-8 and
over-long prompts, unknown taxonomy ids. With ``skip_invalid`` such prompts are skipped and
counted by reason instead; nothing is dropped without being counted.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scine.records import MAX_PROMPT_CHARS, Prompt, RecordError, read_jsonl
from scine.taxonomy import Taxonomy

TEXT_FIELDS = ("prompt", "text", "prompt_en", "caption")


class PromptFileError(ValueError):
    """A prompt file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class PromptText:
    """One prompt read from a file, with where it came from."""

    id: str
    text: str
    line: int


@dataclass
class PromptFile:
    """The prompts of one file and the count of skipped ones, by reason."""

    path: Path
    prompts: list[PromptText]
    skipped: Counter[str] = field(default_factory=Counter)


def read_prompt_file(
    path: str | Path, taxonomy: Taxonomy | None = None, skip_invalid: bool = False
) -> PromptFile:
    """Read prompts by the file's suffix: .txt, .jsonl (Prompt records), .csv or .json.

    A file holding no prompt at all (nothing skipped either) is an error.
    """
    path = Path(path)
    result = _read_by_suffix(path, taxonomy, skip_invalid)
    if not result.prompts and not result.skipped:
        raise PromptFileError(f"{path}: no prompts in the file")
    return result


def _read_by_suffix(path: Path, taxonomy: Taxonomy | None, skip_invalid: bool) -> PromptFile:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _from_records(path, taxonomy, skip_invalid)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PromptFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if suffix == ".txt":
        rows = [(number, raw) for number, raw in enumerate(data.split(b"\n"), start=1)]
        if rows and not rows[-1][1].strip():
            rows.pop()  # the final newline ends the last line; it is not an empty prompt
        return _checked(path, [(n, f"line-{n}", raw) for n, raw in rows], skip_invalid)
    text = _decode(path, data)
    if suffix == ".csv":
        return _checked(path, _csv_rows(path, text), skip_invalid)
    if suffix == ".json":
        return _checked(path, _json_rows(path, text), skip_invalid)
    raise PromptFileError(
        f"{path}: unknown prompt file type {suffix!r} (.txt, .jsonl, .csv, .json)"
    )


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PromptFileError(f"{path}:{line}: not valid UTF-8 ({exc.reason})") from exc


def _csv_rows(path: Path, text: str) -> list[tuple[int, str, bytes]]:
    reader = csv.DictReader(io.StringIO(text))
    column = next((name for name in TEXT_FIELDS if name in (reader.fieldnames or [])), None)
    if column is None:
        raise PromptFileError(f"{path}:1: no prompt column (one of {', '.join(TEXT_FIELDS)})")
    return [
        (reader.line_num, f"row-{index}", (row[column] or "").encode("utf-8"))
        for index, row in enumerate(reader, start=1)
    ]


def _json_rows(path: Path, text: str) -> list[tuple[int, str, bytes]]:
    try:
        items: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PromptFileError(
            f"{path}:{exc.lineno}: invalid JSON: {exc.msg} (column {exc.colno})"
        ) from exc
    if not isinstance(items, list):
        raise PromptFileError(f"{path}: expected a JSON list of prompts")
    rows = []
    for index, item in enumerate(items, start=1):
        value = item
        if isinstance(item, dict):
            value = next((item[name] for name in TEXT_FIELDS if name in item), None)
        if not isinstance(value, str):
            raise PromptFileError(
                f"{path}: item {index}: expected a string or an object with one of "
                f"{', '.join(TEXT_FIELDS)}"
            )
        rows.append((index, f"item-{index}", value.encode("utf-8")))
    return rows


def _checked(path: Path, rows: list[tuple[int, str, bytes]], skip_invalid: bool) -> PromptFile:
    result = PromptFile(path, [])
    first_line: dict[str, int] = {}
    for line, prompt_id, raw in rows:
        problem, text = _problem(raw, first_line)
        if problem is None:
            first_line[text] = line
            result.prompts.append(PromptText(prompt_id, text, line))
        elif skip_invalid:
            result.skipped[problem.split(" (", 1)[0]] += 1
        else:
            raise PromptFileError(f"{path}:{line}: {problem}")
    return result


def _problem(raw: bytes, first_line: dict[str, int]) -> tuple[str | None, str]:
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8 ({exc.reason})", ""
    if not text:
        return "empty prompt", text
    if len(text) > MAX_PROMPT_CHARS:
        return f"prompt over {MAX_PROMPT_CHARS} characters ({len(text)})", text
    if text in first_line:
        return f"duplicate prompt (first at line {first_line[text]})", text
    return None, text


def _from_records(path: Path, taxonomy: Taxonomy | None, skip_invalid: bool) -> PromptFile:
    try:
        records = read_jsonl(path, Prompt, taxonomy)
    except RecordError as exc:
        raise PromptFileError(str(exc)) from None
    rows = [
        (index, record.id, record.text.encode("utf-8")) for index, record in enumerate(records, 1)
    ]
    return _checked(path, rows, skip_invalid)

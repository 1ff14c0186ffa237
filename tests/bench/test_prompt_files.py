"""Reading anyone's prompt files: every bad prompt is an error naming file and line, or a
counted skip under ``skip_invalid``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scine.bench.prompt_files import PromptFileError, read_prompt_file
from scine.records import Prompt, write_jsonl
from scine.taxonomy import load_taxonomy


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def test_text_file(tmp_path: Path) -> None:
    read = read_prompt_file(write(tmp_path, "p.txt", "A dog runs.\nA cat sleeps.\n"))
    assert [(p.id, p.text, p.line) for p in read.prompts] == [
        ("line-1", "A dog runs.", 1),
        ("line-2", "A cat sleeps.", 2),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("A dog runs.\n\nA cat sleeps.\n", r"p\.txt:2: empty prompt"),
        ("A dog runs.\nA dog runs.\n", r"p\.txt:2: duplicate prompt \(first at line 1\)"),
        (b"A dog runs.\nA \xff cat.\n", r"p\.txt:2: not valid UTF-8"),
        ("A dog runs.\n" + "x" * 4001 + "\n", r"p\.txt:2: prompt over 4000 characters \(4001\)"),
    ],
)
def test_bad_text_prompts_name_the_line(tmp_path: Path, data: str | bytes, message: str) -> None:
    with pytest.raises(PromptFileError, match=message):
        read_prompt_file(write(tmp_path, "p.txt", data))


def test_skip_invalid_counts_every_skip(tmp_path: Path) -> None:
    data = b"A dog runs.\n\nA dog runs.\nA \xff cat.\n" + b"y" * 4001 + b"\nA cat sleeps.\n"
    read = read_prompt_file(write(tmp_path, "p.txt", data), skip_invalid=True)
    assert [p.text for p in read.prompts] == ["A dog runs.", "A cat sleeps."]
    assert dict(read.skipped) == {
        "empty prompt": 1,
        "duplicate prompt": 1,
        "not valid UTF-8": 1,
        "prompt over 4000 characters": 1,
    }


def test_csv_and_json(tmp_path: Path) -> None:
    csv_file = write(tmp_path, "p.csv", 'prompt,concept\n"A dog, running.",x\nA cat.,y\n')
    assert [p.text for p in read_prompt_file(csv_file).prompts] == ["A dog, running.", "A cat."]
    json_file = write(tmp_path, "p.json", json.dumps([{"prompt_en": "A dog."}, "A cat."]))
    assert [p.text for p in read_prompt_file(json_file).prompts] == ["A dog.", "A cat."]


def test_csv_without_a_prompt_column(tmp_path: Path) -> None:
    with pytest.raises(PromptFileError, match=r"p\.csv:1: no prompt column"):
        read_prompt_file(write(tmp_path, "p.csv", "title,notes\na,b\n"))


def test_json_with_bad_items(tmp_path: Path) -> None:
    with pytest.raises(PromptFileError, match=r"p\.json: item 2: expected a string"):
        read_prompt_file(write(tmp_path, "p.json", json.dumps(["A dog.", {"id": 3}])))


def test_prompt_records_are_checked_against_the_taxonomy(tmp_path: Path) -> None:
    good = Prompt(id="p1", text="A dog runs.", split="custom")
    path = tmp_path / "p.jsonl"
    write_jsonl(path, [good])
    assert [p.id for p in read_prompt_file(path, load_taxonomy()).prompts] == ["p1"]
    bad = good.model_dump(mode="json") | {"id": "p2", "controls": [{"node": "camera.nowhere"}]}
    path.write_text(good.model_dump_json() + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(PromptFileError, match=r"p\.jsonl:2: field 'controls\.0\.node'"):
        read_prompt_file(path, load_taxonomy())


@pytest.mark.parametrize(("name", "data"), [("p.txt", ""), ("p.jsonl", ""), ("p.json", "[]")])
def test_a_file_without_prompts_is_an_error(tmp_path: Path, name: str, data: str) -> None:
    with pytest.raises(PromptFileError, match=rf"{name}: no prompts in the file"):
        read_prompt_file(write(tmp_path, name, data))


def test_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(PromptFileError, match=r"unknown prompt file type '\.md'"):
        read_prompt_file(write(tmp_path, "p.md", "A dog."))

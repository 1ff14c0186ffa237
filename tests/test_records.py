"""Records and their JSONL / Parquet IO: round trips and errors naming file, line and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scine.records import (
    Control,
    Prompt,
    Question,
    Rating,
    Record,
    RecordError,
    Video,
    read_jsonl,
    read_parquet,
    read_records,
    write_jsonl,
    write_parquet,
    write_records,
)
from scine.taxonomy import Taxonomy

from .taxonomy.tiny import tiny_document, write_document


@pytest.fixture
def tiny(tmp_path: Path) -> Taxonomy:
    return Taxonomy.from_file(write_document(tmp_path / "t.yaml", tiny_document()))


PROMPT = Prompt(
    id="p1",
    text="A detective in a rain-soaked alley, filmed from a Dutch angle. Sign: “OPEN”.",
    split="visuals",
    role="cinematographer",
    difficulty="basic",
    genre="noir",
    controls=(
        Control(node="camera.extrinsics.angle", value="dutch"),
        Control(node="setup.sign", value="OPEN"),
    ),
    parent_id="s1",
    provenance={"backend": "offline", "seed": 3},
)
QUESTION = Question(
    id="q1",
    prompt_id="p1",
    node="camera.extrinsics.angle",
    value="dutch",
    text="Is the shot filmed from a Dutch angle?",
)
VIDEO = Video(
    id="v1",
    prompt_id="p1",
    model="wan-1.3b",
    seed=42,
    path="videos/wan-1.3b/p1.mp4",
    fps=16.0,
    frames=81,
    width=832,
    height=480,
    provenance={"revision": "abc"},
)
RATINGS = [
    Rating(
        video_id="v1",
        question_id="q1",
        rater="ann-07",
        rater_kind="human",
        score=4,
        pair_id="pair-1",
        meta={"side": "left"},
    ),
    Rating(
        video_id="v1",
        question_id="q1",
        rater="probe",
        rater_kind="model",
        score=2.75,
        raw={"roll_degrees": 14.2, "frames": [0, 12]},
    ),
]
SAMPLES: list[tuple[type[Record], list[Any]]] = [
    (Prompt, [PROMPT]),
    (Question, [QUESTION]),
    (Video, [VIDEO]),
    (Rating, RATINGS),
]


@pytest.mark.parametrize(("kind", "records"), SAMPLES)
@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_round_trip(
    tmp_path: Path, tiny: Taxonomy, kind: type[Record], records: list[Any], suffix: str
) -> None:
    path = tmp_path / f"records{suffix}"
    assert write_records(path, records, kind) == len(records)
    assert read_records(path, kind, tiny) == records


def test_parquet_keeps_scalars_as_columns(tmp_path: Path) -> None:
    path = tmp_path / "ratings.parquet"
    write_parquet(path, RATINGS, Rating)
    schema = pq.read_schema(path)
    assert schema.field("score").type == pa.float64()
    assert schema.field("rater_kind").type == pa.string()
    assert json.loads(pq.read_table(path).column("raw")[1].as_py()) == RATINGS[1].raw


def test_empty_files_round_trip(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "none.jsonl", [])
    write_parquet(tmp_path / "none.parquet", [], Rating)
    assert read_jsonl(tmp_path / "none.jsonl", Rating) == []
    assert read_parquet(tmp_path / "none.parquet", Rating) == []


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def good_line(record: Record, **changes: Any) -> str:
    data = record.model_dump(mode="json")
    data.update(changes)
    return json.dumps(data)


def test_blank_lines_are_allowed(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "q.jsonl", good_line(QUESTION), "", "   ")
    assert read_jsonl(path, Question) == [QUESTION]


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "q.jsonl", good_line(QUESTION), '{"id": "q2", ')
    with pytest.raises(RecordError, match=rf"^{path}:2: invalid JSON: .* \(column \d+\)"):
        read_jsonl(path, Question)


def test_truncated_file_without_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(good_line(QUESTION) + "\n" + good_line(QUESTION, id="q2")[:30])
    with pytest.raises(RecordError, match=rf"^{path}:2: invalid JSON"):
        read_jsonl(path, Question)


def test_missing_field_names_line_and_field(tmp_path: Path) -> None:
    line = json.loads(good_line(QUESTION, id="q2"))
    del line["text"]
    path = write_lines(tmp_path / "q.jsonl", good_line(QUESTION), json.dumps(line))
    with pytest.raises(RecordError, match=rf"^{path}:2: Question field 'text': Field required"):
        read_jsonl(path, Question)


def test_nested_field_error_names_the_path(tmp_path: Path) -> None:
    bad = good_line(PROMPT, controls=[{"node": "camera.extrinsics.angle", "valu": "dutch"}])
    path = write_lines(tmp_path / "p.jsonl", bad)
    with pytest.raises(RecordError, match=rf"^{path}:1: Prompt field 'controls\.0\.valu'"):
        read_jsonl(path, Prompt)


def test_several_errors_are_listed(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "r.jsonl", *(good_line(RATINGS[0], score=score) for score in (0, 7, 3, 9))
    )
    with pytest.raises(RecordError) as caught:
        read_jsonl(path, Rating)
    message = str(caught.value)
    assert f"{path}:1: Rating field 'score'" in message
    assert f"{path}:2: Rating field 'score'" in message
    assert f"{path}:4: Rating field 'score'" in message
    assert f"{path}:3:" not in message


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"score": 5.5}, "score"),
        ({"score": float("nan")}, "score"),
        ({"rater_kind": "crowd"}, "rater_kind"),
        ({"video_id": ""}, "video_id"),
        ({"rater": " ann "}, "rater"),
    ],
)
def test_rating_constraints(tmp_path: Path, changes: dict[str, Any], field: str) -> None:
    path = write_lines(tmp_path / "r.jsonl", good_line(RATINGS[0], **changes))
    with pytest.raises(RecordError, match=rf"^{path}:1: Rating field '{field}'"):
        read_jsonl(path, Rating)


def test_overlong_prompt_is_rejected(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "p.jsonl", good_line(PROMPT, text="x" * 4001))
    with pytest.raises(RecordError, match=r":1: Prompt field 'text': String should have at most"):
        read_jsonl(path, Prompt)


def test_duplicate_ids_name_both_lines(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "q.jsonl", good_line(QUESTION), good_line(QUESTION, id="q2"), good_line(QUESTION)
    )
    with pytest.raises(RecordError, match=rf"^{path}:3: field 'id': duplicate id 'q1' \(first at"):
        read_jsonl(path, Question)


def test_unknown_node_is_rejected_against_the_taxonomy(tmp_path: Path, tiny: Taxonomy) -> None:
    bad = good_line(PROMPT, controls=[{"node": "camera.extrinsics.angel", "value": "dutch"}])
    path = write_lines(tmp_path / "p.jsonl", good_line(PROMPT, id="p0"), bad)
    assert len(read_jsonl(path, Prompt)) == 2  # without a taxonomy, ids are not checked
    with pytest.raises(
        RecordError, match=rf"^{path}:2: field 'controls\.0\.node': unknown taxonomy"
    ):
        read_jsonl(path, Prompt, tiny)


def test_unknown_value_is_rejected_against_the_taxonomy(tmp_path: Path, tiny: Taxonomy) -> None:
    path = write_lines(tmp_path / "q.jsonl", good_line(QUESTION, value="sideways"))
    with pytest.raises(RecordError, match=rf"^{path}:1: field 'value': .*valid values: low, dutch"):
        read_jsonl(path, Question, tiny)


def test_group_is_not_a_control(tmp_path: Path, tiny: Taxonomy) -> None:
    path = write_lines(tmp_path / "q.jsonl", good_line(QUESTION, node="camera.extrinsics"))
    with pytest.raises(RecordError, match="is a group, not a leaf"):
        read_jsonl(path, Question, tiny)


@pytest.mark.parametrize(("suffix", "where"), [(".jsonl", ":{line}"), (".parquet", ": row {line}")])
def test_field_checks_name_every_record_that_fails_them(
    tmp_path: Path, suffix: str, where: str
) -> None:
    path = tmp_path / f"v{suffix}"
    videos = [VIDEO.model_copy(update={"id": f"v{n}", "path": f"{n}.mp4"}) for n in range(8)]
    write_records(path, videos, Video)

    def odd(file: str) -> str | None:
        return "odd" if int(file[0]) % 2 else None

    assert read_records(path, Video, checks={"path": lambda _: None}) == videos
    with pytest.raises(RecordError) as caught:
        read_records(path, Video, checks={"path": odd})
    lines = str(caught.value).splitlines()
    assert lines == [f"{path}{where.format(line=n)}: Video field 'path': odd" for n in (2, 4, 6, 8)]
    with pytest.raises(RecordError) as caught:
        read_records(path, Video, checks={"path": lambda _: "no"})
    assert str(caught.value).splitlines()[-1] == "... and 3 more errors"  # 5 named of 8


def test_non_utf8_line(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_bytes(good_line(QUESTION).encode() + b"\n" + b'{"id": "\xff"}\n')
    with pytest.raises(RecordError, match=rf"^{path}:2: not valid UTF-8"):
        read_jsonl(path, Question)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="cannot read"):
        read_jsonl(tmp_path / "absent.jsonl", Question)


def test_parquet_bad_row_names_the_row(tmp_path: Path) -> None:
    rows = [r.model_dump(mode="json") for r in RATINGS]
    rows[1]["score"] = 9.0
    for row in rows:
        row["raw"] = json.dumps(row["raw"])
        row["meta"] = json.dumps(row["meta"])
    path = tmp_path / "r.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    with pytest.raises(RecordError, match=rf"^{path}: row 2: Rating field 'score'"):
        read_parquet(path, Rating)


def test_parquet_unknown_and_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    pq.write_table(pa.table({"video_id": ["v1"], "grade": [3]}), path)
    with pytest.raises(RecordError, match=r"unknown column.*grade"):
        read_parquet(path, Rating)
    pq.write_table(pa.table({"video_id": ["v1"]}), path)
    with pytest.raises(RecordError, match=r"missing column.*question_id, rater, rater_kind, score"):
        read_parquet(path, Rating)


def test_parquet_bad_json_cell(tmp_path: Path) -> None:
    table = pa.table(
        {
            "video_id": ["v1"],
            "question_id": ["q1"],
            "rater": ["a"],
            "rater_kind": ["human"],
            "score": [3.0],
            "raw": ["{not json"],
        }
    )
    path = tmp_path / "r.parquet"
    pq.write_table(table, path)
    with pytest.raises(RecordError, match=rf"^{path}: row 1: field 'raw': invalid JSON"):
        read_parquet(path, Rating)


def test_not_parquet(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    path.write_text("hello")
    with pytest.raises(RecordError, match="cannot read Parquet"):
        read_parquet(path, Rating)


def test_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match=r"unknown record file type '\.csv'"):
        read_records(tmp_path / "r.csv", Rating)
    with pytest.raises(RecordError, match="unknown record file type"):
        write_records(tmp_path / "r.txt", RATINGS, Rating)


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    write_jsonl(path, [QUESTION])

    def broken() -> Any:
        yield QUESTION
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_jsonl(path, broken())
    assert read_jsonl(path, Question) == [QUESTION]
    assert [p.name for p in tmp_path.iterdir()] == ["q.jsonl"]
    assert path.stat().st_mode & 0o777 == 0o666 & ~_current_umask()


def _current_umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask

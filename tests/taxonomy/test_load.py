"""Loading a taxonomy data file: every defect is an error naming file, line and field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scine.taxonomy import Taxonomy, TaxonomyError

from .tiny import angle_leaf, tiny_document, write_document


def load(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Taxonomy:
    document = tiny_document()
    edit(document)
    return Taxonomy.from_file(write_document(tmp_path / "taxonomy.yaml", document))


def test_tiny_document_loads_with_dotted_ids(tmp_path: Path) -> None:
    taxonomy = load(tmp_path, lambda doc: None)
    assert [leaf.id for leaf in taxonomy.leaves()] == [
        "camera.extrinsics.angle",
        "camera.extrinsics.speed",
        "setup.sign",
    ]
    assert taxonomy.leaf("camera.extrinsics.speed").dependent_on == "camera.extrinsics.angle"
    assert taxonomy.leaf("setup.sign").free_form


def test_json_data_file_loads(tmp_path: Path) -> None:
    import json

    path = tmp_path / "taxonomy.json"
    path.write_text(json.dumps(tiny_document()), encoding="utf-8")
    assert len(Taxonomy.from_file(path).leaves()) == 3


def expect_error(tmp_path: Path, edit: Callable[[dict[str, Any]], None], *needles: str) -> str:
    with pytest.raises(TaxonomyError) as caught:
        load(tmp_path, edit)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'taxonomy.yaml'}:"), message
    for needle in needles:
        assert needle in message, message
    return message


def line_of(message: str) -> int:
    return int(message.split(":")[1])


def test_missing_definition_names_line_node_and_field(tmp_path: Path) -> None:
    message = expect_error(
        tmp_path,
        lambda doc: angle_leaf(doc).pop("definition"),
        "camera.extrinsics.angle",
        "'definition'",
    )
    text = (tmp_path / "taxonomy.yaml").read_text().splitlines()
    assert "id: angle" in text[line_of(message) - 1]


def test_value_field_error_names_the_value(tmp_path: Path) -> None:
    expect_error(
        tmp_path,
        lambda doc: angle_leaf(doc)["values"][1].pop("name"),
        "camera.extrinsics.angle.dutch",
        "'name'",
    )


def test_unknown_field_is_rejected(tmp_path: Path) -> None:
    expect_error(
        tmp_path, lambda doc: angle_leaf(doc).update(colour="red"), "'colour'", "Extra inputs"
    )


def test_duplicate_node_id(tmp_path: Path) -> None:
    def duplicate(doc: dict[str, Any]) -> None:
        leaves = doc["axes"][0]["children"][0]["children"]
        leaves.append(dict(leaves[0]))

    expect_error(tmp_path, duplicate, "camera.extrinsics.angle", "duplicate id")


def test_duplicate_value_id(tmp_path: Path) -> None:
    def duplicate(doc: dict[str, Any]) -> None:
        values = angle_leaf(doc)["values"]
        values.append(dict(values[0]))

    expect_error(tmp_path, duplicate, "duplicate value id 'low'")


def test_bad_local_id(tmp_path: Path) -> None:
    expect_error(tmp_path, lambda doc: angle_leaf(doc).update(id="Camera Angle"), "snake_case")


def test_dangling_dependency(tmp_path: Path) -> None:
    def dangle(doc: dict[str, Any]) -> None:
        doc["axes"][0]["children"][0]["children"][1]["dependent_on"] = "camera.nowhere"

    expect_error(tmp_path, dangle, "camera.extrinsics.speed", "'camera.nowhere' is not a node")


def test_dependency_on_a_group(tmp_path: Path) -> None:
    def on_group(doc: dict[str, Any]) -> None:
        doc["axes"][0]["children"][0]["children"][1]["dependent_on"] = "camera.extrinsics"

    expect_error(tmp_path, on_group, "a group, not a leaf")


def test_leaf_with_one_value(tmp_path: Path) -> None:
    expect_error(
        tmp_path, lambda doc: angle_leaf(doc)["values"].pop(), "at least 2 values or 'free_form"
    )


def test_template_without_slot(tmp_path: Path) -> None:
    expect_error(
        tmp_path,
        lambda doc: angle_leaf(doc)["question"].update(value="Is the angle right?"),
        "{value} exactly once",
    )


def test_template_with_stray_brace(tmp_path: Path) -> None:
    expect_error(
        tmp_path,
        lambda doc: angle_leaf(doc)["question"].update(value="Is {value} the {angle}?"),
        "stray brace",
    )


def test_template_must_be_a_question(tmp_path: Path) -> None:
    expect_error(
        tmp_path,
        lambda doc: angle_leaf(doc)["question"].update(unspecified="Rate the angle."),
        "must end with '?'",
    )


def test_free_form_leaf_with_values(tmp_path: Path) -> None:
    def add_values(doc: dict[str, Any]) -> None:
        doc["axes"][1]["children"][0]["values"] = angle_leaf(doc)["values"]

    expect_error(tmp_path, add_values, "setup.sign", "free-form leaf lists no values")


def test_bad_provenance(tmp_path: Path) -> None:
    expect_error(tmp_path, lambda doc: angle_leaf(doc).update(provenance="folklore"), "provenance")


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_text("axes:\n  - id: camera\n    name: [unclosed\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"taxonomy\.yaml:\d+: invalid YAML"):
        Taxonomy.from_file(path)


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_bytes(b"axes: \xff\xfe\n")
    with pytest.raises(TaxonomyError, match="cannot read taxonomy file"):
        Taxonomy.from_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="cannot read taxonomy file"):
        Taxonomy.from_file(tmp_path / "absent.yaml")


def test_document_without_axes(tmp_path: Path) -> None:
    path = write_document(tmp_path / "taxonomy.yaml", {"name": "x"})
    with pytest.raises(TaxonomyError, match="'axes' must be a list"):
        Taxonomy.from_file(path)

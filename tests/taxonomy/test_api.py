"""The typed taxonomy API on a tiny taxonomy: lookup, navigation, questions, version."""

from __future__ import annotations

from pathlib import Path

import pytest

from scine.taxonomy import Axis, Group, Taxonomy, UnknownNodeError, in_axis_order

from .tiny import angle_leaf, tiny_document, write_document


@pytest.fixture
def tiny(tmp_path: Path) -> Taxonomy:
    return Taxonomy.from_file(write_document(tmp_path / "t.yaml", tiny_document()))


def test_node_kinds_and_navigation(tiny: Taxonomy) -> None:
    assert isinstance(tiny.node("camera"), Axis)
    assert isinstance(tiny.node("camera.extrinsics"), Group)
    assert [n.id for n in tiny.ancestors("camera.extrinsics.angle")] == [
        "camera",
        "camera.extrinsics",
    ]
    assert tiny.path("camera.extrinsics.angle") == ["Camera", "Extrinsics", "Angle"]
    assert [c.id for c in tiny.children("camera.extrinsics")] == [
        "camera.extrinsics.angle",
        "camera.extrinsics.speed",
    ]
    assert tiny.children("camera.extrinsics.angle") == ()
    assert tiny.parent("camera") is None
    assert tiny.axis_of("camera.extrinsics.speed").id == "camera"
    assert [leaf.id for leaf in tiny.leaves(axis="setup")] == ["setup.sign"]
    assert [leaf.id for leaf in tiny.leaves(under="camera.extrinsics")] == [
        "camera.extrinsics.angle",
        "camera.extrinsics.speed",
    ]
    assert [leaf.id for leaf in tiny.dependents("camera.extrinsics.angle")] == [
        "camera.extrinsics.speed"
    ]
    assert tiny.depth("camera.extrinsics.angle") == 2


def test_unknown_ids_suggest_close_ones(tiny: Taxonomy) -> None:
    with pytest.raises(UnknownNodeError, match=r"did you mean camera\.extrinsics\.angle"):
        tiny.node("camera.extrinsics.angel")
    with pytest.raises(UnknownNodeError, match="is a group, not a leaf"):
        tiny.leaf("camera.extrinsics")
    with pytest.raises(UnknownNodeError, match="not an axis"):
        tiny.axis("camera.extrinsics")
    with pytest.raises(UnknownNodeError):
        tiny.leaves(axis="sound")


def test_values_and_control_checks(tiny: Taxonomy) -> None:
    assert tiny.value("camera.extrinsics.angle", "dutch").name == "Dutch"
    with pytest.raises(KeyError, match="valid values: low, dutch"):
        tiny.value("camera.extrinsics.angle", "high")
    tiny.check_control("camera.extrinsics.angle", "low")
    tiny.check_control("camera.extrinsics.angle", None)
    tiny.check_control("setup.sign", "OPEN 24 HOURS")
    with pytest.raises(KeyError, match="free-form"):
        tiny.check_control("setup.sign", "  ")
    with pytest.raises(KeyError, match="valid values"):
        tiny.check_control("camera.extrinsics.angle", "high")
    with pytest.raises(UnknownNodeError):
        tiny.check_control("camera.extrinsics", None)


def test_questions_render_value_phrase_or_free_text(tiny: Taxonomy) -> None:
    angle = tiny.leaf("camera.extrinsics.angle")
    assert angle.render_question("dutch") == "Is the shot filmed from a Dutch angle?"
    assert angle.render_question(None) == "Is the shot filmed from the described angle?"
    speed = tiny.leaf("camera.extrinsics.speed")
    assert speed.render_question("quickly") == "Does the angle change quickly?"
    sign = tiny.leaf("setup.sign")
    assert sign.render_question("OPEN") == 'Does the sign read "OPEN"?'


def test_lookup_is_exact_and_case_insensitive(tiny: Taxonomy) -> None:
    by_synonym = tiny.lookup("CANTED  angle")
    assert [(m.node, m.value, m.field) for m in by_synonym] == [
        ("camera.extrinsics.angle", "dutch", "value_synonym")
    ]
    assert [m.node for m in tiny.lookup("Extrinsics")] == ["camera.extrinsics"]
    assert [m.node for m in tiny.lookup("camera.extrinsics.angle")] == ["camera.extrinsics.angle"]
    assert tiny.lookup("angle of the camera") == []


def test_find_ranks_exact_then_contained_then_typos(tiny: Taxonomy) -> None:
    exact = tiny.find("low-angle shot")
    assert (exact[0].node, exact[0].value, exact[0].score) == (
        "camera.extrinsics.angle",
        "low",
        1.0,
    )
    contained = tiny.find("a dramatic canted angle of the hero")
    assert (contained[0].node, contained[0].value) == ("camera.extrinsics.angle", "dutch")
    assert 0.5 < contained[0].score < 1.0
    typo = tiny.find("cantd angle")
    assert (typo[0].node, typo[0].value) == ("camera.extrinsics.angle", "dutch")
    assert tiny.find("") == []
    assert tiny.find("zzzz qqqq") == []
    assert all(m.node != "camera.extrinsics" for m in tiny.find("extrinsics"))


def test_find_lists_each_target_once_best_first(tiny: Taxonomy) -> None:
    matches = tiny.find("angle")
    targets = [(m.node, m.value) for m in matches]
    assert len(targets) == len(set(targets))
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)
    assert targets[0] == ("camera.extrinsics.angle", None)


def test_version_is_a_content_hash(tmp_path: Path) -> None:
    document = tiny_document()
    first = Taxonomy.from_file(write_document(tmp_path / "a.yaml", document))
    again = Taxonomy.from_file(write_document(tmp_path / "b.yaml", document))
    angle_leaf(document)["values"][0]["definition"] = "Looks up at the subject."
    edited = Taxonomy.from_file(write_document(tmp_path / "c.yaml", document))
    assert first.version == again.version
    assert first.version != edited.version
    assert len(first.version) == 16
    assert first.to_dict()["version"] == first.version


def test_axes_are_put_in_the_papers_order_and_other_names_after() -> None:
    assert in_axis_order(["camera", "x", "setup", "events", "camera"]) == [
        "setup",
        "events",
        "camera",
        "x",
    ]

"""Invariants of the packaged SCINE taxonomy data file."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from scine.taxonomy import Leaf, load_taxonomy, normalize

TAXONOMY = load_taxonomy()
LEAVES = TAXONOMY.leaves()


def test_exactly_76_leaves_on_the_four_axes() -> None:
    assert [axis.id for axis in TAXONOMY.axes] == ["setup", "events", "lighting", "camera"]
    assert len(LEAVES) == 76
    assert all(TAXONOMY.axis_of(leaf.id).id == leaf.axis for leaf in LEAVES)


def test_ids_are_unique_and_dotted_paths() -> None:
    ids = [leaf.id for leaf in LEAVES] + [group.id for group in TAXONOMY.groups()]
    assert len(ids) == len(set(ids))
    for leaf in LEAVES:
        parent = TAXONOMY.parent(leaf.id)
        assert parent is not None
        assert leaf.id.rsplit(".", 1)[0] == parent.id
        assert re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", leaf.id)


@pytest.mark.parametrize("leaf", LEAVES, ids=lambda leaf: leaf.id)
def test_every_leaf_is_complete(leaf: Leaf) -> None:
    assert leaf.free_form or len(leaf.values) >= 2
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", leaf.definition.strip()) if s]
    assert 2 <= len(sentences) <= 4, leaf.definition
    assert leaf.synonyms, "a leaf lists the synonyms people use in prompts"
    assert len({value.id for value in leaf.values}) == len(leaf.values)
    for value in leaf.values:
        assert value.definition.strip()
        assert "\n" not in value.definition.strip()
        assert len(value.definition) <= 200, value.id


@pytest.mark.parametrize("leaf", LEAVES, ids=lambda leaf: leaf.id)
def test_every_template_renders_for_every_value(leaf: Leaf) -> None:
    rendered = [leaf.render_question(None)]
    if leaf.free_form:
        rendered.append(leaf.render_question("OPEN ALL NIGHT"))
    for value in leaf.values:
        question = leaf.render_question(value.id)
        assert value.text in question
        rendered.append(question)
    for question in rendered:
        assert question.endswith("?")
        assert "{" not in question
        assert "}" not in question
        assert "  " not in question
        assert question[0].isupper()
    assert len(set(rendered)) == len(rendered), "each value gets its own question"


def test_dependencies_point_at_leaves_the_paper_calls_parents() -> None:
    dependent = {leaf.id: leaf.dependent_on for leaf in LEAVES if leaf.dependent_on}
    assert dependent["events.types.actions.interaction_type"] == "events.types.actions.interactive"
    assert dependent["events.types.dialogue.delivery"] == "events.types.dialogue.structure"
    for child, parent in dependent.items():
        assert parent in TAXONOMY
        assert TAXONOMY.leaf(parent).dependent_on is None, child


def test_coarse_values_where_fine_ones_cannot_be_seen() -> None:
    for leaf_id in ("lighting.color_temperature", "camera.intrinsics.iso"):
        values = [value.id for value in TAXONOMY.leaf(leaf_id).values]
        assert values == ["low", "medium", "high"], leaf_id


def test_no_synonym_means_two_different_things() -> None:
    owners: dict[str, set[tuple[str, str | None]]] = {}
    for leaf in LEAVES:
        for synonym in leaf.synonyms:
            owners.setdefault(normalize(synonym), set()).add((leaf.id, None))
        for value in leaf.values:
            for synonym in value.synonyms:
                owners.setdefault(normalize(synonym), set()).add((leaf.id, value.id))
    shared = {
        phrase: sorted(map(str, targets)) for phrase, targets in owners.items() if len(targets) > 1
    }
    assert shared == {}


def test_provenance_counts_are_plausible() -> None:
    counts = Counter(leaf.provenance for leaf in LEAVES)
    assert counts["paper"] >= 40
    assert counts["designed"] >= 1

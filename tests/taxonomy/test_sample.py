"""Seeded sampling of controls: deterministic, within axes, dependencies respected."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from scine.taxonomy import Taxonomy, load_taxonomy

from .tiny import tiny_document, write_document


@pytest.fixture
def tiny(tmp_path: Path) -> Taxonomy:
    return Taxonomy.from_file(write_document(tmp_path / "t.yaml", tiny_document()))


def test_dependent_leaf_never_without_its_parent(tiny: Taxonomy) -> None:
    seen = set()
    for seed in range(200):
        nodes = [c.node for c in tiny.sample(1, seed=seed, axes=["camera"])]
        assert nodes == ["camera.extrinsics.angle"]
        two = [c.node for c in tiny.sample(2, seed=seed)]
        if "camera.extrinsics.speed" in two:
            assert "camera.extrinsics.angle" in two
        seen.add(tuple(two))
    assert ("camera.extrinsics.angle", "camera.extrinsics.speed") in seen
    assert ("camera.extrinsics.angle", "setup.sign") in seen


def test_excluding_a_parent_excludes_its_dependents(tiny: Taxonomy) -> None:
    controls = tiny.sample(1, seed=0, exclude={"camera.extrinsics.angle"})
    assert [c.node for c in controls] == ["setup.sign"]
    with pytest.raises(ValueError, match="cannot sample 2 leaves from 1 eligible"):
        tiny.sample(2, seed=0, exclude={"camera.extrinsics.angle"})


def test_free_form_leaf_samples_no_value(tiny: Taxonomy) -> None:
    controls = tiny.sample(1, seed=0, axes=["setup"])
    assert [(c.node, c.value) for c in controls] == [("setup.sign", None)]


def test_unknown_axis_is_an_error(tiny: Taxonomy) -> None:
    with pytest.raises(KeyError, match="sound"):
        tiny.sample(1, seed=0, axes=["sound"])


def test_same_seed_same_controls_on_the_real_taxonomy() -> None:
    taxonomy = load_taxonomy()
    first = taxonomy.sample(8, seed=7)
    assert first == taxonomy.sample(8, seed=7)
    assert first == taxonomy.sample(8, seed=random.Random(7))
    assert any(taxonomy.sample(8, seed=seed) != first for seed in range(1, 5))


@pytest.mark.parametrize("axes", [["camera"], ["camera", "lighting"], ["setup"], ["events"]])
def test_real_taxonomy_sampling_respects_axes_and_dependencies(axes: list[str]) -> None:
    taxonomy = load_taxonomy()
    available = len([leaf for leaf in taxonomy.leaves() if leaf.axis in axes])
    for seed in range(50):
        k = 1 + seed % min(available, 10)
        controls = taxonomy.sample(k, seed=seed, axes=axes)
        nodes = {c.node for c in controls}
        assert len(controls) == k == len(nodes)
        for control in controls:
            leaf = taxonomy.leaf(control.node)
            assert leaf.axis in axes
            leaf.check(control.value)
            assert control.value is not None or leaf.free_form
            if leaf.dependent_on is not None:
                assert leaf.dependent_on in nodes


def test_every_leaf_can_be_drawn() -> None:
    taxonomy = load_taxonomy()
    everything = taxonomy.sample(len(taxonomy.leaves()), seed=3)
    assert [c.node for c in everything] == [leaf.id for leaf in taxonomy.leaves()]

"""The packaged seed scripts obey the rules and state exactly their listed controls."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from scine.bench.seeds import GENRES, SeedError, load_seeds, packaged_seeds, seed_problems
from scine.taxonomy import load_taxonomy

SEEDS = packaged_seeds()
TAXONOMY = load_taxonomy()


def test_library_size_and_genres() -> None:
    genres = Counter(seed.genre for seed in SEEDS)
    assert len(SEEDS) >= 60
    assert len(genres) >= 12
    assert min(genres.values()) >= 4
    assert set(genres) <= set(GENRES)


@pytest.mark.parametrize("seed", SEEDS, ids=lambda seed: seed.id)
def test_seed_is_clean(seed: object) -> None:
    assert seed_problems(seed, TAXONOMY) == []  # type: ignore[arg-type]


def test_every_seed_states_one_backdrop() -> None:
    for seed in SEEDS:
        backdrops = [c for c in seed.controls if c.node == "setup.scene.set_design.backdrop"]
        assert len(backdrops) == 1, seed.id


def test_bad_seed_names_seed_and_field(tmp_path: Path) -> None:
    path = tmp_path / "seeds.yaml"
    path.write_text("- id: drama_x\n  genre: opera\n  text: A man sits.\n", encoding="utf-8")
    with pytest.raises(SeedError, match=r"seeds\.yaml: seed drama_x: field 'genre'"):
        load_seeds(path)


def test_duplicate_seed_ids(tmp_path: Path) -> None:
    first = SEEDS[0].model_dump(mode="json")
    import yaml

    path = tmp_path / "seeds.yaml"
    path.write_text(yaml.safe_dump([first, first]), encoding="utf-8")
    with pytest.raises(SeedError, match=f"duplicate seed id.*{first['id']}"):
        load_seeds(path)


def test_seed_problems_find_unlisted_controls() -> None:
    seed = SEEDS[0].model_copy(update={"where": f"{SEEDS[0].where} at dawn in the rain"})
    problems = seed_problems(seed, TAXONOMY)
    assert any("not listed" in problem for problem in problems)

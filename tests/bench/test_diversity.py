"""Diversity metrics on hand-checked cases, and the embedding map."""

from __future__ import annotations

from pathlib import Path

import pytest

from scine.bench.diversity import embedding_map, lexical_diversity, sample, words


def test_metrics_by_hand() -> None:
    report = lexical_diversity(["a b c", "a b d"])
    assert report["ttr"] == 1.0
    assert report["distinct_1"] == pytest.approx(4 / 6, abs=1e-4)
    # bigrams: (a b) (b c) (a b) (b d): 3 distinct of 4
    assert report["distinct_2"] == 0.75
    # word sets {a b c} and {a b d}: 2 shared of 4
    assert report["jaccard"] == 0.5


def test_token_budget_counts_the_first_words_only() -> None:
    report = lexical_diversity(["a b c", "a b d", "e f g"], budget=4)
    # the first 4 words are a b c a: 3 distinct; bigrams (a b) (b c) (a): 2 of 2
    assert report["distinct_1_at_tokens"] == 0.75
    assert report["distinct_2_at_tokens"] == 1.0


def test_repetition_lowers_diversity() -> None:
    varied = lexical_diversity(["red fox runs", "blue whale sings", "old man waits"])
    same = lexical_diversity(["red fox runs", "red fox runs", "red fox runs"])
    assert varied["distinct_1"] > same["distinct_1"]
    assert varied["jaccard"] == 0.0
    assert same["jaccard"] == 1.0


def test_words_and_sample() -> None:
    assert words("The dog's bone, 3 times!") == ["the", "dog's", "bone", "3", "times"]
    assert sample(["a", "b", "c"], 5) == ["a", "b", "c"]
    assert sample([str(i) for i in range(10)], 3, seed=1) == sample(
        [str(i) for i in range(10)], 3, seed=1
    )


def test_needs_two_prompts() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        lexical_diversity(["only one"])


def test_embedding_map_writes_a_png(tmp_path: Path) -> None:
    from scine.bench.semantic import Embedder

    sets = {
        "ours": [
            f"A {c} cat sleeps on a {p} chair." for c, p in zip("abcdef", "ghijkl", strict=True)
        ],
        "theirs": [f"The camera pans {d} over hills." for d in ("left", "right", "up", "down")],
    }
    result = embedding_map(sets, Embedder(), tmp_path / "map.png", seed=0)
    assert result["points"] == 10
    assert (tmp_path / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

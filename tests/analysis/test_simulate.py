"""The study simulator: deterministic, complete, with planted truth the analysis can recover."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from scipy.stats import spearmanr

from scine.analysis.aggregate import category_scores
from scine.analysis.simulate import SimulationConfig, simulate, write_simulation
from scine.analysis.table import load_study


def test_same_seed_same_study() -> None:
    config = SimulationConfig(models=3, prompts=10, seed=9)
    assert simulate(config).ratings == simulate(config).ratings
    assert (
        simulate(config).ratings != simulate(SimulationConfig(models=3, prompts=10, seed=8)).ratings
    )


def test_votes_per_item_and_pairs() -> None:
    study = simulate(SimulationConfig(models=5, prompts=15, votes=3, missing=0.0, seed=1))
    per_item = Counter((r.video_id, r.question_id) for r in study.ratings)
    assert set(per_item.values()) == {3}
    assert len(per_item) == len(study.videos) // 15 * len(study.questions)
    raters = {(r.video_id, r.question_id, r.rater) for r in study.ratings}
    assert len(raters) == len(study.ratings)
    assert all(r.pair_id and r.video_id.split("/")[0] in r.pair_id for r in study.ratings)


def test_missing_votes() -> None:
    study = simulate(SimulationConfig(models=2, prompts=40, missing=0.2, seed=2))
    full = simulate(SimulationConfig(models=2, prompts=40, missing=0.0, seed=2))
    assert 0.7 < len(study.ratings) / len(full.ratings) < 0.9


def test_bad_settings() -> None:
    with pytest.raises(ValueError, match="at least 2 models"):
        simulate(SimulationConfig(models=1))
    with pytest.raises(ValueError, match="votes"):
        simulate(SimulationConfig(votes=30, annotators=5))


def test_planted_axis_skills_are_recovered(tmp_path: Path) -> None:
    write_simulation(simulate(SimulationConfig(models=5, prompts=150, seed=3)), tmp_path)
    truth = json.loads((tmp_path / "truth.json").read_text())["skill"]
    scores = category_scores(load_study(tmp_path).items, n_boot=0)
    axis = scores[scores["scope"] == "axis"]
    for name in ("setup", "events", "lighting", "camera"):
        measured = axis[axis["key"] == name].set_index("model")["mean"]
        planted = [truth[model][name] for model in measured.index]
        assert spearmanr(planted, measured.to_numpy()).statistic == pytest.approx(1.0), name

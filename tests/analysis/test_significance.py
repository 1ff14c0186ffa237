"""Wilcoxon pairs, Holm's correction and tiers: hand-checked cases and a simulated study."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from scine.analysis.significance import (
    WILCOXON_COLUMNS,
    holm,
    rank_biserial,
    tiers,
    wilcoxon_pairs,
)
from scine.analysis.simulate import AXES, SimulationConfig, simulate, write_simulation
from scine.analysis.table import load_study

# Differences a - b on 8 questions: one zero, tied |d| (0.5, -0.5 and 1, -1). By hand, the
# non-zero |d| 0.5 0.5 1 1 1.5 2 3 get ranks 1.5 1.5 3.5 3.5 5 6 7; W+ = 1.5 + 3.5 + 5 + 6 + 7
# = 23, W- = 3.5 + 1.5 = 5, so scipy's statistic min(W+, W-) = 5 and Kerby's r = 18 / 28.
DIFFERENCES = [0.5, -1.0, 2.0, 0.0, 1.5, 3.0, -0.5, 1.0]
B_SCORES = [3.0, 3.0, 3.0, 3.0, 3.0, 1.0, 3.0, 2.0]


def items_of(scores: dict[str, list[float]], axis: str = "setup") -> pd.DataFrame:
    """An items frame: one score per (model, question q0, q1, ...)."""
    rows = [
        {"model": model, "question_id": f"q{index}", "axis": axis, "score": score}
        for model, values in scores.items()
        for index, score in enumerate(values)
    ]
    return pd.DataFrame(rows)


def toy_items() -> pd.DataFrame:
    a = [b + d for b, d in zip(B_SCORES, DIFFERENCES, strict=True)]
    return items_of({"A": a, "B": B_SCORES})


def test_wilcoxon_pair_matches_hand_computation_scipy_and_pingouin() -> None:
    row = wilcoxon_pairs(toy_items()).iloc[0]
    a = np.add(B_SCORES, DIFFERENCES)
    assert (row["model_a"], row["model_b"], row["n"]) == ("A", "B", 8)
    assert row["statistic"] == 5.0
    assert row["rank_biserial"] == pytest.approx(18 / 28, abs=1e-12)
    assert row["mean_a"] == pytest.approx(a.mean())
    assert row["mean_b"] == pytest.approx(np.mean(B_SCORES))
    # Exact permutation p-value by hand: all 2^7 sign assignments of the non-zero ranks.
    ranks = [1.5, 1.5, 3.5, 3.5, 5.0, 6.0, 7.0]
    extreme = 0
    for signs in itertools.product([1, -1], repeat=7):
        plus = sum(r for r, s in zip(ranks, signs, strict=True) if s > 0)
        extreme += min(plus, 28 - plus) <= 5
    assert row["pval"] == pytest.approx(extreme / 128, abs=1e-12)
    reference = stats.wilcoxon(a, B_SCORES, zero_method="wilcox")
    assert row["pval"] == pytest.approx(reference.pvalue, abs=1e-12)
    pingouin = pytest.importorskip("pingouin")
    assert row["rank_biserial"] == pytest.approx(pingouin.wilcoxon(a, B_SCORES)["RBC"].iloc[0])


def test_rank_biserial_sign_and_extremes() -> None:
    assert rank_biserial(np.array([1.0, 2.0, 3.0])) == 1.0
    assert rank_biserial(np.array([-1.0, -2.0, 0.0])) == -1.0
    assert rank_biserial(np.array([0.0, 0.0])) == 0.0
    assert rank_biserial(np.array([1.0, -2.0])) == pytest.approx((1 - 2) / 3)


def test_all_ties_give_p_one_and_unmatched_pairs_are_not_tested() -> None:
    items = pd.concat(
        [
            items_of({"A": [3.0, 4.0, 2.0], "B": [3.0, 4.0, 2.0]}),
            items_of({"C": [5.0, 5.0]}).assign(question_id=["z0", "z1"]),
        ]
    )
    result = wilcoxon_pairs(items)
    assert list(result.columns) == list(WILCOXON_COLUMNS)
    frame = result.set_index(["model_a", "model_b"])
    equal = frame.loc[("A", "B")]
    assert (equal["n"], equal["statistic"], equal["pval"], equal["rank_biserial"]) == (3, 0, 1, 0)
    for pair in [("A", "C"), ("B", "C")]:
        row = frame.loc[pair]
        assert row["n"] == 0
        assert np.isnan(row["pval"])
        assert np.isnan(row["pval_holm"])
        assert np.isnan(row["mean_a"])
        assert not row["significant"]
    # The untestable pairs stay out of Holm's family: A-B is adjusted as a family of one.
    assert equal["pval_holm"] == 1.0


def test_holm_over_pairs_and_significance_flag() -> None:
    strong = [1.0, 2.0, 1.5, 2.5, 1.0, 2.0, 3.0, 1.5, 2.0, 1.0]
    items = items_of({"A": [s + 2 for s in strong], "B": strong, "C": [s + 0.1 for s in strong]})
    frame = wilcoxon_pairs(items, alpha=0.05)
    assert list(frame["pval_holm"]) == pytest.approx(list(holm(frame["pval"])))
    by_pair = frame.set_index(["model_a", "model_b"])
    assert bool(by_pair.loc[("A", "B"), "significant"])
    assert by_pair.loc[("A", "B"), "rank_biserial"] == 1.0
    assert by_pair.loc[("B", "C"), "rank_biserial"] == -1.0
    assert frame.attrs["settings"]["zero_method"] == "wilcox"
    with pytest.raises(ValueError, match="alpha must be between 0 and 1"):
        wilcoxon_pairs(items, alpha=5)
    with pytest.raises(ValueError, match="lacks column"):
        wilcoxon_pairs(items.drop(columns="score"))


def test_scope_column_tests_each_category_as_its_own_family() -> None:
    items = pd.concat(
        [toy_items(), toy_items().assign(axis="camera", question_id=lambda f: "c" + f.question_id)]
    )
    frame = wilcoxon_pairs(items, scope="axis")
    assert list(frame["scope"]) == ["camera", "setup"]
    assert list(frame["n"]) == [8, 8]
    assert list(frame["pval_holm"]) == list(frame["pval"])  # one pair per family


def test_holm_on_a_known_vector() -> None:
    # Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04; running max.
    assert list(holm([0.01, 0.04, 0.03, 0.005])) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert list(holm([0.5, 0.6])) == [1.0, 1.0]
    adjusted = holm([0.01, float("nan"), 0.04])
    assert adjusted[0] == pytest.approx(0.02)
    assert adjusted[2] == pytest.approx(0.04)
    assert np.isnan(adjusted[1])
    assert holm([]).size == 0
    with pytest.raises(ValueError, match="between 0 and 1"):
        holm([0.5, 1.5])


def test_holm_equals_statsmodels() -> None:
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    pvalues = np.random.default_rng(3).uniform(0, 0.2, size=25)
    expected = multitest.multipletests(pvalues, method="holm")[1]
    np.testing.assert_allclose(holm(pvalues), expected, rtol=0, atol=1e-15)


def significance_table(significant_pairs: set[tuple[str, str]], models: str) -> pd.DataFrame:
    rows = [
        {"scope": "all", "model_a": a, "model_b": b, "significant": (a, b) in significant_pairs}
        for a, b in itertools.combinations(models, 2)
    ]
    return pd.DataFrame(rows)


def test_tiers_are_runs_not_significantly_different_from_their_leader() -> None:
    means = {"A": 4.0, "B": 3.9, "C": 3.5, "D": 3.0, "E": 2.9}
    # A differs from C, D, E; C differs from E. A-D is not significant, but D comes after C,
    # which already started a new tier: tiers are runs in mean order.
    table = significance_table({("A", "C"), ("A", "E"), ("C", "E"), ("B", "E")}, "ABCDE")
    assert tiers(table, means) == [["A", "B"], ["C", "D"], ["E"]]
    assert tiers(table, pd.Series(means)) == [["A", "B"], ["C", "D"], ["E"]]
    nothing = significance_table(set(), "ABCDE")
    assert tiers(nothing, means) == [["A", "B", "C", "D", "E"]]
    everything = significance_table(set(itertools.combinations("ABCDE", 2)), "ABCDE")
    assert tiers(everything, means) == [["A"], ["B"], ["C"], ["D"], ["E"]]


def test_tiers_reject_several_scopes_and_missing_pairs() -> None:
    table = significance_table(set(), "ABC")
    with pytest.raises(ValueError, match="one scope"):
        tiers(pd.concat([table, table.assign(scope="setup")]), {"A": 1.0, "B": 2.0})
    with pytest.raises(ValueError, match="no test for the pair"):
        tiers(table, {"A": 1.0, "B": 2.0, "Z": 3.0})


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sim")
    write_simulation(simulate(SimulationConfig(models=5, prompts=120, seed=2)), folder)
    return folder


def test_best_and_worst_planted_models_differ_significantly_on_every_axis(simulated: Path) -> None:
    skill = json.loads((simulated / "truth.json").read_text())["skill"]
    frame = wilcoxon_pairs(load_study(simulated).items, scope="axis")
    for axis in AXES:
        ranked = sorted(skill, key=lambda model: skill[model][axis])
        worst, best = ranked[0], ranked[-1]
        rows = frame[(frame["scope"] == axis)]
        row = rows[rows["model_a"].isin([best, worst]) & rows["model_b"].isin([best, worst])]
        assert len(row) == 1
        assert bool(row["significant"].iloc[0])
        sign = 1 if row["model_a"].iloc[0] == best else -1
        assert sign * row["rank_biserial"].iloc[0] > 0.5

"""ICC and Krippendorff's alpha against pingouin, the krippendorff package, planted truth
and hand-checked cases; reliability levels on a simulated study."""

from __future__ import annotations

from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy.stats import f_oneway

from scine.analysis.reliability import (
    ReliabilityError,
    _Design,
    _henderson,
    _model_table,
    _pair_table,
    _slot_votes,
    _sums,
    _tables,
    icc,
    krippendorff_alpha,
    reliability_levels,
)
from scine.analysis.simulate import SimulationConfig, simulate, write_simulation
from scine.analysis.table import load_study

PINGOUIN_TYPES = ["ICC(1,1)", "ICC(A,1)", "ICC(C,1)", "ICC(1,k)", "ICC(A,k)", "ICC(C,k)"]
OUR_TYPES = ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]


def crossed(
    targets: int,
    raters: int,
    seed: int,
    missing: float = 0.0,
    sigmas: tuple[float, float, float] = (1.0, 0.5, 0.8),
) -> pd.DataFrame:
    """Ratings 3 + target + rater + error, each cell kept with probability 1 - missing."""
    rng = np.random.default_rng(seed)
    target, rater = (grid.ravel() for grid in np.indices((targets, raters)))
    y = (
        3
        + rng.normal(0, sigmas[0], targets)[target]
        + rng.normal(0, sigmas[1], raters)[rater]
        + rng.normal(0, sigmas[2], target.size)
    )
    keep = rng.random(target.size) >= missing
    return pd.DataFrame({"t": target[keep], "r": rater[keep], "y": y[keep]})


def pingouin_unrounded(data: pd.DataFrame, targets: str, raters: str, ratings: str) -> pd.DataFrame:
    """pingouin's table with its 2-decimal rounding of CI95 switched off."""
    saved = dict(pg.options)
    pg.options.pop("round.column.CI95", None)
    try:
        table = pg.intraclass_corr(data=data, targets=targets, raters=raters, ratings=ratings)
    finally:
        pg.options.clear()
        pg.options.update(saved)
    return table


def assert_matches_pingouin(data: pd.DataFrame, targets: str, raters: str, ratings: str) -> None:
    ours = icc(data, targets, raters, ratings)
    theirs = pingouin_unrounded(data, targets, raters, ratings)
    assert list(theirs["Type"]) == PINGOUIN_TYPES
    assert list(ours["Type"]) == OUR_TYPES
    assert (ours["estimator"] == "anova").all()
    for column in ("ICC", "F", "df1", "df2", "pval"):
        np.testing.assert_allclose(
            ours[column], theirs[column].astype(float), rtol=1e-9, atol=1e-12
        )
    bounds = np.vstack(theirs["CI95"].to_numpy())
    np.testing.assert_allclose(
        ours[["ci_low", "ci_high"]].to_numpy(), bounds, rtol=1e-9, atol=1e-12
    )


# --- ICC, balanced ------------------------------------------------------------------------


def test_icc_equals_pingouin_on_its_wine_dataset() -> None:
    wine = pg.read_dataset("icc")
    assert_matches_pingouin(wine, "Wine", "Judge", "Scores")
    ours = icc(wine, "Wine", "Judge", "Scores").set_index("Type")
    # pingouin's documented values (rounded): ICC(A,1) 0.728, CI [0.43, 0.93]; ICC(C,k) 0.915
    assert ours.loc["ICC2", "ICC"] == pytest.approx(0.728, abs=5e-4)
    assert (ours.loc["ICC2", "ci_low"], ours.loc["ICC2", "ci_high"]) == pytest.approx(
        (0.43, 0.93), abs=5e-3
    )
    assert ours.loc["ICC3k", "ICC"] == pytest.approx(0.915, abs=5e-4)
    assert ours.loc["ICC2", "Description"] == "Single random raters"
    assert (ours["targets"] == 8).all()
    assert (ours["raters"] == 4).all()


@pytest.mark.parametrize(
    ("targets", "raters", "seed"), [(5, 2, 0), (12, 3, 1), (40, 5, 2), (200, 4, 3), (30, 10, 4)]
)
def test_icc_equals_pingouin_on_random_balanced_data(targets: int, raters: int, seed: int) -> None:
    data = crossed(targets, raters, seed)
    shuffled = data.sample(frac=1.0, random_state=seed)  # row order must not matter
    shuffled["r"] = "rater-" + shuffled["r"].astype(str)
    assert_matches_pingouin(shuffled, "t", "r", "y")


def test_icc_interval_level_follows_ci() -> None:
    data = crossed(25, 3, seed=5)
    ours = icc(data, "t", "r", "y", ci=0.90).set_index("Type")
    from scipy.stats import f

    fvalue = ours.loc["ICC3", "F"]
    low = fvalue / f.ppf(0.95, 24, 48)
    assert ours.loc["ICC3", "ci_low"] == pytest.approx((low - 1) / (low + 2), rel=1e-12)
    wide = icc(data, "t", "r", "y", ci=0.99)
    assert (wide["ci_low"].to_numpy() < ours["ci_low"].to_numpy()).all()


# --- ICC, unbalanced ----------------------------------------------------------------------


def henderson_reference(data: pd.DataFrame) -> tuple[float, float]:
    """ICC1 and ICC2 written out literally: the 4 x 4 Henderson I system on raw sums, and
    the one-way ANOVA with n0, by loops over groups."""
    rows = list(data[["t", "r", "y"]].itertuples(index=False))
    n = len(rows)
    by_target: dict[int, list[tuple[int, float]]] = {}
    by_rater: dict[int, list[tuple[int, float]]] = {}
    for target, rater, y in rows:
        by_target.setdefault(target, []).append((rater, y))
        by_rater.setdefault(rater, []).append((target, y))
    a, b = len(by_target), len(by_rater)
    t0 = sum(y * y for _, _, y in rows)
    ta = sum(sum(y for _, y in cells) ** 2 / len(cells) for cells in by_target.values())
    tb = sum(sum(y for _, y in cells) ** 2 / len(cells) for cells in by_rater.values())
    tmu = sum(y for _, _, y in rows) ** 2 / n
    k_a = sum(len(cells) ** 2 for cells in by_target.values()) / n
    k_b = sum(len(cells) ** 2 for cells in by_rater.values()) / n
    # unknowns: mu^2, s_target, s_rater, s_error; a cell holds one rating, so n_ij^2 = n_ij
    system = np.array(
        [
            [n, n, n, n],
            [n, n, a, a],
            [n, b, n, b],
            [n, k_a, k_b, 1],
        ],
        dtype=float,
    )
    _, s_t, s_r, s_e = np.linalg.solve(system, [t0, ta, tb, tmu])
    msa = (ta - tmu) / (a - 1)
    msw = (t0 - ta) / (n - a)
    n0 = (n - k_a) / (a - 1)
    s_one = (msa - msw) / n0
    return s_one / (s_one + msw), s_t / (s_t + s_r + s_e)


def test_henderson_equals_anova_on_balanced_data() -> None:
    for targets, raters, seed in [(8, 4, 0), (50, 3, 1), (20, 7, 2)]:
        data = crossed(targets, raters, seed)
        design = _Design(
            data["t"].to_numpy(np.int64), data["r"].to_numpy(np.int64),
            data["y"].to_numpy() - data["y"].mean(), targets, raters,
        )  # fmt: skip
        henderson = _henderson(_sums(_tables(design), np.ones((targets, 1))))[0]
        np.testing.assert_allclose(henderson, icc(data, "t", "r", "y")["ICC"], rtol=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_henderson_equals_literal_method_on_unbalanced_data(seed: int) -> None:
    data = crossed(30, 6, seed, missing=0.4)
    ours = icc(data, "t", "r", "y", n_boot=0).set_index("Type")
    icc1, icc2 = henderson_reference(data)
    assert ours.loc["ICC1", "ICC"] == pytest.approx(icc1, rel=1e-9)
    assert ours.loc["ICC2", "ICC"] == pytest.approx(icc2, rel=1e-9)
    assert (ours["estimator"] == "henderson1+bootstrap").all()
    assert ours[["ci_low", "ci_high"]].isna().all().all()  # n_boot=0: no interval


def test_unbalanced_icc1_f_test_is_the_one_way_anova() -> None:
    data = crossed(40, 5, seed=3, missing=0.3)
    ours = icc(data, "t", "r", "y", n_boot=0).set_index("Type")
    groups = [group["y"].to_numpy() for _, group in data.groupby("t")]
    reference = f_oneway(*groups)
    assert ours.loc["ICC1", "F"] == pytest.approx(reference.statistic, rel=1e-9)
    assert ours.loc["ICC1", "pval"] == pytest.approx(reference.pvalue, rel=1e-6)
    assert (ours.loc["ICC1", "df1"], ours.loc["ICC1", "df2"]) == (39, len(data) - 40)
    assert (
        ours.loc[["ICC2", "ICC3", "ICC2k", "ICC3k"], ["F", "df1", "df2", "pval"]].isna().all().all()
    )


@pytest.mark.parametrize("missing", [0.0, 0.3])
def test_votes_without_spread_within_targets_give_an_infinite_f(missing: float) -> None:
    """Every rater agrees on every target: the one-way F is infinite, not a crash (balanced
    and unbalanced data)."""
    data = crossed(12, 3, seed=4, missing=missing)
    data["y"] = data["t"].astype("category").cat.codes.astype(float)
    ours = icc(data, "t", "r", "y", n_boot=0).set_index("Type")
    assert ours.loc["ICC1", "F"] == float("inf")
    assert ours.loc["ICC1", "pval"] == 0.0
    everyone_equal = data.assign(y=5.0)
    assert icc(everyone_equal, "t", "r", "y", n_boot=0)["ICC"].isna().all()


@pytest.mark.parametrize("metric", ["interval", "ordinal", "nominal"])
def test_alpha_of_ratings_without_any_variation_is_undefined(metric: str) -> None:
    data = pd.DataFrame({"u": [1, 1, 2, 2, 3], "r": [1, 2, 1, 2, 1], "y": [5.0] * 5})
    assert np.isnan(krippendorff_alpha(data, "u", "r", "y", metric=metric))


def test_henderson_recovers_planted_components_with_covering_interval() -> None:
    sigmas = (1.0, 0.3, 0.8)
    data = crossed(4000, 50, seed=0, missing=0.3, sigmas=sigmas)
    result = icc(data, "t", "r", "y", n_boot=200, seed=1).set_index("Type")
    target, rater, error = (s**2 for s in sigmas)
    k = len(data) / 4000
    truth = {
        "ICC2": target / (target + rater + error),
        "ICC3": target / (target + error),
        "ICC2k": target / (target + (rater + error) / k),
    }
    for form, value in truth.items():
        assert result.loc[form, "ICC"] == pytest.approx(value, abs=0.03)
    assert result.loc["ICC2", "ci_low"] <= truth["ICC2"] <= result.loc["ICC2", "ci_high"]
    assert result.loc["ICC2", "ci_high"] - result.loc["ICC2", "ci_low"] < 0.05


def test_bootstrap_is_seeded() -> None:
    data = crossed(60, 8, seed=4, missing=0.3)
    first = icc(data, "t", "r", "y", n_boot=100, seed=7)
    pd.testing.assert_frame_equal(first, icc(data, "t", "r", "y", n_boot=100, seed=7))
    other = icc(data, "t", "r", "y", n_boot=100, seed=8)
    assert not np.allclose(first["ci_low"], other["ci_low"])
    assert (first["ci_low"] <= first["ICC"]).all()
    assert (first["ICC"] <= first["ci_high"]).all()


# --- ICC, errors --------------------------------------------------------------------------


def test_icc_names_the_first_duplicate_cell() -> None:
    data = pd.DataFrame(
        {"t": ["a", "a", "b", "b", "a"], "r": ["x", "y", "x", "y", "y"], "y": [1, 2, 3, 4, 5.0]}
    )
    with pytest.raises(ReliabilityError, match=r"t='a', r='y'"):
        icc(data, "t", "r", "y")


def test_icc_refuses_too_few_targets_or_raters() -> None:
    data = pd.DataFrame({"t": ["a", "a"], "r": ["x", "y"], "y": [1.0, 2.0]})
    with pytest.raises(ReliabilityError, match=r"at least 2 targets .*got 1"):
        icc(data, "t", "r", "y")
    with pytest.raises(ReliabilityError, match=r"at least 2 raters .*got 1"):
        icc(data.assign(t=["a", "b"], r="x"), "t", "r", "y")
    once = pd.DataFrame({"t": ["a", "b", "c"], "r": ["x", "y", "z"], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(ReliabilityError, match="no target has two ratings"):
        icc(once, "t", "r", "y")


def test_icc_refuses_nan_and_non_numeric_ratings_and_missing_columns() -> None:
    data = crossed(5, 3, seed=0)
    data.loc[4, "y"] = np.nan
    with pytest.raises(ReliabilityError, match=r"1 missing .* index 4; drop them first"):
        icc(data, "t", "r", "y")
    with pytest.raises(ReliabilityError, match="must be numeric"):
        icc(data.assign(y="high"), "t", "r", "y")
    with pytest.raises(ReliabilityError, match=r"no column\(s\) 'score'"):
        icc(data, "t", "r", "score")
    with pytest.raises(ReliabilityError, match="ci must be"):
        icc(crossed(5, 3, seed=0), "t", "r", "y", ci=95)


# --- Krippendorff's alpha -----------------------------------------------------------------


def to_long(matrix: np.ndarray) -> pd.DataFrame:
    """A raters x units matrix with NaN for missing, as a long table."""
    rater, unit = np.nonzero(~np.isnan(matrix))
    return pd.DataFrame({"unit": unit, "rater": rater, "value": matrix[rater, unit]})


def test_alpha_on_krippendorffs_published_example() -> None:
    nan = np.nan
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", 4 coders x 12 units
    matrix = np.array(
        [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
            [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
        ]
    )
    data = to_long(matrix)
    published = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849}
    for metric, value in published.items():
        alpha = krippendorff_alpha(data, "unit", "rater", "value", metric)  # type: ignore[arg-type]
        assert alpha == pytest.approx(value, abs=5e-4)


def test_alpha_of_a_tiny_hand_checked_case() -> None:
    # units {1, 2}, {2, 2}, {3}: pairable values 1, 2, 2, 2 (n = 4); nominal:
    # o(1,2) = o(2,1) = 1, o(2,2) = 2; D_o = 2 / 4; D_e = 2 * 1 * 3 / (4 * 3) = 1 / 2 -> 0
    data = pd.DataFrame(
        {"unit": [0, 0, 1, 1, 2], "rater": [0, 1, 0, 1, 0], "value": [1, 2, 2, 2, 3]}
    )
    assert krippendorff_alpha(data, "unit", "rater", "value", "nominal") == pytest.approx(0.0)
    # interval: within-unit squared differences 2 * 1 (unit 0); alpha = 1 - 3 * 1 / (4 * 0.75)
    assert krippendorff_alpha(data, "unit", "rater", "value", "interval") == pytest.approx(0.0)
    data.loc[2, "value"] = 1  # units {1, 2}, {1, 2}: disagreement within units only
    assert krippendorff_alpha(data, "unit", "rater", "value", "nominal") == pytest.approx(-0.5)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("metric", ["interval", "ordinal", "nominal"])
def test_alpha_equals_the_krippendorff_package(seed: int, metric: str) -> None:
    rng = np.random.default_rng(seed)
    units, raters = 60, 5
    truth = rng.integers(1, 6, units)
    matrix = np.clip(truth + rng.integers(-1, 2, (raters, units)), 1, 5).astype(float)
    matrix[rng.random(matrix.shape) < 0.35] = np.nan
    if seed == 3:
        matrix = matrix * 0.7 + 0.1  # non-integer values
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement=metric)
    alpha = krippendorff_alpha(to_long(matrix), "unit", "rater", "value", metric)  # type: ignore[arg-type]
    assert alpha == pytest.approx(expected, rel=1e-9)


def test_alpha_interval_on_continuous_ratings_and_refusals() -> None:
    rng = np.random.default_rng(9)
    matrix = rng.normal(0, 1, 150)[None, :] + rng.normal(0, 0.5, (4, 150))
    matrix[rng.random(matrix.shape) < 0.3] = np.nan
    coarse = np.round(matrix, 1)  # the package's cost grows with the distinct values squared
    expected = krippendorff.alpha(reliability_data=coarse, level_of_measurement="interval")
    alpha = krippendorff_alpha(to_long(coarse), "unit", "rater", "value")
    assert alpha == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ReliabilityError, match="at most 200"):
        krippendorff_alpha(to_long(matrix), "unit", "rater", "value", "ordinal")
    single = pd.DataFrame({"unit": [0, 1], "rater": [0, 0], "value": [1.0, 2.0]})
    with pytest.raises(ReliabilityError, match="no unit"):
        krippendorff_alpha(single, "unit", "rater", "value")


# --- levels -------------------------------------------------------------------------------


def hand_votes() -> pd.DataFrame:
    """Models A, B, C on questions q1, q2 of one prompt; A/q1 has a third vote (r4)."""
    votes = [
        ("A", "q1", "r1", 5), ("A", "q1", "r2", 4), ("A", "q1", "r4", 1),
        ("A", "q2", "r2", 3), ("A", "q2", "r3", 1),
        ("B", "q1", "r3", 4), ("B", "q1", "r1", 2),
        ("B", "q2", "r1", 1), ("B", "q2", "r2", 1),
        ("C", "q1", "r2", 3), ("C", "q1", "r3", 5),
        ("C", "q2", "r1", 2),
    ]  # fmt: skip
    frame = pd.DataFrame(votes, columns=["model", "question_id", "rater", "score"])
    frame["score"] = frame["score"].astype(float)
    return frame.assign(video_id=frame["model"] + "/p1")


def test_slots_model_and_pair_tables_by_hand() -> None:
    slotted = _slot_votes(hand_votes())
    first = slotted[(slotted["model"] == "B") & (slotted["question_id"] == "q1")]
    assert dict(zip(first["rater"], first["slot"], strict=True)) == {"r1": 1, "r3": 2}
    # most items have 2 votes: A/q1's third vote (slot 3) is not used at model and pair levels
    models = _model_table(slotted).set_index(["model", "slot"])["score"]
    assert models.to_dict() == {
        ("A", 1): 4.0, ("A", 2): 2.5, ("B", 1): 1.5, ("B", 2): 2.5, ("C", 1): 2.5, ("C", 2): 5.0,
    }  # fmt: skip
    pairs = _pair_table(slotted).set_index(["pair", "slot"])["score"]
    assert pairs.to_dict() == {
        ("A vs B", 1): 2.5, ("A vs B", 2): 0.0,
        ("A vs C", 1): 1.5, ("A vs C", 2): -1.0,  # slot 2: C has no second vote on q2
        ("B vs C", 1): -1.0, ("B vs C", 2): -1.0,
    }  # fmt: skip


def test_two_models_give_nan_pair_rows() -> None:
    votes = hand_votes()
    iccs, alphas = reliability_levels(votes[votes["model"] != "C"], n_boot=20)
    pair = iccs[iccs["level"] == "pair"]
    assert len(pair) == 6
    assert pair["ICC"].isna().all()
    assert (pair["estimator"] == "undefined: a single target").all()
    assert np.isnan(alphas.set_index("level").loc["pair", "alpha"])
    assert iccs[iccs["level"] == "model"]["ICC"].notna().all()
    with pytest.raises(ReliabilityError, match="2 or more models"):
        reliability_levels(votes[votes["model"] == "A"])


def test_one_vote_per_item_gives_nan_rows_not_an_error() -> None:
    votes = hand_votes().drop_duplicates(["model", "question_id"])  # raters differ by item
    assert votes["rater"].nunique() > 1
    iccs, alphas = reliability_levels(votes, n_boot=20)
    item = iccs[iccs["level"] == "item"]
    assert item["ICC"].isna().all()
    assert (item["estimator"] == "undefined: one rating per target").all()
    assert alphas.set_index("level").loc["item", "alpha"].isna().all()


def test_agreement_never_exceeds_one_even_on_degenerate_votes() -> None:
    # every vote on a model the same: no error variance, and an unbalanced design whose
    # moment estimate of it comes out below zero
    votes = hand_votes()
    votes["score"] = votes["model"].map({"A": 1.0, "B": 3.0, "C": 5.0})
    iccs, _ = reliability_levels(votes, n_boot=50, seed=0)
    assert iccs[["ICC", "ci_low", "ci_high"]].max().max() <= 1.0


def test_identical_ratings_say_why_agreement_is_undefined() -> None:
    votes = hand_votes().assign(score=3.0)
    iccs, alphas = reliability_levels(votes, n_boot=20)
    assert iccs["ICC"].isna().all()
    item = iccs[iccs["level"] == "item"]
    assert (item["estimator"] == "undefined: every rating the same").all()
    assert alphas["alpha"].isna().all()


def test_one_rater_gives_nan_rows_not_an_error() -> None:
    # e.g. a study rated by one automatic rater: one vote per item, nothing to agree
    votes = hand_votes().drop_duplicates(["model", "question_id"]).assign(rater="probe")
    iccs, alphas = reliability_levels(votes, n_boot=20)
    assert iccs["ICC"].isna().all()
    assert (iccs["estimator"] == "undefined: a single rater").all()
    assert alphas["alpha"].isna().all()


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    folder = Path(tmp_path_factory.mktemp("sim"))
    write_simulation(simulate(SimulationConfig(models=5, prompts=80, seed=1)), folder)
    return load_study(folder).votes


def test_reliability_levels_on_a_simulated_study(simulated: pd.DataFrame) -> None:
    iccs, alphas = reliability_levels(simulated, n_boot=100, seed=0)
    assert list(iccs.columns[:3]) == ["level", "Type", "Description"]
    assert iccs.groupby("level", sort=False).size().to_dict() == {"item": 6, "model": 6, "pair": 6}
    by_level = iccs.groupby("level").first()
    assert by_level.loc["item", "estimator"] == "henderson1+bootstrap"
    assert by_level.loc["item", "targets"] == simulated.groupby(["video_id", "question_id"]).ngroups
    assert by_level.loc["item", "raters"] == simulated["rater"].nunique()
    assert (by_level.loc["model", "targets"], by_level.loc["model", "raters"]) == (5, 3)
    assert (by_level.loc["pair", "targets"], by_level.loc["pair", "raters"]) == (10, 3)
    assert by_level.loc["model", "estimator"] == "anova"  # every model has every slot
    model = iccs[iccs["level"] == "model"].set_index("Type")["ICC"]
    assert (model > 0.9).all()
    assert iccs["ci_low"].notna().all()
    assert alphas[["level", "metric"]].to_numpy().tolist() == [
        ["item", "ordinal"], ["item", "interval"], ["model", "interval"], ["pair", "interval"],
    ]  # fmt: skip
    assert alphas.set_index("level").loc["model", "units"] == 5
    assert 0.2 < alphas.iloc[0]["alpha"] < 0.9  # votes are noisy, items differ

"""Reliability of ratings: intraclass correlations and Krippendorff's alpha.

All functions read one long table (``data=, targets=, raters=, ratings=``), as pingouin does.

``icc`` returns the six Shrout-Fleiss forms (``ICC1`` one-way; ``ICC2`` two-way random,
absolute agreement; ``ICC3`` two-way mixed, consistency; and their ``k`` forms, the
reliability of the mean of ``k`` ratings). Two estimators, chosen by the data:

- ``anova``: balanced complete data (every target rated once by every rater). Classic mean
  squares (Shrout & Fleiss 1979; McGraw & Wong 1996) with F tests and F-based intervals,
  equal to ``pingouin.intraclass_corr`` (its ``ICC(1,1), ICC(A,1), ICC(C,1), ICC(1,k),
  ICC(A,k), ICC(C,k)`` rows are our ``ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k``).
- ``henderson1+bootstrap``: anything else (missing cells; many raters who each rate a few
  targets). Variance components by Henderson's Method I for the two-way crossed random model
  without interaction (``ICC2``, ``ICC3``) and by the one-way unbalanced ANOVA with the ``n0``
  coefficient (``ICC1``); ``k`` is the mean number of ratings per target. Intervals are
  percentile bootstrap intervals resampling targets (raters are held fixed, so the interval
  leaves out the uncertainty from sampling raters). The one-way F test of ``ICC1`` is exact
  for unbalanced data and is reported; the two-way forms have no F test here (NaN). On
  balanced data this estimator equals ``anova``. Estimates are not truncated at 0.

``krippendorff_alpha`` tolerates missing ratings: units rated once contribute nothing.

``reliability_levels`` gives the three levels the paper reports. The paper does not say how
its model-level and pair-level ICCs were computed; our reading: order each item's votes by
rater id and call them vote slots 1..k, k = the most common number of votes per item (the
smaller on ties; later votes are not used at these two levels). Each slot is an independent
set of votes, so

- ``item``: targets are (video, question) items, raters are the annotators, ratings the votes;
- ``model``: targets are models, raters are slots, a rating is the model's mean score over
  its items' votes in that slot: how reproducible per-model scores are across vote sets;
- ``pair``: targets are model pairs (a, b), a < b, a rating is, per slot, the mean over the
  questions both models answer of score_a - score_b.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]

__all__ = [
    "ICC_FORMS",
    "ReliabilityError",
    "icc",
    "krippendorff_alpha",
    "reliability_levels",
]

ICC_FORMS = {
    "ICC1": "Single raters absolute",
    "ICC2": "Single random raters",
    "ICC3": "Single fixed raters",
    "ICC1k": "Average raters absolute",
    "ICC2k": "Average random raters",
    "ICC3k": "Average fixed raters",
}
ICC_COLUMNS = [
    "Type",
    "Description",
    "ICC",
    "F",
    "df1",
    "df2",
    "pval",
    "ci_low",
    "ci_high",
    "estimator",
    "targets",
    "raters",
]
AlphaMetric = Literal["interval", "ordinal", "nominal"]
MAX_CATEGORIES = 200
_BLOCK_CELLS = 4_000_000  # bootstrap weights held in memory at once (float64 cells)
_VOTE_COLUMNS = ("video_id", "question_id", "model", "rater", "score")
_LEVELS: dict[str, tuple[str, str, tuple[AlphaMetric, ...]]] = {
    "item": ("item", "rater", ("ordinal", "interval")),
    "model": ("model", "slot", ("interval",)),
    "pair": ("pair", "slot", ("interval",)),
}


class ReliabilityError(ValueError):
    """The ratings cannot give a reliability estimate; the message says what was expected."""


@dataclass(frozen=True)
class _Design:
    """Ratings coded for the estimators: 0-based target and rater codes, centred ratings."""

    target: IntArray
    rater: IntArray
    y: FloatArray
    targets: int
    raters: int

    @property
    def balanced(self) -> bool:
        return len(self.y) == self.targets * self.raters


@dataclass(frozen=True)
class _Sums:
    """Sums of squares of a design, one entry per replicate (weights on targets)."""

    n: FloatArray  # ratings
    a: FloatArray  # targets
    b: FloatArray  # raters with at least one rating
    k_a: FloatArray  # sum_i n_i^2 / n, n_i = ratings of target i
    k_b: FloatArray  # sum_j n_j^2 / n, n_j = ratings by rater j
    between_targets: FloatArray  # sum_i n_i (mean_i - mean)^2
    within_targets: FloatArray  # sum (y - mean_i)^2
    within_raters: FloatArray  # sum (y - mean_j)^2


def icc(
    data: pd.DataFrame,
    targets: str,
    raters: str,
    ratings: str,
    ci: float = 0.95,
    n_boot: int = 500,
    seed: int = 0,
) -> pd.DataFrame:
    """Six intraclass correlations of ``ratings`` of ``targets`` by ``raters``.

    One row per form (see the module docstring), with columns ``Type, Description, ICC, F,
    df1, df2, pval, ci_low, ci_high, estimator, targets, raters``. A (target, rater) cell may
    hold one rating at most. ``n_boot`` and ``seed`` drive the bootstrap of unbalanced data
    (``n_boot=0``: no interval).
    """
    if not 0 < ci < 1:
        raise ReliabilityError(f"ci must be a probability between 0 and 1, got {ci}")
    if n_boot < 0:
        raise ReliabilityError(f"n_boot must be 0 or more, got {n_boot}")
    design = _design(data, targets, raters, ratings, ("targets", "raters"))
    if design.balanced:
        return _anova(design, ci)
    return _henderson_frame(design, ci, n_boot, seed)


def krippendorff_alpha(
    data: pd.DataFrame,
    units: str,
    raters: str,
    ratings: str,
    metric: AlphaMetric = "interval",
) -> float:
    """Krippendorff's alpha of ``ratings`` of ``units`` by ``raters`` (missing cells allowed).

    ``interval`` is computed from sums of squares; ``ordinal`` and ``nominal`` from the
    coincidence matrix over the distinct rating values (at most ``MAX_CATEGORIES``). NaN when
    all pairable ratings are equal (alpha is undefined).
    """
    return _alpha(data, units, raters, ratings, metric)[0]


def reliability_levels(
    votes: pd.DataFrame, n_boot: int = 500, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ICC and alpha frames (``results.py``) at the ``item``, ``model`` and ``pair`` levels.

    ``votes`` is ``Study.votes`` (needs ``video_id, question_id, model, rater, score``). Alpha
    is ``ordinal`` and ``interval`` at the item level, ``interval`` at the other two. With
    two models there is one pair: the pair level's rows are NaN, marked in ``estimator``.
    """
    import pandas as pd

    _require_columns(votes, _VOTE_COLUMNS, "votes")
    models = int(votes["model"].nunique())
    if models < 2:
        raise ReliabilityError(f"reliability levels need votes on 2 or more models, got {models}")
    slotted = _slot_votes(votes)
    tables = {
        "item": slotted[["item", "rater", "score"]],
        "model": _model_table(slotted),
        "pair": _pair_table(slotted),
    }
    iccs, alphas = [], []
    for level, (target, rater, metrics) in _LEVELS.items():
        table = tables[level]
        lacking = _lacking(table, target, rater)
        if lacking is not None:
            iccs.append(_undefined_icc(table, target, rater, lacking).assign(level=level))
            alphas += [_alpha_row(level, metric, float("nan"), 1, len(table)) for metric in metrics]
            continue
        frame = icc(table, target, rater, "score", n_boot=n_boot, seed=seed)
        iccs.append(frame.assign(level=level))
        for metric in metrics:
            alphas.append(_alpha_row(level, metric, *_alpha(table, target, rater, "score", metric)))
    icc_frame = pd.concat(iccs, ignore_index=True)[["level", *ICC_COLUMNS]]
    return icc_frame, pd.DataFrame(alphas, columns=["level", "metric", "alpha", "units", "values"])


# --- input ---------------------------------------------------------------------------------


def _require_columns(data: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        raise ReliabilityError(f"{what} must be a pandas DataFrame, got {type(data).__name__}")
    missing = [column for column in columns if column not in data.columns]
    if missing:
        raise ReliabilityError(
            f"{what} has no column(s) {', '.join(map(repr, missing))}; "
            f"its columns are {', '.join(map(repr, map(str, data.columns)))}"
        )


def _design(
    data: pd.DataFrame, targets: str, raters: str, ratings: str, roles: tuple[str, str]
) -> _Design:
    """Validate the long table and code it; ``roles`` name the id columns in messages."""
    import numpy as np

    _require_columns(data, (targets, raters, ratings), "data")
    y = _ratings(data, ratings)
    target, n_targets = _codes(data, targets, roles[0])
    rater, n_raters = _codes(data, raters, roles[1])
    for role, column, count in ((roles[0], targets, n_targets), (roles[1], raters, n_raters)):
        if count < 2:
            raise ReliabilityError(f"need at least 2 {role} (column {column!r}), got {count}")
    _no_duplicates(data, target, rater, n_raters, (targets, raters))
    return _Design(target, rater, y - float(np.mean(y)), n_targets, n_raters)


def _ratings(data: pd.DataFrame, ratings: str) -> FloatArray:
    import numpy as np
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    column = data[ratings]
    if is_bool_dtype(column) or not is_numeric_dtype(column):
        raise ReliabilityError(
            f"ratings column {ratings!r} must be numeric, got dtype {column.dtype} "
            f"(convert it with pd.to_numeric)"
        )
    y = column.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(y)
    if bad.any():
        first = data.index[int(np.argmax(bad))]
        raise ReliabilityError(
            f"ratings column {ratings!r} has {int(bad.sum())} missing or infinite value(s), "
            f"the first at index {first!r}; drop them first, e.g. "
            f"data.dropna(subset=[{ratings!r}])"
        )
    return y


def _codes(data: pd.DataFrame, column: str, role: str) -> tuple[IntArray, int]:
    """0-based codes of an id column and the number of distinct ids."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(data[column])
    if (codes < 0).any():
        first = data.index[int(np.argmax(codes < 0))]
        raise ReliabilityError(
            f"{role} column {column!r} has {int((codes < 0).sum())} missing id(s), the first "
            f"at index {first!r}"
        )
    return codes.astype(np.int64), len(uniques)


def _no_duplicates(
    data: pd.DataFrame, target: IntArray, rater: IntArray, raters: int, columns: tuple[str, str]
) -> None:
    import numpy as np
    import pandas as pd

    repeated = pd.Series(target * raters + rater).duplicated().to_numpy()
    if repeated.any():
        row = data.iloc[int(np.argmax(repeated))]
        raise ReliabilityError(
            f"{int(repeated.sum())} repeated (target, rater) cell(s), the first: "
            f"{columns[0]}={row[columns[0]]!r}, {columns[1]}={row[columns[1]]!r}; each rater "
            f"may rate a target once (average or drop repeated ratings first)"
        )


# --- ICC -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tables:
    """What any replicate's sums follow from, by one product each with the target weights."""

    per_target: FloatArray  # targets x 6: n_i, s_i, sum y^2, s_i^2 / n_i, within SS, n_i^2
    per_rater: Any  # scipy.sparse (2 raters) x targets: cell counts above, ratings below
    raters: int


def _tables(design: _Design) -> _Tables:
    import numpy as np
    from scipy import sparse

    a, b, t, y = design.targets, design.raters, design.target, design.y
    n_i = np.bincount(t, minlength=a).astype(np.float64)
    s_i = np.bincount(t, y, minlength=a).astype(np.float64)
    columns = [
        n_i,
        s_i,
        np.bincount(t, y * y, minlength=a),
        s_i**2 / n_i,
        np.bincount(t, (y - (s_i / n_i)[t]) ** 2, minlength=a),
        n_i**2,
    ]
    cells = (
        np.concatenate([np.ones_like(y), y]),
        (np.concatenate([design.rater, design.rater + b]), np.tile(t, 2)),
    )
    per_rater = sparse.csr_matrix(cells, shape=(2 * b, a))
    return _Tables(np.column_stack(columns).astype(np.float64), per_rater, b)


def _sums(tables: _Tables, weights: FloatArray) -> _Sums:
    """Sums of squares of the data with target ``i`` counted ``weights[i, r]`` times, one
    replicate ``r`` per column of ``weights``."""
    import numpy as np

    # einsum, not BLAS: threaded BLAS stalls when the machine's cores are busy
    per_target = np.einsum("ik,ir->kr", tables.per_target, weights)
    n, total, squares, by_target, within, n_squared = per_target
    by_rater_cells = (tables.per_rater @ weights).T
    n_j, s_j = by_rater_cells[:, : tables.raters], by_rater_cells[:, tables.raters :]
    rated = n_j > 0
    by_rater = np.where(rated, s_j**2 / np.where(rated, n_j, 1.0), 0.0).sum(axis=1)
    return _Sums(
        n=n,
        a=weights.sum(axis=0),
        b=rated.sum(axis=1).astype(np.float64),
        k_a=n_squared / n,
        k_b=(n_j**2).sum(axis=1) / n,
        between_targets=by_target - total**2 / n,
        within_targets=within,
        within_raters=squares - by_rater,
    )


def _anova(design: _Design, ci: float) -> pd.DataFrame:
    """Balanced data: pingouin's mean squares, F tests and intervals (alpha = 1 - ci)."""
    import numpy as np
    from scipy.stats import f

    sums = _sums(_tables(design), np.ones((design.targets, 1)))
    n, k = design.targets, design.raters
    # numpy scalars, so that degenerate data (no spread) gives inf or NaN, not an error
    within = np.float64(sums.within_targets[0])
    sse = np.float64(sums.within_raters[0] - sums.between_targets[0])
    msb = np.float64(sums.between_targets[0]) / (n - 1)
    msj = (within - sse) / (k - 1)
    mse = sse / ((n - 1) * (k - 1))
    msw = within / (n * (k - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
        values: list[float] = [
            (msb - msw) / (msb + (k - 1) * msw),
            icc2,
            (msb - mse) / (msb + (k - 1) * mse),
            (msb - msw) / msb,
            (msb - mse) / (msb + (msj - mse) / n),
            (msb - mse) / msb,
        ]
        df1, df1d, df3d = n - 1, n * (k - 1), (n - 1) * (k - 1)
        one_way = (msb / msw, df1, df1d, float(f.sf(msb / msw, df1, df1d)))
        two_way = (msb / mse, df1, df3d, float(f.sf(msb / mse, df1, df3d)))
        lows, highs = _anova_intervals(msb, msj, mse, msw, icc2, n, k, ci)
    return _icc_frame(values, [one_way, two_way, two_way] * 2, lows, highs, "anova", design)


def _anova_intervals(
    msb: float, msj: float, mse: float, msw: float, icc2: float, n: int, k: int, ci: float
) -> tuple[list[float], list[float]]:
    """F-based intervals of the six forms, as pingouin (McGraw & Wong 1996) computes them."""
    from scipy.stats import f

    tail = 1 - (1 - ci) / 2
    df1, df1d, df3d = n - 1, n * (k - 1), (n - 1) * (k - 1)
    f1, f3 = msb / msw, msb / mse
    f1l, f1u = f1 / f.ppf(tail, df1, df1d), f1 * f.ppf(tail, df1d, df1)
    f3l, f3u = f3 / f.ppf(tail, df1, df3d), f3 * f.ppf(tail, df3d, df1)
    fj = msj / mse
    vn = df3d * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = df1 * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    f2u, f2l = f.ppf(tail, n - 1, vn / vd), f.ppf(tail, vn / vd, n - 1)
    l2 = n * (msb - f2u * mse) / (f2u * (k * msj + (k * n - k - n) * mse) + n * msb)
    u2 = n * (f2l * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f2l * msb)
    lows = [
        (f1l - 1) / (f1l + k - 1),
        l2,
        (f3l - 1) / (f3l + k - 1),
        1 - 1 / f1l,
        l2 * k / (1 + l2 * (k - 1)),
        1 - 1 / f3l,
    ]
    highs = [
        (f1u - 1) / (f1u + k - 1),
        u2,
        (f3u - 1) / (f3u + k - 1),
        1 - 1 / f1u,
        u2 * k / (1 + u2 * (k - 1)),
        1 - 1 / f3u,
    ]
    return lows, highs


def _henderson(sums: _Sums) -> FloatArray:
    """The six ICCs per replicate (rows), from Henderson's Method I moment equations.

    With at most one rating per cell and s_a, s_b, s_e the target, rater and error variances:
    E[within_targets] = (n - a)(s_b + s_e), E[within_raters] = (n - b)(s_a + s_e) and
    E[between_targets] = (n - k_a) s_a + (a - k_b) s_b + (a - 1) s_e. ICC1 uses the one-way
    ANOVA: s_a = (MSA - MSW) / n0 with n0 = (n - k_a) / (a - 1).
    """
    import numpy as np

    s = sums
    with np.errstate(divide="ignore", invalid="ignore"):
        row = s.within_targets / (s.n - s.a)  # s_b + s_e, also the one-way MSW
        column = s.within_raters / (s.n - s.b)  # s_a + s_e
        error = ((s.n - s.k_a) * column + (s.a - s.k_b) * row - s.between_targets) / (
            s.n - s.k_a - s.k_b + 1
        )
        error = np.maximum(error, 0.0)  # a variance: a negative estimate is taken as none
        target, rater = column - error, row - error
        k = s.n / s.a
        one_way = (s.between_targets / (s.a - 1) - row) / ((s.n - s.k_a) / (s.a - 1))
        forms = [
            one_way / (one_way + row),
            target / (target + rater + error),
            target / (target + error),
            one_way / (one_way + row / k),
            target / (target + (rater + error) / k),
            target / (target + error / k),
        ]
    # a share of variance is at most 1; beyond it only where a sample's components are noise
    return np.minimum(np.column_stack(forms), 1.0)


def _henderson_frame(design: _Design, ci: float, n_boot: int, seed: int) -> pd.DataFrame:
    import numpy as np
    from scipy.stats import f

    tables = _tables(design)
    sums = _sums(tables, np.ones((design.targets, 1)))
    n, a = float(sums.n[0]), design.targets
    if n <= a or n <= design.raters:
        who = "target" if n <= a else "rater"
        raise ReliabilityError(
            f"no {who} has two ratings: the variance components cannot be separated "
            f"({int(n)} ratings of {a} targets by {design.raters} raters)"
        )
    values = _henderson(sums)[0]
    msa = float(sums.between_targets[0]) / (a - 1)
    with np.errstate(divide="ignore", invalid="ignore"):  # no spread within targets: inf
        f1 = float(np.divide(msa, sums.within_targets[0] / (n - a)))
    nan = float("nan")
    one_way = (f1, a - 1, n - a, float(f.sf(f1, a - 1, n - a)))
    tests = [one_way, (nan, nan, nan, nan), (nan, nan, nan, nan)] * 2
    lows, highs = _bootstrap(design, tables, ci, n_boot, seed)
    return _icc_frame(list(values), tests, list(lows), list(highs), "henderson1+bootstrap", design)


def _bootstrap(
    design: _Design, tables: _Tables, ci: float, n_boot: int, seed: int
) -> tuple[FloatArray, FloatArray]:
    """Percentile interval of the six ICCs over ``n_boot`` resamples of the targets."""
    import warnings

    import numpy as np

    if n_boot == 0:
        return np.full(6, np.nan), np.full(6, np.nan)
    rng = np.random.default_rng(seed)
    a = design.targets
    block = max(1, _BLOCK_CELLS // a)
    replicates = []
    for start in range(0, n_boot, block):
        size = min(block, n_boot - start)
        cells = rng.integers(0, a, size=(size, a)) * size + np.arange(size)[:, None]
        weights = np.bincount(cells.ravel(), minlength=a * size).reshape(a, size)
        replicates.append(_henderson(_sums(tables, weights.astype(np.float64))))
    tail = 100 * (1 - ci) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN forms give NaN bounds
        lows, highs = np.nanpercentile(np.vstack(replicates), [tail, 100 - tail], axis=0)
    return lows, highs


def _icc_frame(
    values: list[float],
    tests: list[tuple[float, float, float, float]],
    lows: list[float],
    highs: list[float],
    estimator: str,
    design: _Design,
) -> pd.DataFrame:
    import pandas as pd

    rows = [
        {
            "Type": form,
            "Description": description,
            "ICC": float(value),
            "F": float(test[0]),
            "df1": float(test[1]),
            "df2": float(test[2]),
            "pval": float(test[3]),
            "ci_low": float(low),
            "ci_high": float(high),
            "estimator": estimator,
            "targets": design.targets,
            "raters": design.raters,
        }
        for (form, description), value, test, low, high in zip(
            ICC_FORMS.items(), values, tests, lows, highs, strict=True
        )
    ]
    return pd.DataFrame(rows, columns=ICC_COLUMNS)


# --- Krippendorff's alpha ------------------------------------------------------------------


def _alpha(
    data: pd.DataFrame, units: str, raters: str, ratings: str, metric: AlphaMetric
) -> tuple[float, int, int]:
    """Alpha, the number of pairable units (2+ ratings) and of their ratings."""
    import numpy as np

    if metric not in ("interval", "ordinal", "nominal"):
        raise ReliabilityError(f"metric must be 'interval', 'ordinal' or 'nominal', got {metric!r}")
    _require_columns(data, (units, raters, ratings), "data")
    y = _ratings(data, ratings)
    unit, n_units = _codes(data, units, "units")
    rater, n_raters = _codes(data, raters, "raters")
    _no_duplicates(data, unit, rater, n_raters, (units, raters))
    per_unit = np.bincount(unit, minlength=n_units)
    keep = per_unit[unit] >= 2
    if not keep.any():
        raise ReliabilityError(f"no unit (column {units!r}) has two ratings; alpha needs some")
    unit, y = np.unique(unit[keep], return_inverse=True)[1], y[keep]
    m = np.bincount(unit).astype(np.float64)
    n = len(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        if metric == "interval":
            means = np.bincount(unit, y) / m
            within = np.bincount(unit, (y - means[unit]) ** 2)
            observed = (n - 1) * float((m * within / (m - 1)).sum())
            # no variation at all: disagreement 0 of 0 expected, alpha undefined (NaN)
            alpha = 1 - np.divide(observed, n * float(((y - y.mean()) ** 2).sum()))
        else:
            alpha = _coincidence_alpha(unit, y, m, metric, ratings)
    return float(alpha), len(m), n


def _coincidence_alpha(
    unit: IntArray, y: FloatArray, m: FloatArray, metric: str, ratings: str
) -> float:
    import numpy as np
    from scipy import sparse

    levels, value = np.unique(y, return_inverse=True)
    if len(levels) > MAX_CATEGORIES:
        raise ReliabilityError(
            f"{metric} alpha builds a matrix over distinct ratings; column {ratings!r} has "
            f"{len(levels)} (at most {MAX_CATEGORIES}); use metric='interval' or bin the ratings"
        )
    v = len(levels)
    counts = sparse.csr_matrix((np.ones_like(y), (unit, value)), shape=(len(m), v))
    scaled = sparse.diags(1 / (m - 1)) @ counts
    coincidences = (counts.T @ scaled).toarray() - np.diag(np.asarray(scaled.sum(axis=0)).ravel())
    n_c = coincidences.sum(axis=1)
    if metric == "nominal":
        delta = 1.0 - np.eye(v)
    else:
        cumulative = np.cumsum(n_c)
        low, high = (
            np.minimum.outer(np.arange(v), np.arange(v)),
            np.maximum.outer(np.arange(v), np.arange(v)),
        )
        delta = (cumulative[high] - cumulative[low] + n_c[low] - (n_c[low] + n_c[high]) / 2) ** 2
    expected = (np.outer(n_c, n_c) - np.diag(n_c)) / (n_c.sum() - 1)
    return float(1 - (coincidences * delta).sum() / (expected * delta).sum())


# --- levels --------------------------------------------------------------------------------


def _slot_votes(votes: pd.DataFrame) -> pd.DataFrame:
    """Votes with an ``item`` code and their ``slot`` (1-based rank of the rater id in the
    item) and whether the slot is ``usual``: at most the most common number of votes per
    item (the smaller one on ties)."""
    frame = votes[list(_VOTE_COLUMNS)].sort_values(
        ["video_id", "question_id", "rater"], kind="stable"
    )
    grouped = frame.groupby(["video_id", "question_id"], sort=False)
    frame = frame.assign(item=grouped.ngroup(), slot=grouped.cumcount() + 1)
    usual = int(grouped.size().mode().min())
    return frame.assign(usual=frame["slot"] <= usual)


def _model_table(slotted: pd.DataFrame) -> pd.DataFrame:
    """Per model and slot: the mean score of the model's items in that slot."""
    used = slotted[slotted["usual"]]
    return used.groupby(["model", "slot"])["score"].mean().reset_index()


def _lacking(table: pd.DataFrame, target: str, rater: str) -> str | None:
    """Why a level's agreement is undefined (too few targets, raters or ratings, or no
    variance at all), or None."""
    if table[target].nunique() < 2:
        return "a single target"  # e.g. the one pair of a study of two models
    if table[rater].nunique() < 2:
        return "a single rater"  # e.g. a study rated by one automatic rater
    if table.groupby(target)[rater].nunique().max() < 2:
        return "one rating per target"  # e.g. one vote per item
    if table.groupby(rater)[target].nunique().max() < 2:
        return "one target per rater"
    if table["score"].nunique() < 2:
        return "every rating the same"  # no variance to share out
    return None


def _undefined_icc(table: pd.DataFrame, target: str, rater: str, why: str) -> pd.DataFrame:
    """NaN rows for a level whose agreement cannot be estimated, saying ``why``."""
    import pandas as pd

    nan = float("nan")
    rows = [
        {
            **dict.fromkeys(["ICC", "F", "df1", "df2", "pval", "ci_low", "ci_high"], nan),
            "Type": form,
            "Description": description,
            "estimator": f"undefined: {why}",
            "targets": int(table[target].nunique()),
            "raters": int(table[rater].nunique()),
        }
        for form, description in ICC_FORMS.items()
    ]
    return pd.DataFrame(rows, columns=ICC_COLUMNS)


def _alpha_row(level: str, metric: str, alpha: float, units: int, values: int) -> dict[str, object]:
    return {"level": level, "metric": metric, "alpha": alpha, "units": units, "values": values}


def _pair_table(slotted: pd.DataFrame) -> pd.DataFrame:
    """Per model pair (a < b) and slot: mean over shared questions of score_a - score_b."""
    import pandas as pd

    used = slotted[slotted["usual"]]
    wide = used.groupby(["slot", "question_id", "model"])["score"].mean().unstack("model")
    models = sorted(wide.columns)
    rows = []
    for i, first in enumerate(models):
        for second in models[i + 1 :]:
            difference = (wide[first] - wide[second]).dropna()
            for slot, mean in difference.groupby(level="slot").mean().items():
                rows.append({"pair": f"{first} vs {second}", "slot": slot, "score": float(mean)})
    return pd.DataFrame(rows, columns=["pair", "slot", "score"])

"""Paired significance tests between models, Holm's correction and significance tiers.

``wilcoxon_pairs(items)`` tests every pair of models on the questions both answered (frame
``wilcoxon`` of ``results.py``), ``holm(pvalues)`` adjusts p-values for multiple testing, and
``tiers(wilcoxon, means)`` groups models into tiers of statistically indistinguishable
models. Every frame carries its settings in ``frame.attrs["settings"]`` (method name and
parameters), so that a report can state them next to the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from numpy.typing import ArrayLike

__all__ = ["WILCOXON_COLUMNS", "holm", "rank_biserial", "tiers", "wilcoxon_pairs"]

WILCOXON_COLUMNS = (
    "scope",
    "model_a",
    "model_b",
    "n",
    "mean_a",
    "mean_b",
    "statistic",
    "pval",
    "pval_holm",
    "rank_biserial",
    "significant",
)


def wilcoxon_pairs(items: pd.DataFrame, scope: str = "all", alpha: float = 0.05) -> pd.DataFrame:
    """Wilcoxon signed-rank test for every pair of models on the questions both answered.

    ``items`` is ``Study.items`` (columns ``model, question_id, score`` and the scope column).
    With ``scope="all"`` every question is used and the ``scope`` column reads ``all``;
    with a column name (``"axis"``, ``"genre"``, ...) the tests run per category of that
    column and ``scope`` holds the category (items with an empty category, e.g. prompts
    without a temporal mode, are then left out). For each pair ``a < b`` (sorted names):

    - matched questions: ``question_id`` both models have a score for; a model with several
      videos of one question is scored by the mean of their item scores. ``n`` counts them,
      ``mean_a``/``mean_b`` are the models' means over them.
    - ``statistic``, ``pval``: ``scipy.stats.wilcoxon(a, b)``, two-sided, ``method="auto"``
      (exact for up to 50 differences without ties or zeros, exhaustive permutations for up
      to 13 with them, normal approximation with tie correction above). ``zero_method=
      "wilcox"``: questions on which both models score the same carry no information about
      which is better and are dropped before ranking, as in Wilcoxon's original test; this
      keeps ``statistic`` and ``rank_biserial`` on the same ranks. ``statistic`` is scipy's
      two-sided one: ``min(W+, W-)``. When every difference is zero the test is ``pval=1``.
    - ``rank_biserial``: matched-pairs rank-biserial correlation, Kerby's simple difference
      ``(W+ - W-) / (W+ + W-)`` on the ranks of the non-zero ``|a - b|``; positive when ``a``
      scores higher, 0 when every difference is zero.
    - ``pval_holm``: Holm's step-down adjustment (``holm``) over all pairs of one scope.
    - ``significant``: ``pval_holm < alpha``.

    A pair with no matched question gets ``n = 0``, NaN means, statistic and p-values, and
    ``significant = False``; it is left out of Holm's family (so it does not make the other
    pairs' correction stricter).
    """
    import pandas as pd

    _require(items, ["model", "question_id", "score"], "items")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    if scope != "all":
        _require(items, [scope], "items")
    rows: list[dict[str, Any]] = []
    models = sorted(items["model"].unique())
    groups = [("all", items)] if scope == "all" else _categories(items, scope)
    for key, part in groups:
        table = part.groupby(["question_id", "model"])["score"].mean().unstack("model")
        block = [_test_pair(table, key, a, b) for a, b in combinations(models, 2)]
        adjusted = holm([row["pval"] for row in block])
        for row, pval_holm in zip(block, adjusted, strict=True):
            row["pval_holm"] = float(pval_holm)
            row["significant"] = bool(pval_holm < alpha)
        rows.extend(block)
    frame = pd.DataFrame(rows, columns=list(WILCOXON_COLUMNS))
    frame.attrs["settings"] = {
        "method": "wilcoxon signed-rank, matched on question_id",
        "alternative": "two-sided",
        "zero_method": "wilcox",
        "correction": "holm",
        "effect_size": "rank-biserial (Kerby)",
        "alpha": alpha,
        "scope": scope,
    }
    return frame


def holm(pvalues: ArrayLike) -> np.ndarray:
    """Holm's step-down adjusted p-values, in the order given.

    With the ``m`` finite p-values sorted ascending, ``p_(1) <= ... <= p_(m)``, the adjusted
    ``p~_(i) = min(1, max_{j <= i} (m - j + 1) p_(j))`` (the same formula as statsmodels'
    ``multipletests(method="holm")``). NaN p-values stay NaN and are not counted in ``m``.
    """
    import numpy as np

    values = np.asarray(pvalues, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"pvalues must be one-dimensional, got shape {values.shape}")
    finite = ~np.isnan(values)
    if bool(((values[finite] < 0) | (values[finite] > 1)).any()):
        raise ValueError("pvalues must lie between 0 and 1 (or be NaN)")
    adjusted = np.full(values.shape, np.nan)
    order = np.flatnonzero(finite)[np.argsort(values[finite], kind="stable")]
    m = order.size
    steps = (m - np.arange(m)) * values[order]
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(steps))
    return adjusted


def tiers(wilcoxon: pd.DataFrame, means: Mapping[str, float] | pd.Series) -> list[list[str]]:
    """Group models into tiers of models not significantly worse than the tier's best.

    Models are sorted by ``means`` (best first, ties by name). The first tier starts with
    the best model and takes the following models, in order, as long as each one is NOT
    significantly different from that first model (``significant`` in ``wilcoxon``); the
    first model that is starts the next tier, and so on. A tier is thus a run of adjacent
    models and every member is indistinguishable from its leader (though not necessarily
    from each other). ``wilcoxon`` must hold one scope and a row for every pair of models in
    ``means`` (either order).
    """
    _require(wilcoxon, ["scope", "model_a", "model_b", "significant"], "wilcoxon")
    scopes = sorted(set(wilcoxon["scope"]))
    if len(scopes) > 1:
        raise ValueError(
            f"tiers needs the tests of one scope, got {len(scopes)} "
            f"({', '.join(map(str, scopes))}); filter the frame first, "
            "e.g. wilcoxon[wilcoxon['scope'] == 'all']"
        )
    significant = {
        frozenset((str(a), str(b))): bool(s)
        for a, b, s in zip(
            wilcoxon["model_a"], wilcoxon["model_b"], wilcoxon["significant"], strict=True
        )
    }
    scores = {str(model): float(mean) for model, mean in means.items()}
    order = sorted(scores, key=lambda model: (-scores[model], model))
    result: list[list[str]] = []
    for model in order:
        if result and not _differs(significant, result[-1][0], model):
            result[-1].append(model)
        else:
            result.append([model])
    return result


def _differs(significant: dict[frozenset[str], bool], leader: str, model: str) -> bool:
    key = frozenset((leader, model))
    if key not in significant:
        raise ValueError(f"the wilcoxon frame has no test for the pair {leader!r}, {model!r}")
    return significant[key]


def _test_pair(table: pd.DataFrame, scope: str, a: str, b: str) -> dict[str, Any]:
    import numpy as np
    from scipy import stats

    row: dict[str, Any] = {"scope": scope, "model_a": a, "model_b": b, "n": 0}
    nan = float("nan")
    row.update(mean_a=nan, mean_b=nan, statistic=nan, pval=nan, rank_biserial=nan)
    if a not in table or b not in table:
        return row
    matched = table[[a, b]].dropna()
    x, y = matched[a].to_numpy(float), matched[b].to_numpy(float)
    row.update(n=len(matched))
    if not len(matched):
        return row
    row.update(mean_a=float(x.mean()), mean_b=float(y.mean()))
    differences = x - y
    if not bool(np.any(differences != 0)):
        row.update(statistic=0.0, pval=1.0, rank_biserial=0.0)
        return row
    result = stats.wilcoxon(x, y, zero_method="wilcox", alternative="two-sided")
    row.update(
        statistic=float(result.statistic),
        pval=float(result.pvalue),
        rank_biserial=rank_biserial(differences),
    )
    return row


def rank_biserial(differences: np.ndarray) -> float:
    """Kerby's matched-pairs rank-biserial ``(W+ - W-) / (W+ + W-)``, zeros dropped."""
    import numpy as np
    from scipy import stats

    nonzero = differences[differences != 0]
    if not nonzero.size:
        return 0.0
    ranks = stats.rankdata(np.abs(nonzero))
    plus, minus = float(ranks[nonzero > 0].sum()), float(ranks[nonzero < 0].sum())
    return (plus - minus) / (plus + minus)


def _categories(items: pd.DataFrame, column: str) -> list[tuple[str, pd.DataFrame]]:
    """Items per non-empty category of ``column``, sorted by category."""
    labelled = items[items[column].notna() & (items[column].astype(str) != "")]
    return [(str(key), part) for key, part in labelled.groupby(column, sort=True)]


def _require(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(
            f"{name} lacks column(s) {', '.join(missing)}; expected at least {', '.join(columns)}"
        )

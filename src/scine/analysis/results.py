"""What an analysis produces: tidy frames with fixed columns, and the settings behind them.

Every frame is a pandas DataFrame in long form. Column contracts:

- ``scores``: ``scope, key, model, mean, ci_low, ci_high, mean01, ci01_low, ci01_high,
  items, prompts``. ``scope`` is one of ``SCOPES``; ``key`` the category within it (an axis
  id, a group id, a leaf id, ``leaf=value``, a genre, ``basic``/``advanced``, a role, a
  temporal mode, ``scripts``/``visuals``, or ``all`` for ``overall``). Means are over items
  (one item = one video x question, scored by the mean of its votes); 95% intervals are
  percentile bootstrap intervals resampling prompts (clustered), not rows.
- ``icc``: ``level, Type, Description, ICC, F, df1, df2, pval, ci_low, ci_high, estimator,
  targets, raters``: the six Shrout-Fleiss forms (``ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k``)
  per ``level`` (``item``, ``model``, ``pair``).
- ``alpha``: ``level, metric, alpha, units, values`` (Krippendorff's alpha, ``ordinal`` and
  ``interval``).
- ``wilcoxon``: ``scope, model_a, model_b, n, mean_a, mean_b, statistic, pval, pval_holm,
  rank_biserial, significant``: one row per model pair on matched questions.
- ``tiers``: a list of lists of models, best tier first.
- ``bradley_terry``: ``scope, model, strength, elo, ci_low, ci_high, wins, losses, ties``:
  Bradley-Terry MLE per scope (``all`` or an axis id); ``elo`` is the strength on the Elo
  scale (1000 + 400 log10 strength, centred), with a bootstrap interval over prompts.
- ``elo``: ``scope, model, elo, games``: online Elo over the matches (K and orderings in the
  settings).
- ``correlations``: ``scope, a, b, rho, pval, models``: Spearman correlation of per-model
  mean scores between categories ``a`` and ``b`` of one scope.
- ``coverage``: per model, its ``items``, ``questions`` and ``axes`` rated; ``uneven`` says
  in words when the models were rated on questions too different for their means to
  compare alike (``pipeline.SHARED_ENOUGH``), else None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

SCOPES = (
    "overall",
    "axis",
    "group",
    "leaf",
    "value",
    "genre",
    "difficulty",
    "role",
    "temporal",
    "split",
)


@dataclass
class Analysis:
    """All results of one analysis run."""

    models: list[str]
    scores: pd.DataFrame
    icc: pd.DataFrame
    alpha: pd.DataFrame
    wilcoxon: pd.DataFrame
    tiers: list[list[str]]
    bradley_terry: pd.DataFrame
    elo: pd.DataFrame
    correlations: pd.DataFrame
    settings: dict[str, Any]
    excluded: dict[str, int]
    counts: dict[str, int] = field(default_factory=dict)
    coverage: dict[str, dict[str, Any]] = field(default_factory=dict)
    uneven: str | None = None

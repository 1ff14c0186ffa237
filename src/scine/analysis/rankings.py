"""Pairwise preferences between models and the rankings built on them.

- ``preferences(votes, items)``: one row per match, a question rated for two videos of one
  prompt from different models, with its outcome under a stated tie policy.
- ``bradley_terry(matches)``: Bradley-Terry strengths per scope (frame ``bradley_terry`` of
  ``results.py``), with a bootstrap interval over prompts.
- ``elo(matches)``: online Elo averaged over seeded random orders of the matches (frame
  ``elo``).
- ``spearman_between(items, scope)``: Spearman correlation across models of their mean
  scores in two categories of one scope (frame ``correlations``).

Every frame carries its method and settings in ``frame.attrs["settings"]`` (``tie_margin``,
``ties``, ``prior``, ``n_boot``, ``k``, ``orderings``, ``seed``, ...), so that a report can
state them next to the numbers; ``bradley_terry`` and ``elo`` copy the settings of the
matches they were given under ``"matches"``.
"""

from __future__ import annotations

from functools import cache
from itertools import combinations, permutations
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    import pandas as pd

__all__ = [
    "BRADLEY_TERRY_COLUMNS",
    "CORRELATION_COLUMNS",
    "ELO_COLUMNS",
    "MATCH_COLUMNS",
    "bradley_terry",
    "elo",
    "match_videos",
    "preferences",
    "spearman_between",
]

MATCH_COLUMNS = (
    "prompt_id",
    "question_id",
    "node",
    "axis",
    "model_a",
    "model_b",
    "score_a",
    "score_b",
    "outcome",
)
BRADLEY_TERRY_COLUMNS = (
    "scope",
    "model",
    "strength",
    "elo",
    "ci_low",
    "ci_high",
    "wins",
    "losses",
    "ties",
)
ELO_COLUMNS = ("scope", "model", "elo", "games")
CORRELATION_COLUMNS = ("scope", "a", "b", "rho", "pval", "models")
Design = Literal["auto", "pairs", "round_robin"]
Ties = Literal["half", "drop"]

_UNIT = ["prompt_id", "question_id", "node", "axis", "model", "video_id"]
_TOLERANCE = 1e-9  # float slack when comparing a score difference with tie_margin
_MM_TOL = 1e-12  # MM stops when one step moves no log-strength by more than this
_MM_MAX_ITER = 100_000
_EXACT_MODELS = 8  # exact Spearman p-values up to this many models (8! orderings)


def preferences(
    votes: pd.DataFrame, items: pd.DataFrame, tie_margin: float = 0.0, design: Design = "auto"
) -> pd.DataFrame:
    """Matches between models: a question rated for two videos of one prompt, two models.

    ``design`` says which videos meet:

    - ``"pairs"``: the side-by-side pairs of the study. Videos shown together (same
      ``pair_id`` in ``votes``) meet on every question rated for both; each side's score is
      the mean of the votes it got in that pair (the item score when, as in the paper, a
      video is rated in one pair only). A pair with one recorded video yields no match.
    - ``"round_robin"``: every two videos of different models on each question of
      ``items``, scored by their item scores (``Study.items``: the mean of all votes).
    - ``"auto"`` (default): ``"pairs"`` when every vote carries a ``pair_id``,
      ``"round_robin"`` when none does; a mix is an error (choose explicitly).

    ``outcome`` is ``"a"`` or ``"b"`` for the side with the higher score, ``"tie"`` when
    ``|score_a - score_b| <= tie_margin`` (the tie policy, with 1e-9 of slack for rounding;
    the default 0 calls a tie only on equal means, e.g. votes 4, 4, 3 against 3, 4, 4).
    ``model_a < model_b`` (sorted names); rows are sorted by prompt, question, models and
    video, so the frame is the same for the same input. ``attrs["settings"]`` holds
    ``design`` and ``tie_margin``.
    """
    import pandas as pd

    if not tie_margin >= 0:
        raise ValueError(f"tie_margin must be a score difference >= 0, got {tie_margin}")
    chosen = _design(votes, design)
    if chosen == "pairs":
        _require(votes, [*_UNIT, "pair_id", "score"], "votes")
        paired = votes[_has_pair(votes)]
        if paired.empty:
            raise ValueError("design='pairs' needs votes with a pair_id; none has one")
        units = paired.groupby(["pair_id", *_UNIT], sort=True)["score"].mean().reset_index()
        key = ["pair_id", "prompt_id", "question_id", "node", "axis"]
    else:
        _require(items, [*_UNIT, "score"], "items")
        units = items[[*_UNIT, "score"]]
        key = ["prompt_id", "question_id", "node", "axis"]
    matches = units.merge(units, on=key, suffixes=("_a", "_b"))
    matches = matches[matches["model_a"] < matches["model_b"]]
    order = ["prompt_id", "question_id", "model_a", "model_b", "video_id_a", "video_id_b"]
    matches = matches.sort_values(order + key[:1] if chosen == "pairs" else order)
    difference = matches["score_a"] - matches["score_b"]
    outcome = pd.Series("tie", index=matches.index, dtype=object)
    outcome[difference > tie_margin + _TOLERANCE] = "a"
    outcome[difference < -tie_margin - _TOLERANCE] = "b"
    matches = matches.assign(outcome=outcome)[list(MATCH_COLUMNS)].reset_index(drop=True)
    score = "mean of the pair's votes" if chosen == "pairs" else "item score (mean of all votes)"
    matches.attrs["settings"] = {
        "method": "preferences",
        "design": chosen,
        "score": score,
        "tie_margin": tie_margin,
    }
    return matches


def match_videos(matches: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """``matches`` with the two videos that met, ``video_id_a`` and ``video_id_b``, found by
    question and model in ``items``. ``ValueError`` when a model has several videos rated
    on one question: matches are made per model, so which video met would be unknown."""
    videos = items[["question_id", "model", "video_id"]].drop_duplicates()
    if videos.duplicated(["question_id", "model"]).any():
        raise ValueError(
            "a model has several videos rated on one question: pairs are made per model, "
            "so keep one video per (prompt, model)"
        )
    for side in ("a", "b"):
        named = {"model": f"model_{side}", "video_id": f"video_id_{side}"}
        matches = matches.merge(videos.rename(columns=named), on=["question_id", f"model_{side}"])
    return matches


def bradley_terry(
    matches: pd.DataFrame,
    scope_column: str | None = "axis",
    ties: Ties = "half",
    n_boot: int = 200,
    seed: int = 0,
    prior: float = 0.5,
) -> pd.DataFrame:
    """Bradley-Terry strengths per scope: ``all`` and each value of ``scope_column``.

    ``P(i beats j) = p_i / (p_i + p_j)``. The strengths maximise the likelihood of the
    matches (``preferences``) by Hunter's (2004) MM algorithm on a models x models matrix of
    win counts. ``ties="half"`` counts a tie as half a win for each side; ``ties="drop"``
    leaves ties out of the fit. Each model also gets ``prior`` wins and ``prior`` losses
    (default 0.5 each) against a virtual opponent of strength 1, so a model that never wins
    or never loses still gets a finite strength; this shrinks log-strengths slightly towards
    the middle, where that opponent sits (the prior's score equations make the mean of
    ``tanh(log(p_i) / 2)`` zero). Strengths are then divided by their geometric mean, so the
    geometric mean is 1, and ``elo = 1000 + 400 log10(strength)`` (mean 1000).

    ``ci_low``/``ci_high``: 95% percentile interval of ``elo`` over ``n_boot`` bootstrap
    replicates resampling prompts (clustered: all matches of a drawn prompt, in every scope
    alike), seeded by ``seed``; NaN when ``n_boot`` is 0. ``wins, losses, ties`` are the raw
    counts of the model's matches in the scope, whatever ``ties`` says. A model appears in a
    scope where it has at least one match. Rows: scope ``all`` first, then the categories
    sorted; models sorted by name.
    """
    import numpy as np
    import pandas as pd

    _require(matches, ["prompt_id", "model_a", "model_b", "outcome"], "matches")
    _check_outcomes(matches)
    if ties not in ("half", "drop"):
        raise ValueError(f"ties must be 'half' or 'drop', got {ties!r}")
    if n_boot < 0:
        raise ValueError(f"n_boot must be >= 0, got {n_boot}")
    if not prior > 0:
        raise ValueError(f"prior must be > 0 (wins against the virtual opponent), got {prior}")
    models, a, b = _codes(matches)
    prompts, prompt = np.unique(matches["prompt_id"].astype(str).to_numpy(), return_inverse=True)
    outcome = matches["outcome"].to_numpy()
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(prompts), np.full(len(prompts), 1 / len(prompts)), size=n_boot)
    rows: list[dict[str, Any]] = []
    for scope, mask in _scopes(matches, scope_column):
        counts = _counts(a[mask], b[mask], outcome[mask], len(models))
        present = np.flatnonzero(counts.sum(axis=1) > 0)
        per_prompt = _win_tensor(
            prompt[mask], a[mask], b[mask], outcome[mask], len(prompts), len(models), ties
        )[:, present][:, :, present]
        stack = np.concatenate([per_prompt.sum(axis=0)[None], _resample(per_prompt, draws)])
        strength = _mm(stack, prior)
        strength /= np.exp(np.log(strength).mean(axis=1, keepdims=True))
        ratings = 1000.0 + 400.0 * np.log10(strength)
        low, high = _interval(ratings[1:], len(present))
        for column, index in enumerate(present):
            rows.append(
                {
                    "scope": scope,
                    "model": models[index],
                    "strength": float(strength[0, column]),
                    "elo": float(ratings[0, column]),
                    "ci_low": float(low[column]),
                    "ci_high": float(high[column]),
                    "wins": int(counts[index, 0]),
                    "losses": int(counts[index, 1]),
                    "ties": int(counts[index, 2]),
                }
            )
    frame = pd.DataFrame(rows, columns=list(BRADLEY_TERRY_COLUMNS))
    frame.attrs["settings"] = {
        "method": "bradley-terry MLE (MM, Hunter 2004)",
        "ties": ties,
        "prior": prior,
        "n_boot": n_boot,
        "seed": seed,
        "ci": 0.95,
        "bootstrap": "prompts (clustered), percentile interval",
        "scope_column": scope_column,
        "matches": dict(matches.attrs.get("settings", {})),
    }
    return frame


def elo(
    matches: pd.DataFrame,
    scope_column: str | None = "axis",
    k: float = 4.0,
    orderings: int = 10,
    seed: int = 0,
    initial: float = 1000.0,
) -> pd.DataFrame:
    """Online Elo ratings per scope, averaged over ``orderings`` seeded random match orders.

    Every model starts at ``initial``. A match of ``a`` against ``b`` expects
    ``E = 1 / (1 + 10 ** ((R_b - R_a) / 400))`` for ``a`` and scores ``S`` = 1 (a wins),
    0.5 (tie) or 0 (b wins); then ``R_a += k (S - E)`` and ``R_b -= k (S - E)``. Online Elo
    depends on the order of the matches, which has no meaning in a study, so the matches
    are replayed in ``orderings`` random orders (one permutation of all matches per
    ordering, drawn from ``seed``, which every scope follows) and the final ratings are
    averaged. Scopes: ``all`` and each value of ``scope_column``; ``games`` counts the
    model's matches in the scope. Rows: scope ``all`` first, then the categories sorted;
    models sorted by name.
    """
    import numpy as np
    import pandas as pd

    _require(matches, ["model_a", "model_b", "outcome"], "matches")
    _check_outcomes(matches)
    if not k > 0:
        raise ValueError(f"k must be > 0, got {k}")
    if orderings < 1:
        raise ValueError(f"orderings must be >= 1, got {orderings}")
    models, a, b = _codes(matches)
    result = np.select([matches["outcome"] == "a", matches["outcome"] == "b"], [1.0, 0.0], 0.5)
    rng = np.random.default_rng(seed)
    shuffles = [rng.permutation(len(matches)) for _ in range(orderings)]
    rows: list[dict[str, Any]] = []
    for scope, mask in _scopes(matches, scope_column):
        games = np.bincount(a[mask], minlength=len(models)) + np.bincount(
            b[mask], minlength=len(models)
        )
        total = np.zeros(len(models))
        for shuffle in shuffles:
            order = shuffle[mask[shuffle]]
            total += _online_elo(
                a[order].tolist(),
                b[order].tolist(),
                result[order].tolist(),
                len(models),
                k,
                initial,
            )
        for index in np.flatnonzero(games):
            rows.append(
                {
                    "scope": scope,
                    "model": models[index],
                    "elo": float(total[index] / orderings),
                    "games": int(games[index]),
                }
            )
    frame = pd.DataFrame(rows, columns=list(ELO_COLUMNS))
    frame.attrs["settings"] = {
        "method": "online elo, averaged over random orders",
        "k": k,
        "orderings": orderings,
        "seed": seed,
        "initial": initial,
        "tie": 0.5,
        "scope_column": scope_column,
        "matches": dict(matches.attrs.get("settings", {})),
    }
    return frame


def spearman_between(
    items: pd.DataFrame, scope: str, keys: Sequence[str] | None = None
) -> pd.DataFrame:
    """Spearman correlation across models of their mean item scores in two categories.

    For every pair of categories ``(a, b)`` of column ``scope`` (``keys`` in the order
    given, or every non-empty category sorted), each model's mean item score in ``a`` and
    in ``b`` is computed, and ``rho`` is ``scipy.stats.spearmanr`` across the ``models``
    that have both. ``pval`` (two-sided) is exact for up to 8 models (the share of all
    orderings of the models whose ``|rho|`` is at least as large; scipy's t approximation
    is far off there, e.g. 1e-24 for rho = 1 with 5 models instead of 2/120) and scipy's t
    approximation above. ``rho`` and ``pval`` are NaN with fewer than 3 such models or when
    one side is constant. E.g. ``spearman_between(items, "temporal", ["causal",
    "sequential"])``.
    """
    import pandas as pd

    _require(items, ["model", "score", scope], "items")
    labels = items[scope].astype(str)
    found = sorted(set(labels[items[scope].notna() & (labels != "")]))
    categories = found if keys is None else list(dict.fromkeys(str(key) for key in keys))
    unknown = [key for key in categories if key not in found]
    if unknown:
        raise ValueError(
            f"no items with {scope} = {', '.join(map(repr, unknown))}; "
            f"expected one of {', '.join(found) or '(none)'}"
        )
    keep = labels.isin(categories).to_numpy()
    chosen = pd.DataFrame(
        {
            "model": items["model"].to_numpy()[keep],
            "category": labels.to_numpy()[keep],
            "score": items["score"].to_numpy(float)[keep],
        }
    )
    means = chosen.groupby(["model", "category"])["score"].mean().unstack("category")
    rows = []
    for first, second in combinations(categories, 2):
        both = means[[first, second]].dropna()
        rho = pval = float("nan")
        if len(both) >= 3 and both[first].nunique() > 1 and both[second].nunique() > 1:
            rho, pval = _spearman(both[first].to_numpy(float), both[second].to_numpy(float))
        rows.append(
            {"scope": scope, "a": first, "b": second, "rho": rho, "pval": pval, "models": len(both)}
        )
    frame = pd.DataFrame(rows, columns=list(CORRELATION_COLUMNS))
    frame.attrs["settings"] = {
        "method": "spearman across models of mean item scores",
        "pval": f"exact permutation up to {_EXACT_MODELS} models, t approximation above",
        "scope": scope,
        "keys": list(categories),
    }
    return frame


def _spearman(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Spearman's rho and its two-sided p-value (exact up to ``_EXACT_MODELS`` values)."""
    import numpy as np
    from scipy import stats

    result = stats.spearmanr(x, y)
    rho = float(result.statistic)
    if len(x) > _EXACT_MODELS:
        return rho, float(result.pvalue)
    rank_x = stats.rankdata(x) - (len(x) + 1) / 2
    rank_y = stats.rankdata(y) - (len(y) + 1) / 2
    null = rank_y[_permutations(len(x))] @ rank_x
    null /= np.sqrt((rank_x**2).sum() * (rank_y**2).sum())
    return rho, float(np.mean(np.abs(null) >= abs(rho) - _TOLERANCE))


@cache
def _permutations(n: int) -> np.ndarray:
    """All orderings of ``range(n)``, one per row."""
    import numpy as np

    return np.array(list(permutations(range(n))), dtype=np.intp)


def _design(votes: pd.DataFrame, design: Design) -> Literal["pairs", "round_robin"]:
    if design not in ("auto", "pairs", "round_robin"):
        raise ValueError(f"design must be 'auto', 'pairs' or 'round_robin', got {design!r}")
    if design != "auto":
        return design
    if "pair_id" not in votes.columns:
        return "round_robin"
    has_pair = _has_pair(votes)
    if bool(has_pair.all()):
        return "pairs"
    if not bool(has_pair.any()):
        return "round_robin"
    raise ValueError(
        f"{int(has_pair.sum())} of {len(votes)} votes carry a pair_id: choose "
        "design='pairs' (matches from those votes' pairs only) or design='round_robin' "
        "(every two models on each question, from the item scores)"
    )


def _has_pair(votes: pd.DataFrame) -> pd.Series:
    return votes["pair_id"].notna() & (votes["pair_id"].astype(str) != "")


def _check_outcomes(matches: pd.DataFrame) -> None:
    if matches.empty:
        raise ValueError("no matches to rank (preferences found no two models on a question)")
    bad = ~matches["outcome"].isin(["a", "b", "tie"])
    if bool(bad.any()):
        shown = ", ".join(map(repr, sorted(set(matches.loc[bad, "outcome"].astype(str)))[:5]))
        raise ValueError(f"outcome must be 'a', 'b' or 'tie', got {shown}")
    if bool((matches["model_a"] == matches["model_b"]).any()):
        raise ValueError("a match needs two different models (model_a == model_b found)")


def _codes(matches: pd.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Sorted model names and the integer codes of ``model_a`` and ``model_b``."""
    import numpy as np

    both = np.concatenate([matches["model_a"].astype(str), matches["model_b"].astype(str)])
    names, codes = np.unique(both, return_inverse=True)
    return [str(name) for name in names], codes[: len(matches)], codes[len(matches) :]


def _scopes(matches: pd.DataFrame, column: str | None) -> list[tuple[str, np.ndarray]]:
    """``("all", every match)`` and one boolean mask per non-empty value of ``column``."""
    import numpy as np

    scopes = [("all", np.ones(len(matches), dtype=bool))]
    if column is None:
        return scopes
    _require(matches, [column], "matches")
    labels = matches[column].astype(str).to_numpy()
    valid = matches[column].notna().to_numpy() & (labels != "")
    for value in sorted(set(labels[valid])):
        scopes.append((value, valid & (labels == value)))
    return scopes


def _counts(a: np.ndarray, b: np.ndarray, outcome: np.ndarray, n: int) -> np.ndarray:
    """Raw ``(wins, losses, ties)`` per model, shape ``(n, 3)``."""
    import numpy as np

    counts = np.zeros((n, 3), dtype=np.int64)
    for column, (first, second) in enumerate([("a", "b"), ("b", "a"), ("tie", "tie")]):
        counts[:, column] += np.bincount(a[outcome == first], minlength=n)
        counts[:, column] += np.bincount(b[outcome == second], minlength=n)
    return counts


def _win_tensor(
    prompt: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    outcome: np.ndarray,
    prompts: int,
    n: int,
    ties: Ties,
) -> np.ndarray:
    """Effective wins ``W[p, i, j]`` of model i over model j on prompt p under ``ties``."""
    import numpy as np

    tie_weight = 0.5 if ties == "half" else 0.0
    wins = np.zeros((prompts, n, n))
    for winner, loser, weight in [
        (a, b, np.select([outcome == "a", outcome == "tie"], [1.0, tie_weight], 0.0)),
        (b, a, np.select([outcome == "b", outcome == "tie"], [1.0, tie_weight], 0.0)),
    ]:
        np.add.at(wins, (prompt, winner, loser), weight)
    return wins


def _resample(per_prompt: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Win matrices of the bootstrap replicates: ``draws[r, p]`` copies of prompt p."""
    n = per_prompt.shape[1]
    flat = per_prompt.reshape(per_prompt.shape[0], n * n)
    resampled: np.ndarray = (draws @ flat).reshape(draws.shape[0], n, n)
    return resampled


def _mm(wins: np.ndarray, prior: float) -> np.ndarray:
    """Bradley-Terry strengths by Hunter's MM algorithm, for a stack of win matrices.

    ``wins[r, i, j]`` are the (effective) wins of i over j in problem r. Each model also
    has ``prior`` wins and ``prior`` losses against a virtual opponent of strength 1. The
    fixed point solves, for every i, the score equations
    ``W_i + prior = p_i (sum_j N_ij / (p_i + p_j) + 2 prior / (p_i + 1))``
    with ``W_i = sum_j wins_ij`` and ``N = wins + wins^T``. With ``prior = 0`` this is the
    plain MLE (which exists only if the win graph is strongly connected), with geometric
    mean 1.

    Plain MM crawls in two cases, so each MM step is followed by the exact best common
    shift of the log-strengths (``_best_shift``; the likelihood ascends, the fixed point is
    the same), and the map is accelerated by SQUAREM (Varadhan & Roland 2008, scheme S3):
    each round extrapolates from two MM steps, takes one more step from there, and keeps
    the result only if the penalised log-likelihood is at least that of the two plain
    steps. Without them: hundreds of thousands of steps with many matches (the scale moves
    by ``1 - prior / games`` per step) and tens of thousands when a model almost never
    loses. A problem is done when one step moves none of its log-strengths by more than
    ``_MM_TOL``.
    """
    import numpy as np

    shape = wins.shape[:-1]
    wins = wins.reshape(-1, *wins.shape[-2:])
    theta = np.zeros(wins.shape[:-1])
    active = np.arange(len(wins))
    for _ in range(_MM_MAX_ITER):
        problem = _Problem(wins[active], prior)
        current = theta[active]
        first = problem.step(current)
        residual = first - current
        done = np.abs(residual).max(axis=-1, initial=0.0) < _MM_TOL
        theta[active[done]] = first[done]
        active, problem = active[~done], problem.select(~done)
        if not active.size:
            strength: np.ndarray = np.exp(theta).reshape(shape)
            return strength
        current, first, residual = current[~done], first[~done], residual[~done]
        second = problem.step(first)
        curvature = second - 2 * first + current
        norm_r = np.sqrt((residual**2).sum(axis=-1, keepdims=True))
        norm_v = np.sqrt((curvature**2).sum(axis=-1, keepdims=True))
        alpha = np.minimum(-norm_r / np.where(norm_v > 0, norm_v, np.inf), -1.0)
        with np.errstate(all="ignore"):
            jump = problem.step(current - 2 * alpha * residual + alpha**2 * curvature)
            better = np.isfinite(jump).all(axis=-1) & (
                problem.log_likelihood(jump) >= problem.log_likelihood(second)
            )
        theta[active] = np.where(better[:, None], jump, second)
    raise RuntimeError(f"Bradley-Terry MM did not converge in {_MM_MAX_ITER} rounds")


class _Problem:
    """A stack of Bradley-Terry problems: wins, games and the prior."""

    def __init__(self, wins: np.ndarray, prior: float) -> None:
        import numpy as np

        self.wins, self.prior = wins, prior
        self.games = wins + np.swapaxes(wins, -1, -2)
        self.won = wins.sum(axis=-1)
        self.total = np.log(self.won + prior)

    def select(self, keep: np.ndarray) -> _Problem:
        """The problems where ``keep`` is true."""
        return _Problem(self.wins[keep], self.prior)

    def step(self, theta: np.ndarray) -> np.ndarray:
        """One MM update (Hunter 2004) of log-strengths ``theta``, with the prior."""
        import numpy as np

        p = np.exp(theta)
        pair = self.games / (p[:, :, None] + p[:, None, :])
        updated: np.ndarray = self.total - np.log(pair.sum(axis=-1) + 2 * self.prior / (p + 1))
        if self.prior == 0:
            updated -= updated.mean(axis=-1, keepdims=True)
        else:
            updated += _best_shift(updated)
        return updated

    def log_likelihood(self, theta: np.ndarray) -> np.ndarray:
        """Penalised log-likelihood of each problem."""
        import numpy as np

        p = np.exp(theta)
        pairs = 0.5 * (self.games * np.log(p[:, :, None] + p[:, None, :])).sum(axis=(-1, -2))
        prior = self.prior * (theta - 2 * np.log1p(p)).sum(axis=-1)
        total: np.ndarray = (self.won * theta).sum(axis=-1) - pairs + prior
        return total


def _best_shift(theta: np.ndarray) -> np.ndarray:
    """The common shift ``c`` of each row of log-strengths that maximises the likelihood.

    The Bradley-Terry part does not change when every log-strength moves by ``c``; the
    prior's part is largest where ``sum_i tanh((theta_i + c) / 2) = 0``, solved here by
    Newton's method kept inside the bracket ``[-max theta, -min theta]`` (bisection when a
    step leaves it). Plain MM moves this one direction by a factor ``1 - prior / games``
    per step, far too slowly with many matches.
    """
    import numpy as np

    low = -theta.max(axis=-1, keepdims=True)
    high = -theta.min(axis=-1, keepdims=True)
    shift: np.ndarray = -theta.mean(axis=-1, keepdims=True)
    for _ in range(100):
        value = np.tanh((theta + shift) / 2)
        total = value.sum(axis=-1, keepdims=True)
        low = np.where(total < 0, shift, low)
        high = np.where(total > 0, shift, high)
        slope = 0.5 * (1 - value**2).sum(axis=-1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = shift - total / slope
        inside = (newton > low) & (newton < high)
        updated = np.where(inside, newton, (low + high) / 2)
        moved = float(np.max(np.abs(updated - shift), initial=0.0))
        shift = updated
        if moved < 1e-15:
            break
    return shift


def _interval(ratings: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """95% percentile interval per column of bootstrap ``ratings``; NaN without replicates."""
    import numpy as np

    if not len(ratings):
        return np.full(n, np.nan), np.full(n, np.nan)
    low, high = np.percentile(ratings, [2.5, 97.5], axis=0)
    return low, high


def _online_elo(
    a: list[int], b: list[int], result: list[float], n: int, k: float, initial: float
) -> list[float]:
    """Final ratings after playing the matches in the order given (``result`` for a)."""
    ratings = [initial] * n
    for i, j, score in zip(a, b, result, strict=True):
        rating_a, rating_b = ratings[i], ratings[j]
        delta = k * (score - 1.0 / (1.0 + 10.0 ** ((rating_b - rating_a) / 400.0)))
        ratings[i] = rating_a + delta
        ratings[j] = rating_b - delta
    return ratings


def _require(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(
            f"{name} lacks column(s) {', '.join(missing)}; expected at least {', '.join(columns)}"
        )

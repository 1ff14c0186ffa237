"""One self-contained HTML report of an analysis: header, leaderboard, figures, tables, methods.

``write_report(analysis, manifest, plots, out_path)`` renders the Jinja2 template
``templates/report.html.j2`` (package data) into a single file: CSS inline, figures embedded
as base64 data URIs (the SVG of a figure when there is one, else its PNG), no external
resources and no script. Every string is escaped (autoescape). The report carries no date,
so the same inputs give the same bytes.

Numbers: scores with 3 decimals, Elo with 1, p-values with 3 decimals (or 3 significant
digits in scientific notation below 0.001), counts with thousands separators; a missing
number (NaN) is shown as an en dash.

The manifest is printed in full. Keys read from it when present: ``scine_version`` and
``taxonomy_version`` (compared with the installed ones in the header), ``study_folder``,
and every key named ``seed`` or ending in ``_seed`` (listed with the method notes). Keys read
from ``Analysis.settings`` when present: ``ci_level``, ``ci_method``, ``n_boot``, ``seed``,
``alpha``, ``correction``, ``tie_policy``, ``tie_margin``, ``ties``, ``elo``, ``elo_k``,
``elo_orderings`` and ``icc_form`` (the ICC form quoted in the headline; ``ICC2k`` when not
set); all settings are printed in full as well.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .plots import RADAR_OVERLAY_MAX, _key_order, _ranked, _unrated_leaves
from .results import SCOPES, Analysis

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["write_report"]

TEMPLATE = "report.html.j2"
HEADLINE_ICC = "ICC2k"
"""The ICC form quoted in the headline unless ``settings["icc_form"]`` names another."""
ICC_LEVELS = ("item", "model", "pair")
SCOPE_TITLES = {
    "axis": "Axes",
    "group": "Groups",
    "leaf": "Leaf controls",
    "value": "Values of leaf controls (leaf=value)",
    "genre": "Genres",
    "difficulty": "Difficulty (basic and advanced prompts)",
    "role": "Prompt roles",
    "temporal": "Temporal structure of the prompt's events",
    "split": "Splits (scripts and visuals)",
}
OPEN_SCOPES = ("axis", "difficulty")
DASH = "–"

Cell = tuple[str, str]
"""A table cell: its text and a second, smaller line (empty when none)."""


def write_report(
    analysis: Analysis,
    manifest: Mapping[str, Any],
    plots: Mapping[str, Sequence[str | Path]],
    out_path: str | Path,
    title: str = "Stable Cinemetrics analysis report",
) -> Path:
    """Write the report of ``analysis`` to ``out_path`` and return the path.

    ``plots`` maps a figure name (as ``all_plots`` returns them) to its files; ``manifest``
    is the run's manifest (versions, seeds, sampling configuration, study folder)."""
    import jinja2

    environment = jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    template = environment.from_string(_template_text())
    html = template.render(**_context(analysis, manifest, plots, title))
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out


def _template_text() -> str:
    from importlib import resources

    return (resources.files("scine.analysis") / "templates" / TEMPLATE).read_text(encoding="utf-8")


def _context(
    analysis: Analysis,
    manifest: Mapping[str, Any],
    plots: Mapping[str, Sequence[str | Path]],
    title: str,
) -> dict[str, Any]:
    return {
        "title": title,
        "header": _header(analysis, manifest),
        "excluded": [(reason, _count(n)) for reason, n in analysis.excluded.items()],
        "excluded_total": _count(sum(analysis.excluded.values())),
        "leaderboard": _leaderboard(analysis),
        "uneven": analysis.uneven,
        "headline_icc": _headline_icc(analysis),
        "figures": [_figure(name, paths, analysis) for name, paths in plots.items()],
        "score_tables": _score_tables(analysis),
        "icc_tables": _icc_tables(analysis),
        "alpha": _alpha_table(analysis.alpha),
        "wilcoxon": _wilcoxon_table(analysis.wilcoxon),
        "tiers": [", ".join(tier) for tier in analysis.tiers],
        "bradley_terry": _bradley_terry_table(analysis.bradley_terry),
        "elo": _elo_table(analysis.elo),
        "correlations": _correlation_table(analysis.correlations),
        "methods": _methods(analysis, manifest),
        "settings_json": _json(analysis.settings),
        "manifest_json": _json(manifest),
    }


# -- header and leaderboard ------------------------------------------------------------------


def _header(analysis: Analysis, manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    from scine import __version__
    from scine.taxonomy import load_taxonomy

    rows = [
        ("scine", _version(__version__, manifest.get("scine_version"))),
        ("taxonomy", _version(load_taxonomy().version, manifest.get("taxonomy_version"))),
        ("study folder", str(manifest.get("study_folder", "not recorded in the manifest"))),
        ("models", _count(len(analysis.models))),
    ]
    rows += [(name, _count(value)) for name, value in analysis.counts.items()]
    return rows


def _version(installed: str, recorded: object) -> str:
    if recorded is None or str(recorded) == installed:
        return installed
    return f"{installed} (the manifest records {recorded})"


def _leaderboard(analysis: Analysis) -> dict[str, Any]:
    scores = analysis.scores
    overall = scores[scores["scope"] == "overall"].set_index("model")
    axis = scores[scores["scope"] == "axis"]
    axes = _key_order("axis", axis["key"].unique())
    means = axis.pivot(index="model", columns="key", values="mean")
    bt = analysis.bradley_terry
    elo_scopes = [*_key_order("axis", [s for s in bt["scope"].unique() if s != "all"])]
    elo_scopes += ["all"] if "all" in set(bt["scope"]) else []
    elos = bt.pivot(index="model", columns="scope", values="elo") if not bt.empty else None
    tier_of = {model: str(i) for i, tier in enumerate(analysis.tiers, 1) for model in tier}
    rows = []
    for rank, model in enumerate(_ranked(analysis, analysis.models), 1):
        row = overall.loc[model] if model in overall.index else None
        rows.append(
            {
                "rank": str(rank),
                "model": model,
                "tier": tier_of.get(model, DASH),
                "overall": _score(row["mean"]) if row is not None else DASH,
                "ci": _interval(row["ci_low"], row["ci_high"], 3) if row is not None else DASH,
                "axes": [_score(_lookup(means, model, key)) for key in axes],
                "elo": [_elo(_lookup(elos, model, scope)) for scope in elo_scopes],
            }
        )
    return {
        "axes": axes,
        "elo_scopes": ["overall" if scope == "all" else scope for scope in elo_scopes],
        "rows": rows,
    }


def _lookup(frame: pd.DataFrame | None, row: str, column: str) -> float:
    if frame is None or row not in frame.index or column not in frame.columns:
        return math.nan
    return float(frame[column].astype(float)[row])


def _headline_icc(analysis: Analysis) -> dict[str, Any]:
    form = str(analysis.settings.get("icc_form", HEADLINE_ICC))
    rows = analysis.icc[analysis.icc["Type"] == form]
    return {
        "form": form,
        "rows": [
            (str(row["level"]), _score(row["ICC"]), _interval(row["ci_low"], row["ci_high"], 3))
            for _, row in _by_level(rows).iterrows()
        ],
    }


def _figure(name: str, paths: Sequence[str | Path], analysis: Analysis) -> dict[str, Any]:
    files = {Path(path).suffix.lower(): Path(path) for path in paths}
    kinds = {".svg": "image/svg+xml", ".png": "image/png"}
    suffix = next((suffix for suffix in kinds if suffix in files), None)
    if suffix is None:
        raise ValueError(f"figure {name!r}: expected a .svg or .png file, got {list(paths)}")
    data = base64.b64encode(files[suffix].read_bytes()).decode("ascii")
    return {
        "name": name,
        "caption": _caption(name, analysis),
        "left_out": _left_out(name, analysis),
        "src": f"data:{kinds[suffix]};base64,{data}",
    }


def _caption(name: str, analysis: Analysis) -> str:
    intervals = _ci_sentence(analysis)
    scores = analysis.scores
    leaves = scores.loc[scores["scope"] == "leaf", "key"].nunique()
    unrated = len(_unrated_leaves(analysis))
    elo = "Online Elo" if not analysis.elo.empty else "Bradley-Terry Elo"
    captions = {
        "axis_radar": _radar_caption(analysis),
        "leaf_heatmap": (
            f"Mean score per leaf control and model (1-5), for the {leaves} leaf controls "
            "rated at all; grey cells have no items for that model."
            + (
                f" The {unrated} leaf controls no model was rated on (no question asked about "
                "them, or none answered) are not drawn; they are listed below."
                if unrated
                else ""
            )
        ),
        "difficulty_drop": f"Mean score on basic and on advanced prompts per model. {intervals}",
        "elo_heatmap": f"{elo} per axis and model (1000 = average).",
    }
    if name.startswith("value_bars:"):
        return f"Mean score per value of {name.split(':', 1)[1]} and model. {intervals}"
    return captions.get(name, name)


def _left_out(name: str, analysis: Analysis) -> list[tuple[str, str]]:
    """What a figure leaves out, listed under its caption: the leaf heatmap's unrated leaves,
    per axis (axis name, their ids)."""
    if name != "leaf_heatmap":
        return []
    by_axis: dict[str, list[str]] = {}
    for leaf in _unrated_leaves(analysis):
        by_axis.setdefault(leaf.split(".", 1)[0].capitalize(), []).append(leaf)
    return [(axis, ", ".join(leaves)) for axis, leaves in by_axis.items()]


def _radar_caption(analysis: Analysis) -> str:
    """The radar's caption: one chart for every model, or one chart per model."""
    scores = analysis.scores
    drawn = len(set(scores.loc[scores["scope"] == "axis", "model"]) & set(analysis.models))
    if drawn <= RADAR_OVERLAY_MAX:
        return "Mean score per axis and model (1-5)."
    return (
        f"Mean score per axis (1-5): one chart per model, best first, each with the average "
        f"of the {drawn} models as a dashed grey outline (more than {RADAR_OVERLAY_MAX} "
        "models on one chart would hide each other)."
    )


# -- tables ----------------------------------------------------------------------------------


def _table(headers: list[str], numeric: list[bool], rows: Iterable[list[Cell]]) -> dict[str, Any]:
    return {"headers": headers, "numeric": numeric, "rows": list(rows)}


def _score_tables(analysis: Analysis) -> list[dict[str, Any]]:
    """Per scope, categories x models: the mean with its interval below, and the items."""
    tables = []
    ranked = _ranked(analysis, analysis.models)
    for scope in SCOPES[1:]:
        frame = analysis.scores[analysis.scores["scope"] == scope]
        keys = _key_order(scope, frame["key"].unique())
        by_key = {key: rows.set_index("model") for key, rows in frame.groupby("key")}
        rows = []
        for key in keys:
            cells = by_key[key]
            row: list[Cell] = [(key, "")]
            for model in ranked:
                if model in cells.index:
                    cell = cells.loc[model]
                    row.append(
                        (_score(cell["mean"]), _interval(cell["ci_low"], cell["ci_high"], 3))
                    )
                else:
                    row.append((DASH, ""))
            row.append((_count(int(cells["items"].sum())), ""))
            row.append((_count(int(cells["prompts"].max())), ""))
            rows.append(row)
        tables.append(
            {
                "scope": scope,
                "title": SCOPE_TITLES[scope],
                "open": scope in OPEN_SCOPES,
                "table": _table(
                    [scope, *ranked, "items (all models)", "prompts (max)"],
                    [False] + [True] * (len(ranked) + 2),
                    rows,
                ),
            }
        )
    return tables


def _icc_tables(analysis: Analysis) -> list[dict[str, Any]]:
    headers = [
        "form",
        "description",
        "ICC",
        "95% CI",
        "F",
        "df1",
        "df2",
        "p",
        "estimator",
        "targets",
        "raters",
    ]
    numeric = [False, False, True, True, True, True, True, True, False, True, True]
    tables = []
    for level, rows in _by_level(analysis.icc).groupby("level", sort=False):
        tables.append(
            {
                "level": str(level),
                "table": _table(
                    headers,
                    numeric,
                    (
                        [
                            (str(r["Type"]), ""),
                            (str(r["Description"]), ""),
                            (_score(r["ICC"]), ""),
                            (_interval(r["ci_low"], r["ci_high"], 3), ""),
                            (_fixed(r["F"], 3), ""),
                            (_general(r["df1"]), ""),
                            (_general(r["df2"]), ""),
                            (_p(r["pval"]), ""),
                            (str(r["estimator"]), ""),
                            (_count(r["targets"]), ""),
                            (_count(r["raters"]), ""),
                        ]
                        for _, r in rows.iterrows()
                    ),
                ),
            }
        )
    return tables


def _by_level(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in the order item, model, pair (then any other level), stable within a level."""
    order = {level: i for i, level in enumerate(ICC_LEVELS)}
    rank = frame["level"].map(lambda level: order.get(str(level), len(order)))
    return (
        frame.assign(_rank=rank)
        .sort_values(["_rank", "level"], kind="stable")
        .drop(columns="_rank")
    )


def _alpha_table(alpha: pd.DataFrame) -> dict[str, Any]:
    return _table(
        ["level", "metric", "alpha", "units", "values"],
        [False, False, True, True, True],
        (
            [
                (str(r["level"]), ""),
                (str(r["metric"]), ""),
                (_score(r["alpha"]), ""),
                (_count(r["units"]), ""),
                (_count(r["values"]), ""),
            ]
            for _, r in _by_level(alpha).iterrows()
        ),
    )


def _wilcoxon_table(wilcoxon: pd.DataFrame) -> dict[str, Any]:
    return _table(
        [
            "scope",
            "model a",
            "model b",
            "questions",
            "mean a",
            "mean b",
            "W",
            "p",
            "p (Holm)",
            "rank-biserial",
            "significant",
        ],
        [False, False, False, True, True, True, True, True, True, True, False],
        (
            [
                (str(r["scope"]), ""),
                (str(r["model_a"]), ""),
                (str(r["model_b"]), ""),
                (_count(r["n"]), ""),
                (_score(r["mean_a"]), ""),
                (_score(r["mean_b"]), ""),
                (_fixed(r["statistic"], 1), ""),
                (_p(r["pval"]), ""),
                (_p(r["pval_holm"]), ""),
                (_score(r["rank_biserial"]), ""),
                ("yes" if bool(r["significant"]) else "no", ""),
            ]
            for _, r in wilcoxon.iterrows()
        ),
    )


def _bradley_terry_table(bt: pd.DataFrame) -> dict[str, Any]:
    return _table(
        ["scope", "model", "strength", "Elo", "95% CI", "wins", "losses", "ties"],
        [False, False, True, True, True, True, True, True],
        (
            [
                (str(r["scope"]), ""),
                (str(r["model"]), ""),
                (_fixed(r["strength"], 3), ""),
                (_elo(r["elo"]), ""),
                (_interval(r["ci_low"], r["ci_high"], 1), ""),
                (_general(r["wins"]), ""),
                (_general(r["losses"]), ""),
                (_general(r["ties"]), ""),
            ]
            for _, r in _by_scope(bt, "elo").iterrows()
        ),
    )


def _elo_table(elo: pd.DataFrame) -> dict[str, Any]:
    return _table(
        ["scope", "model", "Elo", "games"],
        [False, False, True, True],
        (
            [
                (str(r["scope"]), ""),
                (str(r["model"]), ""),
                (_elo(r["elo"]), ""),
                (_count(r["games"]), ""),
            ]
            for _, r in _by_scope(elo, "elo").iterrows()
        ),
    )


def _by_scope(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    """``all`` first, then axes in taxonomy order; best first within a scope."""
    scopes = ["all", *_key_order("axis", [s for s in frame["scope"].unique() if s != "all"])]
    rank = frame["scope"].map({scope: i for i, scope in enumerate(scopes)})
    ordered = frame.assign(_rank=rank, _value=-frame[value].astype(float))
    return ordered.sort_values(["_rank", "_value", "model"], kind="stable").drop(
        columns=["_rank", "_value"]
    )


def _correlation_table(correlations: pd.DataFrame) -> dict[str, Any]:
    return _table(
        ["scope", "a", "b", "Spearman rho", "p", "models"],
        [False, False, False, True, True, True],
        (
            [
                (str(r["scope"]), ""),
                (str(r["a"]), ""),
                (str(r["b"]), ""),
                (_score(r["rho"]), ""),
                (_p(r["pval"]), ""),
                (_count(r["models"]), ""),
            ]
            for _, r in correlations.iterrows()
        ),
    )


# -- method notes ----------------------------------------------------------------------------


def _methods(analysis: Analysis, manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    settings = analysis.settings
    given = partial(_setting, settings)
    estimators = "; ".join(
        f"{level}: {', '.join(sorted(set(map(str, rows['estimator']))))}"
        for level, rows in _by_level(analysis.icc).groupby("level", sort=False)
    )
    metrics = "; ".join(
        f"{level}: {', '.join(map(str, rows['metric']))}"
        for level, rows in _by_level(analysis.alpha).groupby("level", sort=False)
    )
    form = settings.get("icc_form", HEADLINE_ICC)
    seeds = [f"settings.seed = {settings['seed']}"] if "seed" in settings else []
    seeds += [f"manifest {path} = {value}" for path, value in _seeds(manifest)]
    return [
        (
            "Scores",
            "Means over items (one item: one video and one question, scored by the mean of its "
            "votes) on the 1-5 scale; models ranked by the overall mean.",
        ),
        ("Intervals", _ci_sentence(analysis)),
        (
            "Agreement (ICC)",
            f"All six Shrout-Fleiss forms per level; the headline quotes {form}. "
            f"Estimator: {estimators or 'no ICC rows'}.",
        ),
        ("Krippendorff's alpha", f"Metrics per level: {metrics or 'no alpha rows'}."),
        (
            "Significance",
            "Wilcoxon signed-rank test per model pair on the questions both answered; effect "
            f"size: matched-pairs rank-biserial correlation. Correction: {given('correction')}.",
        ),
        (
            "Tiers",
            "Models by overall mean; a tier's members are not significantly different from its "
            "best member (Wilcoxon, corrected p).",
        ),
        (
            "Tie policy",
            f"{given('tie_policy')} (tie_margin = {given('tie_margin')}, ties = {given('ties')}).",
        ),
        (
            "Bradley-Terry",
            "Maximum-likelihood strengths per scope; Elo scale 1000 + 400 log10 strength; "
            f"intervals from {given('n_boot')} bootstrap resamples of prompts. It counts who "
            "won each comparison of two models on one question, not by how much, so its order "
            "can differ from the mean scores' where models are close (their intervals overlap).",
        ),
        (
            "Elo",
            f"{given('elo')} (K = {given('elo_k')}, orderings = {given('elo_orderings')}).",
        ),
        ("Seeds", "; ".join(seeds) or "not recorded"),
    ]


def _setting(settings: Mapping[str, Any], key: str) -> str:
    return str(settings[key]) if key in settings else "not recorded"


def _ci_sentence(analysis: Analysis) -> str:
    settings = analysis.settings
    level = float(settings.get("ci_level", 0.95))
    method = settings.get("ci_method", "method not recorded")
    return f"{level:.0%} intervals: {method}."


def _seeds(manifest: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Every ``seed`` / ``*_seed`` key of a nested manifest, with its dotted path."""
    found: list[tuple[str, Any]] = []
    for key, value in manifest.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            found += _seeds(value, f"{path}.")
        elif key == "seed" or str(key).endswith("_seed"):
            found.append((path, value))
    return found


# -- formatting ------------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    try:
        return value is None or math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def _fixed(value: Any, digits: int) -> str:
    return DASH if _missing(value) else f"{float(value):.{digits}f}"


def _score(value: Any) -> str:
    return _fixed(value, 3)


def _elo(value: Any) -> str:
    return _fixed(value, 1)


def _interval(low: Any, high: Any, digits: int) -> str:
    if _missing(low) or _missing(high):
        return DASH
    return f"[{float(low):.{digits}f}, {float(high):.{digits}f}]"


def _p(value: Any) -> str:
    if _missing(value):
        return DASH
    if float(value) == 0:  # below the smallest floating-point number
        return "< 1e-300"
    return f"{float(value):.2e}" if float(value) < 0.001 else f"{float(value):.3f}"


def _count(value: Any) -> str:
    return DASH if _missing(value) else f"{int(value):,}"


def _general(value: Any) -> str:
    return DASH if _missing(value) else f"{float(value):g}"


def _json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=_plain)


def _plain(value: Any) -> Any:
    """numpy scalars and arrays, paths and the like as JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)

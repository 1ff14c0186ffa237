"""The whole analysis of a study: scores, reliability, significance, rankings, outputs."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from scine import __version__
from scine._spreadsheet import spreadsheet_text
from scine.taxonomy import load_taxonomy

from .aggregate import category_scores
from .results import Analysis
from .table import Study, StudyError

Stage = Callable[[str], None]
ANALYSIS_STAGES = ("scores", "reliability", "significance", "rankings")
"""The steps of ``analyze``, in order, as passed to its ``stage`` callback."""


@dataclass(frozen=True)
class AnalysisSettings:
    """Every choice that changes a number; written into the summary and the report."""

    n_boot: int = 1000
    seed: int = 0
    ci_level: float = 0.95
    alpha: float = 0.05
    tie_margin: float = 0.0
    ties: Literal["half", "drop"] = "half"
    elo_k: float = 4.0
    elo_orderings: int = 10

    def described(self) -> dict[str, Any]:
        """The settings with the methods they configure, for people."""
        return {
            **asdict(self),
            "ci_method": f"percentile bootstrap, {self.n_boot} resamples of prompts (clustered)",
            "tie_policy": (
                f"a match is a tie when the two videos' vote means differ by at most "
                f"{self.tie_margin:g}; Bradley-Terry counts a tie as half a win to each side"
                if self.ties == "half"
                else f"ties (|difference| <= {self.tie_margin:g}) are dropped from Bradley-Terry"
            ),
            "correction": f"Holm over all model pairs, alpha = {self.alpha:g}",
            "elo": f"online Elo, K = {self.elo_k:g}, mean of {self.elo_orderings} seeded orderings",
            "icc_form": "ICC2k",
            "icc_note": (
                "the headline form is ICC2k (two-way random, absolute agreement, mean of k "
                "ratings): reported scores average several votes, and agreement is required "
                "in value, not only in order; all six forms are reported"
            ),
        }


SHARED_ENOUGH = 0.9
"""Models count as rated on the same questions while the questions all of them were rated on
are at least this share of each model's."""


def analyze(study: Study, settings: AnalysisSettings, stage: Stage | None = None) -> Analysis:
    """Run every analysis on a study; ``stage(name)`` is called as each step starts."""
    import pandas as pd

    from .rankings import bradley_terry, elo, preferences, spearman_between
    from .reliability import reliability_levels
    from .significance import tiers, wilcoxon_pairs

    def step(name: str) -> None:
        if stage is not None:
            stage(name)

    if len(study.models) < 2:
        left_out = "; ".join(f"{count} {why}" for why, count in study.excluded.items())
        raise StudyError(
            f"{study.sources.get('folder', 'the study')}: an analysis needs ratings of 2 or more "
            f"models, found {len(study.models)} ({', '.join(study.models) or 'none'})"
            + (f"; left out: {left_out}" if left_out else "")
        )
    step("scores")
    scores = category_scores(study.items, settings.n_boot, settings.seed, settings.ci_level)
    step("reliability")
    icc, alpha = reliability_levels(study.votes, settings.n_boot, settings.seed)
    step("significance")
    wilcoxon = wilcoxon_pairs(study.items, alpha=settings.alpha)
    overall = scores[scores["scope"] == "overall"].set_index("model")["mean"]
    model_tiers = tiers(wilcoxon, overall)
    step("rankings")
    matches = preferences(study.votes, study.items, tie_margin=settings.tie_margin)
    bt = bradley_terry(matches, ties=settings.ties, n_boot=settings.n_boot, seed=settings.seed)
    ratings = elo(matches, k=settings.elo_k, orderings=settings.elo_orderings, seed=settings.seed)
    correlations = pd.concat(
        [spearman_between(study.items, scope) for scope in ("temporal", "axis")],
        ignore_index=True,
    )
    counts = {
        "ratings": len(study.votes),
        "items": len(study.items),
        "prompts": int(study.items["prompt_id"].nunique()),
        "questions": int(study.items["question_id"].nunique()),
        "raters": int(study.votes["rater"].nunique()),
        "matches": len(matches),
    }
    coverage = _coverage(study.items)
    return Analysis(
        models=study.models,
        scores=scores,
        icc=icc,
        alpha=alpha,
        wilcoxon=wilcoxon,
        tiers=model_tiers,
        bradley_terry=bt,
        elo=ratings,
        correlations=correlations,
        settings=settings.described(),
        excluded=dict(study.excluded),
        counts=counts,
        coverage=coverage,
        uneven=_uneven(study.items, coverage),
    )


def _coverage(items: Any) -> dict[str, dict[str, Any]]:
    """Per model: how many items and questions it was rated on, and on which axes."""
    return {
        str(model): {
            "items": len(rated),
            "questions": int(rated["question_id"].nunique()),
            "axes": sorted(rated["axis"].unique()),
        }
        for model, rated in items.groupby("model", sort=True)
    }


def _uneven(items: Any, coverage: dict[str, dict[str, Any]]) -> str | None:
    """In words, when the questions every model was rated on are under ``SHARED_ENOUGH`` of
    some model's (a few abstentions or missing votes are not worth a warning); else None."""
    asked = items.groupby("model")["question_id"].agg(frozenset)
    shared = len(frozenset.intersection(*asked))
    if all(shared >= SHARED_ENOUGH * len(questions) for questions in asked):
        return None
    each = "; ".join(
        f"{model} {found['questions']} on {', '.join(found['axes'])}"
        for model, found in coverage.items()
    )
    return (
        f"models were rated on different questions ({each}; {shared} shared): overall and "
        "axis means, tiers and rankings compare different questions"
    )


def summary(analysis: Analysis) -> dict[str, Any]:
    """The machine-readable summary (``summary.json``)."""
    scores = analysis.scores
    axis = scores[scores["scope"] == "axis"]
    overall = scores[scores["scope"] == "overall"]
    axis_elo = analysis.elo[analysis.elo["scope"] != "all"]
    return {
        "scine_version": __version__,
        "taxonomy_version": load_taxonomy().version,
        "models": analysis.models,
        "n_ratings": analysis.counts["ratings"],
        "counts": analysis.counts,
        "overall": {
            row.model: {"mean": _num(row.mean), "ci": [_num(row.ci_low), _num(row.ci_high)]}
            for row in overall.itertuples()
        },
        "axis_scores": _nested(axis, "model", "key", "mean"),
        "axis_scores_ci": _nested_pairs(axis),
        "elo": _nested(axis_elo, "model", "scope", "elo"),
        "bradley_terry_elo": _nested(
            analysis.bradley_terry[analysis.bradley_terry["scope"] != "all"],
            "model",
            "scope",
            "elo",
        ),
        "icc": {
            level: {
                row.Type: {
                    "ICC": _num(row.ICC),
                    "ci": [_num(row.ci_low), _num(row.ci_high)],
                    "estimator": row.estimator,
                }
                for row in frame.itertuples()
            }
            for level, frame in analysis.icc.groupby("level", sort=True)
        },
        "krippendorff_alpha": {
            f"{row.level}/{row.metric}": _num(row.alpha) for row in analysis.alpha.itertuples()
        },
        "wilcoxon": [
            {key: _num(value) for key, value in row.items()}
            for row in analysis.wilcoxon.to_dict(orient="records")
        ],
        "tiers": analysis.tiers,
        "excluded": analysis.excluded,
        "coverage": analysis.coverage,
        "uneven_coverage": analysis.uneven,
        "settings": analysis.settings,
    }


def _nested(frame: Any, outer: str, inner: str, value: str) -> dict[str, dict[str, Any]]:
    nested: dict[str, dict[str, Any]] = {}
    for row in frame.to_dict(orient="records"):
        nested.setdefault(str(row[outer]), {})[str(row[inner])] = _num(row[value])
    return nested


def _nested_pairs(axis: Any) -> dict[str, dict[str, list[Any]]]:
    nested: dict[str, dict[str, list[Any]]] = {}
    for row in axis.itertuples():
        nested.setdefault(row.model, {})[row.key] = [_num(row.ci_low), _num(row.ci_high)]
    return nested


def _num(value: Any) -> Any:
    """JSON-safe numbers: NaN -> None, numpy scalars -> Python, floats rounded to 6
    decimals, or to 6 significant digits below 0.0001 (a p-value of 1e-8 stays one)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        rounded = round(value, 6) if abs(value) >= 1e-4 else float(f"{value:.6g}")
        return rounded + 0.0  # no -0.0
    return value


def analysis_manifest(folder: Path, settings: AnalysisSettings, **extra: Any) -> dict[str, Any]:
    """What an analysis of the study ``folder`` was made with (the report prints it): the
    scine and taxonomy versions, the settings, ``extra`` entries, and the study's own
    ``manifest.json`` when it has one."""
    manifest: dict[str, Any] = {
        "scine_version": __version__,
        "taxonomy_version": load_taxonomy().version,
        "study_folder": str(folder),
        **extra,
        "settings": asdict(settings),
    }
    if (folder / "manifest.json").exists():
        study = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        manifest["study_manifest"] = study
    return manifest


def write_outputs(
    analysis: Analysis, out: Path, manifest: dict[str, Any], plots: bool = True
) -> dict[str, Path]:
    """Write ``summary.json``, the result tables (CSV; text a spreadsheet would run as a
    formula gets a leading apostrophe), plots and ``report.html`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = {"summary": out / "summary.json"}
    written["summary"].write_text(json.dumps(summary(analysis), indent=2, sort_keys=True) + "\n")
    tables = out / "tables"
    tables.mkdir(exist_ok=True)
    for name in ("scores", "icc", "alpha", "wilcoxon", "bradley_terry", "elo", "correlations"):
        table = getattr(analysis, name)
        text = {
            column: table[column].map(spreadsheet_text)
            for column in table.select_dtypes(include=["object", "string"]).columns
        }
        table.assign(**text).to_csv(tables / f"{name}.csv", index=False)
    from .report import write_report

    figures: dict[str, list[Path]] = {}
    if plots:
        from .plots import all_plots

        figures = all_plots(analysis, out / "plots")
    written["report"] = write_report(analysis, manifest, figures, out / "report.html")
    return written

"""``scine.analysis.pipeline``: what an analysis refuses, and the numbers it writes."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from scine.analysis.pipeline import AnalysisSettings, _num, analyze, summary, write_outputs
from scine.analysis.report import write_report
from scine.analysis.simulate import SimulationConfig, simulate, write_simulation
from scine.analysis.table import StudyError, load_study
from scine.cli import app
from scine.records import Rating, Video, read_jsonl, read_parquet, write_jsonl, write_parquet


@pytest.fixture
def study_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "study"
    write_simulation(simulate(SimulationConfig(models=2, prompts=6, seed=3)), folder)
    return folder


def test_one_rated_model_is_refused_with_what_was_left_out(study_folder: Path) -> None:
    ratings = read_parquet(study_folder / "ratings.parquet", Rating)
    write_parquet(
        study_folder / "ratings.parquet",
        [r for r in ratings if r.video_id.startswith("sim-01/")],
        Rating,
    )
    with pytest.raises(StudyError, match=r"2 or more models, found 1 \(sim-01\)"):
        analyze(load_study(study_folder), AnalysisSettings(n_boot=0))
    with pytest.raises(StudyError, match=r"found 0 \(none\); left out: \d+ rater_kind is not"):
        analyze(load_study(study_folder, rater_kind="model"), AnalysisSettings(n_boot=0))


def test_small_numbers_keep_their_digits_and_zero_has_no_sign() -> None:
    assert _num(1.3912345e-08) == 1.39123e-08
    assert _num(2.718281828) == 2.718282
    assert math.copysign(1.0, _num(-0.0)) == 1.0
    assert _num(float("nan")) is None


def test_model_names_are_printed_as_written(study_folder: Path, tmp_path: Path) -> None:
    videos = read_jsonl(study_folder / "videos.jsonl", Video)
    renamed = {"sim-01": "m2 [/]", "sim-02": "[red]m1"}
    write_jsonl(
        study_folder / "videos.jsonl",
        [v.model_copy(update={"model": renamed[v.model]}) for v in videos],
    )
    args = ["analyze", str(study_folder), "--out", str(tmp_path / "out"), "--boot", "0"]
    outcome = CliRunner().invoke(app, [*args, "--no-plots"], env={"COLUMNS": "200"})
    assert outcome.exit_code == 0, outcome.output
    assert "m2 [/]" in outcome.output
    assert "[red]m1" in outcome.output
    assert "nan" not in outcome.output


def test_names_a_spreadsheet_would_run_are_written_as_text(
    study_folder: Path, tmp_path: Path
) -> None:
    videos = read_jsonl(study_folder / "videos.jsonl", Video)
    renamed = {"sim-01": "=HYPERLINK(1)", "sim-02": "-m2"}
    write_jsonl(
        study_folder / "videos.jsonl",
        [v.model_copy(update={"model": renamed[v.model]}) for v in videos],
    )
    analysis = analyze(load_study(study_folder), AnalysisSettings(n_boot=0))
    write_outputs(analysis, tmp_path, {}, plots=False)
    scores = pd.read_csv(tmp_path / "tables" / "scores.csv")
    assert set(scores["model"]) == {"'=HYPERLINK(1)", "'-m2"}
    assert scores["mean"].between(1, 5).all()


def test_models_rated_on_different_questions_are_flagged(
    study_folder: Path, tmp_path: Path
) -> None:
    whole = analyze(load_study(study_folder), AnalysisSettings(n_boot=0))
    assert whole.uneven is None
    assert whole.coverage["sim-01"] == whole.coverage["sim-02"]
    ratings = read_parquet(study_folder / "ratings.parquet", Rating)
    one = next(r.question_id for r in ratings if r.video_id.startswith("sim-02/"))
    fewer = [r for r in ratings if not (r.video_id.startswith("sim-02/") and r.question_id == one)]
    write_parquet(study_folder / "ratings.parquet", fewer, Rating)
    nearly = analyze(load_study(study_folder), AnalysisSettings(n_boot=0))
    assert nearly.coverage["sim-02"]["questions"] == whole.coverage["sim-02"]["questions"] - 1
    assert nearly.uneven is None  # one question short of the other: not worth a warning
    items = load_study(study_folder).items
    axis = sorted(items["axis"].unique())[0]
    one_axis = set(items.loc[items["axis"] == axis, "question_id"])
    kept = [r for r in ratings if r.video_id.startswith("sim-01/") or r.question_id in one_axis]
    write_parquet(study_folder / "ratings.parquet", kept, Rating)
    part = analyze(load_study(study_folder), AnalysisSettings(n_boot=0))
    assert part.coverage["sim-02"]["axes"] == [axis]
    assert part.coverage["sim-02"]["questions"] == len(one_axis)
    assert part.uneven is not None
    assert f"sim-02 {len(one_axis)} on {axis}" in part.uneven
    assert summary(part)["uneven_coverage"] == part.uneven
    page = write_report(part, {}, {}, tmp_path / "report.html").read_text()
    assert part.uneven in page

"""``scine simulate`` and ``scine analyze``: a study in, summary, report and plots out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scine.cli import app, main
from scine.records import Rating, read_parquet, write_parquet

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("cli")
    study, out = root / "study", root / "out"
    invoke("simulate", "--out", str(study), "--models", "4", "--prompts", "80", "--seed", "5")
    invoke("analyze", str(study), "--out", str(out), "--boot", "50")
    return study, out


def test_summary_interface(analysed: tuple[Path, Path]) -> None:
    study, out = analysed
    summary = json.loads((out / "summary.json").read_text())
    models = ["sim-01", "sim-02", "sim-03", "sim-04"]
    assert summary["models"] == models
    assert set(summary["axis_scores"]) == set(models)
    assert set(summary["axis_scores"]["sim-01"]) == {"setup", "events", "lighting", "camera"}
    assert set(summary["elo"]["sim-01"]) == {"setup", "events", "lighting", "camera"}
    assert {"item", "model", "pair"} <= set(summary["icc"])
    assert set(summary["icc"]["model"]) == {"ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"}
    assert len(summary["wilcoxon"]) == 6
    assert sorted(m for tier in summary["tiers"] for m in tier) == models
    assert summary["n_ratings"] == len(read_parquet(study / "ratings.parquet", Rating))
    assert summary["excluded"] == {}
    assert "tie_policy" in summary["settings"]


def test_report_plots_and_tables(analysed: tuple[Path, Path]) -> None:
    _, out = analysed
    html = (out / "report.html").read_text()
    assert "sim-04" in html
    assert "ICC2k" in html
    assert list((out / "plots").glob("*.png"))
    assert list((out / "plots").glob("*.svg"))
    assert (out / "tables" / "scores.csv").exists()


def test_the_printed_leaderboard_has_the_axes_in_the_papers_order(
    analysed: tuple[Path, Path], tmp_path: Path
) -> None:
    study, _ = analysed
    printed = invoke("analyze", str(study), "--out", str(tmp_path), "--boot", "0", "--no-plots")
    header = next(line for line in printed.splitlines() if "overall" in line)
    places = [header.index(axis) for axis in ("setup", "events", "lighting", "camera")]
    assert places == sorted(places)


def test_the_planted_best_model_leads(analysed: tuple[Path, Path]) -> None:
    study, out = analysed
    truth = json.loads((study / "truth.json").read_text())["skill"]
    summary = json.loads((out / "summary.json").read_text())
    for axis in ("setup", "events", "lighting", "camera"):
        planted = max(truth, key=lambda model: truth[model][axis])
        measured = max(
            summary["axis_scores"], key=lambda model: summary["axis_scores"][model][axis]
        )
        assert measured == planted, axis


def with_a_repeated_vote(study: Path, tmp_path: Path) -> Path:
    """A copy of the study in which one rater voted twice on one video and question."""
    folder = tmp_path / "study"
    folder.mkdir()
    for name in ("prompts.jsonl", "questions.jsonl", "videos.jsonl"):
        (folder / name).write_bytes((study / name).read_bytes())
    ratings = read_parquet(study / "ratings.parquet", Rating)
    write_parquet(folder / "ratings.parquet", [*ratings, ratings[0]], Rating)
    return folder


def test_exclusions_are_reported(analysed: tuple[Path, Path], tmp_path: Path) -> None:
    folder = with_a_repeated_vote(analysed[0], tmp_path)
    invoke("analyze", str(folder), "--out", str(tmp_path / "out"), "--boot", "0", "--no-plots")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["excluded"] == {"repeated vote (same rater, video, question)": 1}


def test_strict_refuses_and_names_the_problem(
    analysed: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = with_a_repeated_vote(analysed[0], tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", str(folder), "--out", str(tmp_path / "out"), "--strict", "--no-plots"])
    assert exit_info.value.code == 1
    assert "repeated vote" in capsys.readouterr().err


def test_simulate_rejects_bad_settings() -> None:
    result = runner.invoke(app, ["simulate", "--out", "x", "--votes", "30", "--annotators", "4"])
    assert result.exit_code != 0
    assert "votes" in result.output

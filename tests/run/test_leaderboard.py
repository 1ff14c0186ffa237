"""``scine leaderboard``: merging runs, refusing incomparable ones, the three formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from scine.cli import app
from scine.run.leaderboard import LeaderboardError, merge_runs, to_csv, to_html, to_markdown

SAMPLING = {"fps": 8.0, "max_pixels": 36864}


def run_folder(root: Path, name: str, models: dict[str, float], **changes: Any) -> Path:
    """A run folder whose run.json rates ``models`` (model -> mean) with the probes."""
    folder = root / name
    folder.mkdir()
    found: dict[str, Any] = {
        "scine_version": "0",
        "taxonomy_version": "tax-1",
        "prompts_sha256": "p-1",
        "primary": "probes",
        "raters": {
            "probes": {
                "judge": "probes",
                "sampling": SAMPLING,
                "overall": {m: {"mean": v, "ci": [v - 0.2, v + 0.2]} for m, v in models.items()},
                "axis_scores": {
                    m: {"camera": v - 0.1, "lighting": v + 0.1} for m, v in models.items()
                },
            }
        },
    }
    for key, value in changes.items():
        if key == "sampling":
            found["raters"]["probes"]["sampling"] = value
        else:
            found[key] = value
    (folder / "run.json").write_text(json.dumps(found), encoding="utf-8")
    return folder


def test_runs_of_different_models_merge_into_one_ranking(tmp_path: Path) -> None:
    first = run_folder(tmp_path, "a", {"alpha": 3.0, "beta": 4.0})
    second = run_folder(tmp_path, "b", {"gamma": 3.5})
    board = merge_runs([first, second])
    assert [(r.model, board.rank(r)) for r in board.rows] == [
        ("beta", 1),
        ("gamma", 2),
        ("alpha", 3),
    ]
    table = to_markdown(board)
    assert "| probes (`probes`) | 1 | beta | 4.000 (3.800-4.200) |" in table
    assert "Merged although" not in table
    rows = list(csv.DictReader(io.StringIO(to_csv(board))))
    assert [row["model"] for row in rows] == ["beta", "gamma", "alpha"]
    assert rows[1]["run"] == str(second)
    assert rows[0]["camera"] == "3.9"
    assert rows[0]["setup"] == ""


def test_csv_cells_a_spreadsheet_would_run_are_written_as_text(tmp_path: Path) -> None:
    board = merge_runs([run_folder(tmp_path, "a", {"=1+1": 3.0, "@SUM(A1)": 2.0, "-x": 1.0})])
    rows = list(csv.DictReader(io.StringIO(to_csv(board))))
    assert [row["model"] for row in rows] == ["'=1+1", "'@SUM(A1)", "'-x"]
    assert [row["mean"] for row in rows] == ["3.0", "2.0", "1.0"]
    assert "| =1+1 |" in to_markdown(board)


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"taxonomy_version": "tax-2"}, "different taxonomy versions"),
        ({"prompts_sha256": "p-2"}, "different prompts"),
        ({"sampling": {"fps": 2.0, "max_pixels": 36864}}, "probes sampled the videos differently"),
    ],
)
def test_incomparable_runs_are_refused_unless_allowed(
    tmp_path: Path, changes: dict[str, Any], said: str
) -> None:
    first = run_folder(tmp_path, "a", {"alpha": 3.0})
    second = run_folder(tmp_path, "b", {"beta": 3.5}, **changes)
    with pytest.raises(LeaderboardError, match=said):
        merge_runs([first, second])
    board = merge_runs([first, second], allow_mixed=True)
    assert len(board.rows) == 2
    assert f"Merged although not comparable: {said}" in to_markdown(board)
    rows = list(csv.DictReader(io.StringIO(to_csv(board))))
    assert all(said in row["not_comparable"] for row in rows)


def test_a_model_in_two_runs_is_refused(tmp_path: Path) -> None:
    first = run_folder(tmp_path, "a", {"alpha": 3.0})
    second = run_folder(tmp_path, "b", {"alpha": 3.5})
    with pytest.raises(LeaderboardError, match="alpha is rated by probes in both"):
        merge_runs([first, second])


def test_a_folder_without_a_run_is_named(tmp_path: Path) -> None:
    with pytest.raises(LeaderboardError, match=r"is .* a finished scine run"):
        merge_runs([tmp_path])


def test_odd_model_names_stay_in_their_cells(tmp_path: Path) -> None:
    odd = "<b>a|b</b> & co"
    board = merge_runs([run_folder(tmp_path, "a", {odd: 3.0, "plain": 2.0})])
    row = next(line for line in to_markdown(board).splitlines() if "co" in line)
    assert "&lt;b&gt;a\\|b&lt;/b&gt; &amp; co" in row
    assert row.replace("\\|", "").count("|") == to_markdown(board).splitlines()[0].count("|")
    assert "&lt;b&gt;a|b&lt;/b&gt; &amp; co" in to_html(board)


def test_a_malformed_run_summary_is_named_with_its_key(tmp_path: Path) -> None:
    folder = run_folder(tmp_path, "a", {"alpha": 3.0})
    found = json.loads((folder / "run.json").read_text())
    found["raters"]["probes"]["overall"]["alpha"]["mean"] = None
    (folder / "run.json").write_text(json.dumps(found))
    with pytest.raises(LeaderboardError, match=r"raters\.probes\.overall\.alpha\.mean: "):
        merge_runs([folder])
    (folder / "run.json").write_text("null")
    with pytest.raises(LeaderboardError, match="not a run summary"):
        merge_runs([folder])


def test_the_command_writes_the_format_its_file_names(tmp_path: Path) -> None:
    first = run_folder(tmp_path, "a", {"<alpha>": 3.0})
    out = tmp_path / "board.html"
    result = CliRunner().invoke(app, ["leaderboard", str(first), "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert page.startswith("<!doctype html>")
    assert "&lt;alpha&gt;" in page
    assert page == to_html(merge_runs([first]))
    result = CliRunner().invoke(app, ["leaderboard", str(first), "--format", "csv"])
    assert result.output.startswith("rater,judge,rank,model,mean")
    result = CliRunner().invoke(app, ["leaderboard", str(first), str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "not found; is" in result.output
    result = CliRunner().invoke(app, ["leaderboard", str(first), "--out", "board.txt"])
    assert result.exit_code == 1
    assert "name a .md, .csv or .html file, or give --format" in " ".join(result.output.split())


def test_a_finished_run_merges(tmp_path: Path) -> None:
    """The run.json a real run writes carries what merging needs."""
    from scine.run import run_pipeline
    from tests.run.test_pipeline import small

    run_pipeline(small(), tmp_path / "run")
    board = merge_runs([tmp_path / "run"])
    assert {(row.rater, row.model) for row in board.rows} == {
        (rater, model) for rater in ("probes", "human") for model in ("synth-good", "synth-poor")
    }
    assert {row.judge for row in board.rows} == {"probes", "human"}

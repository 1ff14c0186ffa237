"""``scine bench build | categorize | diversity`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scine.cli import app, main
from scine.records import Prompt, Question, read_jsonl

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_build_writes_the_suite_and_knows_when_it_is_current(tmp_path: Path) -> None:
    out = tmp_path / "suite"
    invoke("bench", "build", "--out", str(out), "--scripts", "12", "--visuals", "9", "--seed", "7")
    prompts = read_jsonl(out / "prompts.jsonl", Prompt)
    questions = read_jsonl(out / "questions.jsonl", Question)
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(prompts) == 21
    assert len(questions) == manifest["counts"]["questions"]
    assert manifest["writer"] == "offline"
    assert manifest["config"]["seed"] == 7
    before = (out / "prompts.jsonl").stat().st_mtime_ns
    assert "up to date" in invoke(
        "bench", "build", "--out", str(out), "--scripts", "12", "--visuals", "9", "--seed", "7"
    )
    assert (out / "prompts.jsonl").stat().st_mtime_ns == before
    other = [
        "bench",
        "build",
        "--out",
        str(out),
        "--scripts",
        "12",
        "--visuals",
        "9",
        "--seed",
        "8",
    ]
    refused = runner.invoke(app, other, env={"COLUMNS": "200"})
    assert refused.exit_code == 1
    assert "holds a suite built with seed 7; --force replaces it" in refused.output
    assert (out / "prompts.jsonl").stat().st_mtime_ns == before
    invoke(*other, "--force")
    assert json.loads((out / "manifest.json").read_text())["config"]["seed"] == 8


def test_a_suite_cut_short_while_written_is_not_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scine.bench.build as build

    out = tmp_path / "suite"
    args = ["bench", "build", "--out", str(out), "--scripts", "6", "--visuals", "3"]
    invoke(*args)
    real = build.write_jsonl

    def cut_short(path: Path, records: object) -> int:
        if path.name == "questions.jsonl":
            raise KeyboardInterrupt
        return real(path, records)  # type: ignore[arg-type]

    monkeypatch.setattr(build, "write_jsonl", cut_short)
    runner.invoke(app, [*args, "--seed", "1", "--force"])
    assert not (out / "manifest.json").exists()
    monkeypatch.setattr(build, "write_jsonl", real)
    assert "up to date" not in invoke(*args)
    assert json.loads((out / "manifest.json").read_text())["config"]["seed"] == 0


def test_build_roles(tmp_path: Path) -> None:
    out = tmp_path / "suite"
    invoke(
        "bench",
        "build",
        "--out",
        str(out),
        "--scripts",
        "6",
        "--visuals",
        "4",
        "--roles",
        "screenwriter,director",
    )
    roles = {p.role for p in read_jsonl(out / "prompts.jsonl", Prompt)}
    assert roles == {"screenwriter", "director"}


def test_build_rejects_unknown_roles(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bench", "build", "--out", str(tmp_path), "--roles", "gaffer"])
    assert result.exit_code != 0
    assert "unknown role(s) gaffer" in result.output


def test_categorize_json_lines(tmp_path: Path) -> None:
    file = tmp_path / "prompts.txt"
    file.write_text(
        "The camera pans left across a foggy harbour.\nIt is what it is.\n", encoding="utf-8"
    )
    lines = invoke("bench", "categorize", str(file), "--json", "--no-semantic").splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["prompt"] == "The camera pans left across a foggy harbour."
    by_node = {c["node"]: c for c in first["categories"]}
    assert by_node["camera.trajectory.movement"] == {
        "node": "camera.trajectory.movement",
        "value": "pan_left",
        "question": "Does the camera pan left?",
    }
    assert all(set(c) == {"node", "value", "question"} for c in first["categories"])
    assert second["categories"] == []


def test_categorize_bad_input_names_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "prompts.txt"
    file.write_text("A dog sleeps.\n\nA cat.\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "categorize", str(file), "--json", "--no-semantic"])
    assert exit_info.value.code == 1
    assert f"{file}:2: empty prompt" in capsys.readouterr().err
    lines = invoke("bench", "categorize", str(file), "--json", "--no-semantic", "--skip-invalid")
    assert len(lines.splitlines()) == 2


def test_diversity_report(tmp_path: Path) -> None:
    out = tmp_path / "suite"
    invoke("bench", "build", "--out", str(out), "--scripts", "10", "--visuals", "10")
    other = tmp_path / "other.txt"
    other.write_text("\n".join(f"A red car number {i} drives by." for i in range(10)) + "\n")
    report = json.loads(
        invoke("bench", "diversity", str(out), "--against", str(other), "--no-map", "--json")
    )
    assert set(report["sets"]) == {"SCINE-Scripts", "SCINE-Visuals", "other"}
    assert report["sets"]["other"]["jaccard"] > report["sets"]["SCINE-Scripts"]["jaccard"]
    assert (out / "diversity.json").exists()

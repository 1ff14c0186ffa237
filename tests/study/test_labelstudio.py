"""Label Studio interop: the project written, and its export read back."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from scine.cli import app
from scine.records import Rating, read_jsonl, write_jsonl
from scine.study.labelstudio import labelstudio_project
from tests.study.test_create import records

runner = CliRunner()


def answered(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tasks as Label Studio exports them after one annotator rated every slot 4."""
    exported = []
    for number, task in enumerate(tasks, start=1):
        data = task["data"]
        results = [
            {
                "from_name": f"q{slot}_{side}",
                "to_name": f"video_{side}",
                "type": "rating",
                "value": {"rating": 4},
            }
            for slot in (1, 2)
            for side in ("a", "b")
        ]
        exported.append(
            {
                "id": number,
                "data": data,
                "annotations": [
                    {
                        "id": 10 + number,
                        "completed_by": {"id": 3, "email": "ann@lab"},
                        "result": results,
                    }
                ],
            }
        )
    return exported


def test_the_config_rates_each_question_for_both_videos() -> None:
    prompts, questions, videos = records(2, ("m1", "m2", "m3"))
    config, tasks = labelstudio_project(prompts, questions, videos, "https://media.example/")
    view = ET.fromstring(config)
    ratings = [node.get("name") for node in view.iter("Rating")]
    assert ratings == ["q1_a", "q1_b", "q2_a", "q2_b"]
    assert {node.get("value") for node in view.iter("Video")} == {"$video_a", "$video_b"}
    assert len(tasks) == 4  # 2 prompts x (one pair + the odd video beside a reference)
    assert tasks[0]["data"]["video_a"] == "https://media.example/m1/p0.mp4"
    assert [t["data"]["rate_b"] for t in tasks] == [True, False, True, False]


def test_an_export_comes_back_as_ratings_and_strays_are_named(tmp_path: Path) -> None:
    prompts, questions, videos = records(2, ("m1", "m2", "m3"))
    for name, rows in (("prompts", prompts), ("questions", questions), ("videos", videos)):
        write_jsonl(tmp_path / f"{name}.jsonl", rows)
    args = [
        "study",
        "labelstudio-export",
        "--media-url",
        "https://media.example",
        "--out",
        str(tmp_path / "ls"),
    ]
    for name in ("prompts", "questions", "videos"):
        args += [f"--{name}", str(tmp_path / f"{name}.jsonl")]
    made = runner.invoke(app, args)
    assert made.exit_code == 0, made.output
    tasks = json.loads((tmp_path / "ls" / "tasks.json").read_text())
    export = tmp_path / "export.json"
    export.write_text(json.dumps(answered(tasks)))
    out = tmp_path / "ratings.jsonl"
    result = runner.invoke(app, ["study", "labelstudio-import", str(export), "--out", str(out)])
    assert result.exit_code == 1  # the reference videos' ratings are refused, and named
    assert result.output.count("reference video") == 4
    ratings = read_jsonl(out, Rating)
    assert len(ratings) == 2 * 2 * 2 + 2 * 1 * 2  # pairs rate both videos, odd tasks one
    assert {r.rater for r in ratings} == {"ann@lab"}
    assert all(r.score == 4.0 and r.rater_kind == "human" for r in ratings)
    broken = tmp_path / "broken.json"
    broken.write_text('{"not": "a list"}')
    failed = runner.invoke(app, ["study", "labelstudio-import", str(broken), "--out", str(out)])
    assert failed.exit_code == 1
    assert "expected a list of tasks" in failed.output

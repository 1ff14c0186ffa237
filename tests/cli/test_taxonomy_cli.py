"""The ``scine taxonomy`` commands and their stable machine-readable interfaces."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scine import __version__
from scine.cli import app, main
from scine.taxonomy import load_taxonomy

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_version() -> None:
    assert invoke("--version").strip() == f"scine {__version__}"


def test_stats_json_interface() -> None:
    stats = json.loads(invoke("taxonomy", "stats", "--json"))
    taxonomy = load_taxonomy()
    assert stats["leaves"] == 76
    assert set(stats["axes"]) == {"setup", "events", "lighting", "camera"}
    assert sum(stats["axes"].values()) == 76
    assert stats["axes"]["camera"] == len(taxonomy.leaves(axis="camera"))
    assert stats["version"] == taxonomy.version


def test_stats_table() -> None:
    out = invoke("taxonomy", "stats")
    assert load_taxonomy().version in out
    assert "leaves · camera" in out


def test_find_json_interface() -> None:
    matches = json.loads(invoke("taxonomy", "find", "Dutch angle", "--json"))
    assert matches[0]["node"] == "camera.extrinsics.angle"
    assert matches[0]["value"] == "dutch"
    assert all({"node", "value", "score"} <= set(match) for match in matches)
    assert [m["score"] for m in matches] == sorted((m["score"] for m in matches), reverse=True)


def test_find_leaf_without_value() -> None:
    matches = json.loads(invoke("taxonomy", "find", "depth of field", "--json", "--limit", "1"))
    assert matches == [
        {
            "node": "camera.intrinsics.depth_of_field",
            "value": None,
            "score": 1.0,
            "matched": matches[0]["matched"],
            "field": matches[0]["field"],
        }
    ]


def test_find_no_match() -> None:
    assert json.loads(invoke("taxonomy", "find", "qqqq zzzz", "--json")) == []
    result = runner.invoke(app, ["taxonomy", "find", "qqqq zzzz"])
    assert result.exit_code == 1
    assert "no taxonomy node matches" in result.output


def test_find_table() -> None:
    assert "lighting.source.type" in invoke("taxonomy", "find", "tungsten")


def test_export_json_is_the_whole_tree() -> None:
    tree = json.loads(invoke("taxonomy", "export", "--format", "json"))
    assert tree["version"] == load_taxonomy().version
    assert [axis["id"] for axis in tree["axes"]] == ["setup", "events", "lighting", "camera"]

    def leaves(node: dict[str, object]) -> int:
        children = node.get("children")
        if isinstance(children, list):
            return sum(leaves(child) for child in children)
        return 1

    assert sum(leaves(axis) for axis in tree["axes"]) == 76


def test_export_csv_one_row_per_value() -> None:
    rows = list(csv.DictReader(io.StringIO(invoke("taxonomy", "export", "--format", "csv"))))
    taxonomy = load_taxonomy()
    expected = sum(len(leaf.values) or 1 for leaf in taxonomy.leaves())
    assert len(rows) == expected
    dutch = next(
        row for row in rows if row["leaf"] == "camera.extrinsics.angle" and row["value"] == "dutch"
    )
    assert dutch["question"] == taxonomy.leaf("camera.extrinsics.angle").render_question("dutch")


def test_export_to_file(tmp_path: Path) -> None:
    out = tmp_path / "taxonomy.md"
    invoke("taxonomy", "export", "--format", "markdown", "--out", str(out))
    assert out.read_text(encoding="utf-8").startswith("# The SCINE taxonomy")


def test_show_tree_by_axis_and_depth() -> None:
    camera = invoke("taxonomy", "show", "--axis", "camera")
    assert "camera.extrinsics.angle" in camera
    assert "Dutch angle" in camera
    assert "lighting" not in camera
    shallow = invoke("taxonomy", "show", "--depth", "1")
    assert "Camera" in shallow
    assert "camera.extrinsics" not in shallow


def test_unknown_axis_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["taxonomy", "show", "--axis", "sound"])
    assert exit_info.value.code == 1
    assert "unknown taxonomy node 'sound'" in capsys.readouterr().err


def test_main_prints_data_errors_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("axes: []\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["taxonomy", "validate", str(bad)])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "error:" in err
    assert str(bad) in err
    assert "Traceback" not in err


def test_validate_packaged_file() -> None:
    from scine.taxonomy import default_taxonomy_path

    assert "76 leaves" in invoke("taxonomy", "validate", str(default_taxonomy_path()))


def test_installed_entry_point() -> None:
    executable = shutil.which("scine", path=str(Path(sys.executable).parent))
    assert executable is not None, "the scine console script is not installed"
    done = subprocess.run(
        [executable, "taxonomy", "stats", "--json"], capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout)["leaves"] == 76

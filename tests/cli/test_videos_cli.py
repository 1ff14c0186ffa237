"""``scine videos``: import by map, synthetic shots, generation with a renderer, models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scine.cli import app, main
from scine.records import Prompt, Video, read_jsonl, write_jsonl
from scine.video.probe import probe
from tests.video.test_probe import encode

runner = CliRunner()
PROMPTS = [Prompt(id=f"p{n}", text=f"Shot {n}.", split="custom") for n in (1, 2)]


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    path = tmp_path / "prompts.jsonl"
    write_jsonl(path, PROMPTS)
    return path


def test_import_a_directory_map(tmp_path: Path, suite: Path) -> None:
    for model in ("alpha", "beta"):
        (tmp_path / "clips" / model).mkdir(parents=True)
        encode(tmp_path / "clips" / model / "p1.mp4")
    out = tmp_path / "videos.jsonl"
    printed = invoke(
        "videos", "import", "--prompts", str(suite), "--map", str(tmp_path / "clips"),
        "--out", str(out),
    )  # fmt: skip
    assert "2 video(s) of 2 model(s)" in printed
    assert "missing 2 (prompt, model) pair(s)" in printed
    assert sorted(video.id for video in read_jsonl(out, Video)) == ["alpha/p1", "beta/p1"]
    report = json.loads((tmp_path / "videos.report.json").read_text())
    assert len(report["missing"]) == 2


def test_a_bad_file_fails_the_import_unless_skipped(tmp_path: Path, suite: Path) -> None:
    encode(tmp_path / "good.mp4")
    (tmp_path / "empty.mp4").write_bytes(b"")
    mapping = tmp_path / "map.csv"
    mapping.write_text("prompt_id,model,path\np1,m,good.mp4\np2,m,empty.mp4\n")
    out = tmp_path / "videos.jsonl"
    base = ("videos", "import", "--prompts", str(suite), "--map", str(mapping), "--out", str(out))
    printed = invoke(*base, code=1)
    assert "map.csv:3: empty.mp4: empty file (0 bytes)" in printed
    assert "1 bad file(s); fix them or pass --skip-bad" in printed
    assert not out.exists()
    printed = invoke(*base, "--skip-bad")
    assert "skipped 1 bad file(s)" in printed
    assert [video.id for video in read_jsonl(out, Video)] == ["m/p1"]


def test_synth_writes_videos_truth_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "synth"
    printed = invoke(
        "videos", "synth", "--out", str(out), "--n", "3", "--seed", "7", "--seconds", "0.5",
        "--size", "160x96",
    )  # fmt: skip
    assert "wrote 3 shot(s)" in printed
    videos = read_jsonl(out / "videos.jsonl", Video)
    truth = [json.loads(line) for line in (out / "truth.jsonl").read_text().splitlines()]
    assert (
        [v.id for v in videos]
        == [row["video_id"] for row in truth]
        == [f"synth/shot-{i:04d}" for i in range(3)]
    )
    assert all(row["controls"] for row in truth)
    for video in videos:
        probed = probe(out / video.path)
        assert (probed.width, probed.height, probed.frames) == (160, 96, 12)
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["seed"], manifest["n"]) == (7, 3)


def test_synth_refuses_settings_no_shot_can_have(tmp_path: Path) -> None:
    printed = invoke("videos", "synth", "--out", str(tmp_path), "--size", "161x96", code=1)
    assert "both sides must be even" in printed
    printed = invoke("videos", "synth", "--out", str(tmp_path), "--size", "wide", code=2)
    assert "WIDTHxHEIGHT" in printed


def test_generate_with_a_synthetic_model_then_resume(tmp_path: Path) -> None:
    pan = Prompt.model_validate(
        {
            "id": "pan",
            "text": "The camera pans left over the city.",
            "split": "custom",
            "controls": [{"node": "camera.trajectory.movement", "value": "pan_left"}],
        }
    )
    suite = tmp_path / "prompts.jsonl"
    write_jsonl(suite, [pan])
    out = tmp_path / "generated"
    base = ("videos", "generate", "--model", "synth-fair", "--prompts", str(suite))
    assert "1 generated, 0 already done" in invoke(*base, "--out", str(out), "--device", "cpu")
    assert "0 generated, 1 already done" in invoke(*base, "--out", str(out), "--device", "cpu")
    [video] = read_jsonl(out / "videos.jsonl", Video)
    assert video.id == "synth-fair/pan"
    assert (out / video.path).is_file()


def test_generate_names_unknown_models_and_bad_options(
    tmp_path: Path, suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ("videos", "generate", "--prompts", str(suite), "--out", str(tmp_path))
    with pytest.raises(SystemExit) as exit_info:
        main([*base, "--model", "sora"])
    assert exit_info.value.code == 1
    assert "unknown model 'sora'; known models: wan2.1-1.3b" in capsys.readouterr().err
    assert "--shard takes I/N" in invoke(*base, "--model", "synth-good", "--shard", "2", code=2)


def test_models_lists_diffusers_and_synthetic_models() -> None:
    printed = invoke("videos", "models")
    for name in ("wan2.1-1.3b", "wan2.1-14b", "cogvideox-5b", "ltx-video", "synth-good"):
        assert name in printed

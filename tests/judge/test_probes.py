"""The probes together: one reading per leaf, scores from beliefs, the rater and the CLI."""

from __future__ import annotations

import json
from operator import attrgetter
from pathlib import Path

import pytest
from typer.testing import CliRunner

av = pytest.importorskip("av")
np = pytest.importorskip("numpy")
pytest.importorskip("cv2")

from scine.cli import app  # noqa: E402
from scine.judge.probe_rater import rate_with_probes  # noqa: E402
from scine.judge.probes import LEAVES, PROBES, Reading, probe_video, score  # noqa: E402
from scine.llm.cache import ResponseCache  # noqa: E402
from scine.records import Question, Rating, Video, read_jsonl, write_jsonl  # noqa: E402
from scine.video.synth import ShotSpec, render  # noqa: E402
from tests.judge.videos import write_video  # noqa: E402

SIZE = (426, 240)
FORMAT = {"fps": 24.0, "frames": 72, "width": SIZE[0], "height": SIZE[1]}
runner = CliRunner()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("shots")
    specs = {
        "pan_left": ShotSpec(size=SIZE, seconds=3.0, photo="coffee", movement="pan_left"),
        "warm": ShotSpec(size=SIZE, seconds=3.0, photo="chelsea", temperature="low"),
    }
    paths = {name: folder / f"{name}.mp4" for name in specs}
    for name, spec in specs.items():
        render(spec, paths[name], seed=1)
    paths["black"] = write_video(
        folder / "black.mp4", np.zeros((24, SIZE[1], SIZE[0], 3), np.uint8)
    )
    return paths


def test_one_reading_per_leaf_in_probe_order(shots: dict[str, Path]) -> None:
    readings = probe_video(shots["pan_left"])
    assert [r.node for r in readings] == [leaf for leaves in PROBES.values() for leaf in leaves]
    assert {r.node for r in readings} == LEAVES
    movement = next(r for r in readings if r.node == "camera.trajectory.movement")
    assert movement.value == "pan_left"
    assert movement.support["pan_left"] == max(movement.support.values())
    # on a flat photo a pan and a truck look alike: the belief is shared, the score middling
    assert score(movement, "pan_left") > 2.5 > 1.5 > score(movement, "tilt_up")  # type: ignore[operator]


def test_a_black_video_is_never_read(shots: dict[str, Path]) -> None:
    readings = probe_video(shots["black"])
    assert {r.node for r in readings} == LEAVES
    for reading in readings:
        assert reading.value is None
        assert reading.support == {}
        assert str(reading.reason).startswith("black frames")


def test_score_is_one_plus_four_times_the_belief() -> None:
    reading = Reading(
        node="lighting.conditions.key",
        value="high",
        confidence=0.8,
        support={"high": 0.8, "medium": 0.15, "low": 0.0},
    )
    assert score(reading, "high") == pytest.approx(4.2)
    assert score(reading, "low") == 1.0
    assert score(reading, None) is None  # the question names no value
    assert score(reading, "elsewhere") is None  # a value the probe cannot tell apart


def questions_for(prompt_id: str) -> list[Question]:
    asked = [
        ("camera.trajectory.movement", "pan_left"),
        ("camera.trajectory.movement", "tilt_up"),
        ("lighting.color_temperature", "low"),
        ("lighting.color_temperature", None),
        ("events.types.actions.screen_direction", "left_to_right"),
    ]
    return [
        Question(id=f"{prompt_id}-q{i}", prompt_id=prompt_id, node=node, value=value, text="?")
        for i, (node, value) in enumerate(asked)
    ]


def videos_of(shots: dict[str, Path]) -> list[Video]:
    return [
        Video(id=f"m/{name}", prompt_id=name, model="m", path=path.name, **FORMAT)
        for name, path in shots.items()
    ] + [Video(id="m/gone", prompt_id="gone", model="m", path="gone.mp4", **FORMAT)]


def test_rater_scores_what_probes_read_and_counts_every_abstention(
    shots: dict[str, Path],
) -> None:
    videos = videos_of(shots)
    questions = [q for video in videos for q in questions_for(video.prompt_id)]
    run = rate_with_probes(videos, questions, shots["black"].parent, workers=2)
    assert run.questions == len(questions) == len(run.ratings) + len(run.abstentions)
    scores = {(r.video_id, r.question_id): r.score for r in run.ratings}
    assert scores[("m/pan_left", "pan_left-q0")] > scores[("m/pan_left", "pan_left-q1")]
    assert scores[("m/warm", "warm-q2")] > 3
    for rating in run.ratings:
        assert (rating.rater, rating.rater_kind) == ("probe", "model")
        assert rating.meta["sampling_key"]
        assert rating.raw["support"]  # type: ignore[index]
    reasons = run.summary()["abstentions_by_reason"]
    assert reasons["no probe reads this leaf"] == 3  # one per readable video
    assert reasons["the question names no value"] >= 2
    assert reasons["probe abstained"] >= 2  # the black video's two probed leaves
    assert reasons["video cannot be read"] == 5  # all questions of the missing file
    assert list(run.unreadable) == ["m/gone"]


def test_a_cache_replays_readings_by_video_content(shots: dict[str, Path], tmp_path: Path) -> None:
    videos = [v for v in videos_of(shots) if v.id != "m/gone"]
    questions = [q for video in videos for q in questions_for(video.prompt_id)]
    cache = ResponseCache(tmp_path / "probe-cache.sqlite")
    first = rate_with_probes(videos, questions, shots["black"].parent, cache=cache)
    again = rate_with_probes(videos, questions, shots["black"].parent, cache=cache)
    assert (first.cached, again.cached, len(cache)) == (0, 3, 3)
    assert again.ratings == first.ratings
    assert again.abstentions == first.abstentions
    copy = tmp_path / "copy.mp4"  # the same bytes under another name: found by content
    copy.write_bytes(shots["warm"].read_bytes())
    grey = write_video(tmp_path / "grey.mp4", np.full((24, 96, 128, 3), 128, np.uint8))
    for path, cached in ((copy, 1), (grey, 0)):
        moved = [videos[0].model_copy(update={"path": str(path)})]
        assert rate_with_probes(moved, questions, tmp_path, cache=cache).cached == cached


def test_cli_probe_json(shots: dict[str, Path]) -> None:
    result = runner.invoke(app, ["probe", str(shots["pan_left"]), str(shots["warm"]), "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["video"] for line in lines] == [str(shots["pan_left"]), str(shots["warm"])]
    controls = {c["node"]: c for c in lines[0]["controls"]}
    assert controls["camera.trajectory.movement"]["value"] == "pan_left"
    assert set(controls["camera.trajectory.movement"]) >= {"value", "confidence", "measure"}


def test_cli_probe_reports_an_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    result = runner.invoke(app, ["probe", str(bad), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output.splitlines()[0])["error"]


def test_cli_judge_run_writes_ratings_and_a_report(shots: dict[str, Path], tmp_path: Path) -> None:
    videos = [v for v in videos_of(shots) if v.id != "m/gone"]
    write_jsonl(tmp_path / "videos.jsonl", videos)
    write_jsonl(
        tmp_path / "questions.jsonl", [q for v in videos for q in questions_for(v.prompt_id)]
    )
    out = tmp_path / "ratings.jsonl"
    args = ["judge", "run", "--judge", "probes", "--videos", str(tmp_path / "videos.jsonl")]
    args += ["--questions", str(tmp_path / "questions.jsonl"), "--out", str(out)]
    args += ["--root", str(shots["black"].parent)]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    ratings = read_jsonl(out, Rating)
    report = json.loads((tmp_path / "ratings.report.json").read_text())
    assert report["counts"]["ratings"] == len(ratings) > 0
    assert report["counts"]["ratings"] + report["counts"]["abstentions"] == 15
    assert len(report["abstentions"]) == report["counts"]["abstentions"]
    assert (tmp_path / "probe-cache.sqlite").exists()
    again = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert "3 video(s) read from the cache" in again.output
    assert read_jsonl(out, Rating) == ratings


def test_cli_judge_run_refuses_missing_files_and_names_videos_not_asked_about(
    shots: dict[str, Path], tmp_path: Path
) -> None:
    videos = videos_of(shots)
    write_jsonl(tmp_path / "videos.jsonl", videos)
    write_jsonl(tmp_path / "questions.jsonl", questions_for("black"))  # none about m/gone
    out = tmp_path / "ratings.jsonl"
    args = ["judge", "run", "--videos", str(tmp_path / "videos.jsonl"), "--no-cache"]
    args += ["--questions", str(tmp_path / "questions.jsonl"), "--out", str(out)]
    result = runner.invoke(app, [*args, "--root", str(shots["black"].parent)])
    assert result.exit_code == 1
    assert "videos.jsonl: 1 video file(s) not found (video 'm/gone': field 'path':" in " ".join(
        result.output.split()
    )
    assert not out.exists()
    present = [video for video in videos if video.id != "m/gone"]
    write_jsonl(tmp_path / "videos.jsonl", present)
    result = runner.invoke(app, [*args, "--root", str(shots["black"].parent)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert f"{len(present) - 1} video(s) have no question in" in said
    report = json.loads((tmp_path / "ratings.report.json").read_text())
    assert "m/black" not in report["videos_without_questions"]
    assert len(report["videos_without_questions"]) == len(present) - 1


def test_cli_judge_run_names_a_video_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    video = Video(id="m/bad", prompt_id="black", model="m", path="bad.mp4", **FORMAT)
    write_jsonl(tmp_path / "videos.jsonl", [video])
    write_jsonl(tmp_path / "questions.jsonl", questions_for("black"))
    args = ["judge", "run", "--videos", str(tmp_path / "videos.jsonl"), "--no-cache"]
    args += ["--questions", str(tmp_path / "questions.jsonl")]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "ratings.jsonl")])
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "got no score, first video 'm/bad': " in said
    assert "bad.mp4" in said


def test_sharded_runs_merge_into_the_ratings_of_one_run(
    shots: dict[str, Path], tmp_path: Path
) -> None:
    """Two ``--shard`` jobs rate disjoint halves of the videos; the merge equals one run and
    refuses a missing shard or a pair rated twice."""
    videos = [v for v in videos_of(shots) if v.id != "m/gone"]
    write_jsonl(tmp_path / "videos.jsonl", videos)
    write_jsonl(
        tmp_path / "questions.jsonl", [q for v in videos for q in questions_for(v.prompt_id)]
    )
    files = ["--videos", str(tmp_path / "videos.jsonl")]
    files += ["--questions", str(tmp_path / "questions.jsonl")]
    files += ["--root", str(shots["black"].parent), "--no-cache"]
    whole, out = tmp_path / "whole.jsonl", tmp_path / "ratings.jsonl"
    assert runner.invoke(app, ["judge", "run", *files, "--out", str(whole)]).exit_code == 0
    refused = runner.invoke(app, ["judge", "merge", str(out)])
    assert refused.exit_code == 1
    assert "no shard of" in refused.output
    for index in (0, 1):
        args = ["judge", "run", *files, "--out", str(out), "--shard", f"{index}/2"]
        assert runner.invoke(app, args).exit_code == 0
    halves = [read_jsonl(tmp_path / f"ratings.shard-{i}-of-2.jsonl", Rating) for i in (0, 1)]
    assert all(halves)
    assert not {r.video_id for r in halves[0]} & {r.video_id for r in halves[1]}
    merged = runner.invoke(app, ["judge", "merge", str(out)])
    assert merged.exit_code == 0, merged.output
    key = attrgetter("video_id", "question_id")
    assert sorted(read_jsonl(out, Rating), key=key) == sorted(read_jsonl(whole, Rating), key=key)
    assert json.loads((tmp_path / "ratings.report.json").read_text())["merged_from"] == [
        "ratings.shard-0-of-2.jsonl",
        "ratings.shard-1-of-2.jsonl",
    ]
    second = tmp_path / "ratings.shard-1-of-2.report.json"
    report = json.loads(second.read_text())
    for changed in ({"judge": "openai:other"}, {"questions_sha256": "0" * 64}):
        second.write_text(json.dumps({**report, **changed}))
        said = " ".join(runner.invoke(app, ["judge", "merge", str(out)]).output.split())
        assert f"differ in their reports' {next(iter(changed))!r}" in said
    second.write_text(json.dumps({**report, "unreadable": {"m/x": "broken"}}))
    said = " ".join(runner.invoke(app, ["judge", "merge", str(out)]).output.split())
    assert "left questions without a score: ratings.shard-1-of-2.jsonl (1)" in said
    allowed = runner.invoke(app, ["judge", "merge", str(out), "--allow-failures"])
    assert allowed.exit_code == 0, allowed.output
    second.unlink()
    assert "no report of shard" in runner.invoke(app, ["judge", "merge", str(out)]).output
    second.write_text(json.dumps(report))
    (tmp_path / "ratings.shard-1-of-2.jsonl").write_bytes(
        (tmp_path / "ratings.shard-0-of-2.jsonl").read_bytes()
    )
    assert (
        "rated twice across the shards" in runner.invoke(app, ["judge", "merge", str(out)]).output
    )
    (tmp_path / "ratings.shard-1-of-2.jsonl").unlink()
    assert "missing shard(s)" in runner.invoke(app, ["judge", "merge", str(out)]).output

"""``scine run`` end to end on small real runs: stages, skipping, resuming, the default."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from scine.cli import app
from scine.cli.run import _leaderboard
from scine.run import STAGES, RunConfig, RunError, run_pipeline

SMALL: dict[str, Any] = {
    "suite": {"scripts": 30, "visuals": 30, "prompts": 6, "measurable": 1},
    "models": [{"name": "synth-good"}, {"name": "synth-poor"}],
    "human": {"annotators": 6},
    "analysis": {"boot": 50, "plots": False},
}


def small(**changes: Any) -> RunConfig:
    data = json.loads(json.dumps(SMALL))
    for section, values in changes.items():
        data[section] = {**data.get(section, {}), **values}
    return RunConfig.model_validate(data)


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    run_pipeline(small(), out)
    return out


def statuses(result: Any) -> dict[str, str]:
    return {stage.name: stage.status for stage in result.stages}


def copy(finished: Path, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(finished, out)
    return out


def test_a_run_writes_every_stage_output(finished: Path) -> None:
    prompts = finished.joinpath("prompts.jsonl").read_text().splitlines()
    assert len(prompts) == 6
    assert all(json.loads(line)["role"] == "cinematographer" for line in prompts)
    videos = [json.loads(line) for line in finished.joinpath("videos.jsonl").read_text().split()]
    assert len(videos) == 12
    assert all((finished / v["path"]).is_file() for v in videos)  # relative to the run
    for rater in ("probes", "human"):
        assert finished.joinpath("ratings", f"{rater}.jsonl").stat().st_size > 0
        assert finished.joinpath("analysis", rater, "summary.json").is_file()
    assert finished.joinpath("analysis", "probes", "agreement.json").is_file()
    primary = finished.joinpath("analysis", "probes", "summary.json").read_bytes()
    assert finished.joinpath("summary.json").read_bytes() == primary
    assert finished.joinpath("report.html").is_file()
    truth = json.loads(finished.joinpath("truth.json").read_text())
    assert truth == {"model_order": ["synth-good", "synth-poor"]}
    summary = json.loads(finished.joinpath("run.json").read_text())
    assert set(summary["raters"]) == {"probes", "human"}
    assert summary["primary"] == "probes"


def test_the_summary_has_the_keys_scine_analyze_writes(finished: Path, tmp_path: Path) -> None:
    study = tmp_path / "study"
    study.mkdir()
    for name in ("prompts.jsonl", "questions.jsonl", "videos.jsonl"):
        shutil.copy(finished / name, study / name)
    shutil.copy(finished / "ratings" / "probes.jsonl", study / "ratings.jsonl")
    outcome = CliRunner().invoke(
        app, ["analyze", str(study), "--out", str(tmp_path / "a"), "--boot", "50", "--no-plots"]
    )
    assert outcome.exit_code == 0, outcome.output
    analysed = json.loads((tmp_path / "a" / "summary.json").read_text())
    ran = json.loads(finished.joinpath("summary.json").read_text())
    assert set(ran) == set(analysed)
    assert ran["overall"] == analysed["overall"]


def test_running_again_skips_every_stage_and_rewrites_nothing(
    finished: Path, tmp_path: Path
) -> None:
    out = copy(finished, tmp_path)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    result = run_pipeline(small(), out)
    assert statuses(result) == dict.fromkeys(STAGES, "current")
    after = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    assert {p for p in before if before[p] != after[p]} == {out / "run.toml"}


def test_a_changed_setting_redoes_only_the_stages_after_it(finished: Path, tmp_path: Path) -> None:
    out = copy(finished, tmp_path)
    result = run_pipeline(small(analysis={"boot": 60}), out)
    assert statuses(result) == {
        "bench": "current",
        "videos": "current",
        "evaluate": "current",
        "human": "current",
        "analyze": "ran",
        "report": "ran",
    }


def test_a_deleted_video_is_made_again_and_only_it(finished: Path, tmp_path: Path) -> None:
    out = copy(finished, tmp_path)
    video = json.loads(out.joinpath("videos.jsonl").read_text().splitlines()[0])
    out.joinpath(video["path"]).unlink()
    said: list[str] = []

    class Listen:
        def stage(self, name: str, index: int, total: int) -> None: ...
        def step(self, what: str, done: int, total: int | None) -> None: ...
        def say(self, text: str) -> None:
            said.append(text)

    result = run_pipeline(small(), out, Listen())
    assert statuses(result)["bench"] == "current"
    assert statuses(result)["videos"] == "ran"
    assert f"{video['model']}: 1 generated, 5 kept" in said
    assert out.joinpath(video["path"]).is_file()


def test_a_damaged_video_is_made_again_and_the_ratings_stand(
    finished: Path, tmp_path: Path
) -> None:
    out = copy(finished, tmp_path)
    first, second = [json.loads(line)["path"] for line in out.joinpath("videos.jsonl").open()][:2]
    out.joinpath(first).write_bytes(out.joinpath(second).read_bytes())
    result = run_pipeline(small(), out)
    assert statuses(result)["videos"] == "ran"
    assert out.joinpath(first).read_bytes() == finished.joinpath(first).read_bytes()
    ratings = Path("ratings", "probes.jsonl")
    assert out.joinpath(ratings).read_bytes() == finished.joinpath(ratings).read_bytes()


def test_a_failed_stage_stops_the_run_and_the_next_run_resumes_there(
    finished: Path, tmp_path: Path
) -> None:
    out = copy(finished, tmp_path)
    missing = tmp_path / "absent.jsonl"
    with pytest.raises(RunError, match=r"absent\.jsonl"):
        run_pipeline(small(human={"source": str(missing)}), out)
    votes = out / "ratings" / "human.jsonl"
    shutil.copy(votes, missing)
    result = run_pipeline(small(human={"source": str(missing)}), out)
    assert statuses(result)["evaluate"] == "current"
    assert statuses(result)["human"] == "ran"


def test_no_output_of_an_earlier_run_is_read(finished: Path, tmp_path: Path) -> None:
    out = copy(finished, tmp_path)
    assert out.joinpath("analysis", "probes", "agreement.json").is_file()
    result = run_pipeline(small(human={"source": "none"}), out)
    assert statuses(result)["analyze"] == "ran"
    assert not out.joinpath("analysis", "probes", "agreement.json").exists()
    assert not out.joinpath("analysis", "human").exists()
    assert result.summary["raters"]["probes"]["agreement_with_experts"] is None
    assert set(result.summary["raters"]) == {"probes"}


def test_a_file_in_the_way_of_the_run_folder_is_named(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("not a folder")
    for out in (tmp_path / "taken", tmp_path / "taken" / "run"):
        with pytest.raises(RunError, match="a file is in the way of the run folder"):
            run_pipeline(small(), out)


@pytest.mark.parametrize(
    ("method", "refused", "error", "said"),
    [
        ("mkdir", "", (13, "Permission denied"), "cannot make the folder: Permission denied;"),
        ("iterdir", "", (13, "Permission denied"), "cannot read the folder: Permission denied;"),
        ("mkdir", ".run", (30, "Read-only file system"), "cannot write in the folder: Read-only"),
        (
            "write_text",
            ".run/scine-run.json",
            (28, "No space left on device"),
            "cannot write in the folder: No space left on device ({out}/.run/scine-run.json)",
        ),
    ],
    ids=["make", "read", "read-only", "disk-full"],
)
def test_a_run_folder_the_system_refuses_is_named_and_left_as_it_was(
    method: str,
    refused: str,
    error: tuple[int, str],
    said: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tests run as root, whom permissions do not stop: the refusal is simulated."""
    out = tmp_path / "run"
    if method != "mkdir" or refused:
        out.mkdir()
    before = tree(tmp_path)
    original = getattr(Path, method)

    def refusing(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == out / refused:
            raise OSError(*error, str(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, method, refusing)
    outcome = CliRunner().invoke(app, ["run", "--out", str(out)])
    assert outcome.exit_code == 1
    assert f"error: --out {out}: {said.format(out=out)}" in " ".join(outcome.output.split())
    monkeypatch.undo()
    assert tree(tmp_path) == before


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every entry under ``folder``: a file's bytes, None for a folder."""
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
        for p in folder.rglob("*")
    }


def test_a_folder_that_is_no_run_is_refused_and_left_untouched(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for name in ("notes.txt", "analysis/keep.csv", "photos/a.jpg", ".run/config.run.xml"):
        home.joinpath(name).parent.mkdir(parents=True, exist_ok=True)
        home.joinpath(name).write_text(f"{name} of another tool")
    for name in ("b", "c", "d"):
        home.joinpath(name).mkdir()
    before = tree(home)
    expected = (
        rf"--out {home}: the folder is not empty \(\.run, analysis, b, c, d and 2 more\) and "
        r"is not a scine run \(no \.run/scine-run\.json\); choose an empty or new folder"
    )
    for force in (False, True):
        with pytest.raises(RunError, match=expected):
            run_pipeline(small(), home, force=force)
    outcome = CliRunner().invoke(app, ["run", "--out", str(home)])
    assert outcome.exit_code == 1
    assert "choose an empty or new folder" in " ".join(outcome.output.split())
    assert tree(home) == before


def test_a_run_interrupted_in_its_first_stages_resumes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Killed before the first stage's record (its outputs written), then in the second
    stage: each time the next run goes on in the same folder, and the folder, empty at
    first, is a run from the start."""
    out = tmp_path / "run"
    out.mkdir()

    def killed(*args: Any, **kwargs: Any) -> list[Path]:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr("scine.run.pipeline.mark_done", killed)
        with pytest.raises(KeyboardInterrupt):
            run_pipeline(small(), out)
    assert out.joinpath("prompts.jsonl").is_file()
    assert not out.joinpath(".run", "bench.json").exists()
    with monkeypatch.context() as patch:
        patch.setattr("scine.run.pipeline._videos", killed)
        with pytest.raises(KeyboardInterrupt):
            run_pipeline(small(), out)
    result = run_pipeline(small(), out)
    assert statuses(result) == {"bench": "current", **dict.fromkeys(STAGES[1:], "ran")}


def test_a_run_made_before_the_marker_resumes_and_gets_it(finished: Path, tmp_path: Path) -> None:
    out = copy(finished, tmp_path)
    marker = out / ".run" / "scine-run.json"
    written = marker.read_bytes()
    marker.unlink()
    out.joinpath("leaderboard.md").write_text("a run folder may hold other files")
    assert statuses(run_pipeline(small(), out)) == dict.fromkeys(STAGES, "current")
    assert marker.read_bytes() == written


def test_an_interrupted_run_says_how_to_go_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("scine.run.run_pipeline", interrupted)
    outcome = CliRunner().invoke(app, ["run", "--out", str(tmp_path / "run")])
    assert outcome.exit_code == 130
    assert "run the same command again to go on" in " ".join(outcome.output.split())


def test_imported_videos_run_and_simulated_experts_refuse_them(
    finished: Path, tmp_path: Path
) -> None:
    """Videos imported by a map carry no record of what they show: the probes rate them,
    simulated experts cannot."""
    mapped = tmp_path / "map"
    for source, name in (("synth-good", "mine"), ("synth-poor", "theirs")):
        shutil.copytree(finished / "videos" / source / "videos" / source, mapped / name)
    models = [{"name": "mine", "import": str(mapped)}, {"name": "theirs", "import": str(mapped)}]
    config = RunConfig.model_validate({**SMALL, "models": models})
    out = copy(finished, tmp_path)
    with pytest.raises(RunError, match="simulated experts need videos whose content is known"):
        run_pipeline(config, out)
    none = config.model_copy(update={"human": config.human.model_copy(update={"source": "none"})})
    result = run_pipeline(none, out)
    assert statuses(result)["evaluate"] == "current"  # rated before the experts failed
    assert not out.joinpath("ratings", "human.jsonl").exists()
    assert not out.joinpath("truth.json").exists()  # no planted order to check
    summary = json.loads(out.joinpath("summary.json").read_text())
    assert set(summary["overall"]) == {"mine", "theirs"}
    assert statuses(run_pipeline(none, out))["videos"] == "current"
    records = out.joinpath("videos.jsonl").read_bytes()
    changed = sorted((mapped / "mine").iterdir())[0]
    data = bytearray(changed.read_bytes())
    data[len(data) * 3 // 5] ^= 1  # the same size, the same record, other pixels
    changed.write_bytes(bytes(data))
    replaced = statuses(run_pipeline(none, out))
    assert out.joinpath("videos.jsonl").read_bytes() == records
    assert replaced["videos"] == replaced["evaluate"] == "ran"
    first, second = sorted((mapped / "mine").iterdir())[:2]
    first.write_bytes(second.read_bytes())  # an imported file replaced
    assert statuses(run_pipeline(none, out))["videos"] == "ran"
    assert result.summary["raters"]["probes"]["uneven_coverage"] is None
    first.unlink()  # a file taken out of the folder map
    assert statuses(run_pipeline(none, out))["videos"] == "ran"
    videos = out.joinpath("videos.jsonl").read_text().splitlines()
    assert len(videos) == 11
    rated = [
        json.loads(line)["video_id"] for line in out.joinpath("ratings", "probes.jsonl").open()
    ]
    mapped.joinpath(next(v for v in rated if v.startswith("mine/")) + ".mp4").unlink()
    uneven = run_pipeline(none, out).summary["raters"]["probes"]["uneven_coverage"]
    assert "models were rated on different questions" in uneven


def test_the_embedded_default_ranks_the_synthetic_models_in_their_planted_order(
    tmp_path: Path,
) -> None:
    """The README's main command: offline suite, three synthetic models, the probes,
    simulated experts. The probes must recover the planted order on both axes they read."""
    outcome = CliRunner().invoke(app, ["run", "--out", str(tmp_path / "run")])
    assert outcome.exit_code == 0, outcome.output
    order = json.loads((tmp_path / "run" / "truth.json").read_text())["model_order"]
    assert order == ["synth-good", "synth-fair", "synth-poor"]
    checks = json.loads((tmp_path / "run" / "run.json").read_text())["truth_check"]["probes"]
    assert set(checks) == {"camera", "lighting"}
    assert all(check["matches"] for check in checks.values()), checks
    assert "report:" in outcome.output


def test_expert_votes_come_from_a_study_database(finished: Path, tmp_path: Path) -> None:
    """``human.source`` as a study URL: the votes submitted in the study are the experts'."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from scine.records import Prompt, Question, Video, read_jsonl
    from scine.study import schema
    from scine.study.create import create_study
    from scine.study.database import open_database
    from scine.study.votes import submit
    from tests.study.test_create import ballots_for

    url = f"sqlite:///{tmp_path / 'study.db'}"
    create_study(
        url,
        read_jsonl(finished / "prompts.jsonl", Prompt),
        read_jsonl(finished / "questions.jsonl", Question),
        read_jsonl(finished / "videos.jsonl", Video),
        ["ana", "ben", "cid"],
        votes=2,
    )
    with Session(open_database(url)) as session, session.begin():
        tasks = session.scalars(select(schema.Task)).all()
        for task in tasks:
            submit(session, task.annotator_id, task.id, ballots_for(session, task, 5))
    out = copy(finished, tmp_path)
    result = run_pipeline(small(human={"source": url}), out)
    assert statuses(result)["evaluate"] == "current"
    assert statuses(result)["human"] == "ran"
    votes = [json.loads(line) for line in out.joinpath("ratings", "human.jsonl").open()]
    assert {vote["rater"] for vote in votes} <= {"ana", "ben", "cid"}
    assert {vote["score"] for vote in votes} == {5.0}
    summary = json.loads(out.joinpath("run.json").read_text())
    assert set(summary["raters"]["human"]["overall"]) == {"synth-good", "synth-poor"}


def test_a_vlm_judge_and_the_probes_rate_in_one_run(finished: Path, tmp_path: Path) -> None:
    """Several evaluators at once, one of them a (tiny, random) Qwen2.5-VL loaded from a
    folder: each writes its ratings, is analysed and compared with the experts."""
    from tests.vlm.tiny import tiny_model_folder

    folder = tiny_model_folder(tmp_path / "tiny-qwen")
    judge = {"judge": f"qwen:{folder}", "name": "tiny", "fps": 1.0, "max_pixels": 56 * 84}
    config = RunConfig.model_validate(
        {
            **SMALL,
            "evaluators": [{"judge": "probes"}, judge],
            "analysis": {"boot": 50, "plots": False, "primary": "tiny"},
        }
    )
    out = copy(finished, tmp_path)
    result = run_pipeline(config, out)
    assert statuses(result)["evaluate"] == "ran"  # (a VLM reads every leaf: other prompts)
    questions = len(out.joinpath("questions.jsonl").read_text().splitlines())
    tiny = [json.loads(line) for line in out.joinpath("ratings", "tiny.jsonl").open()]
    assert len(tiny) == 2 * questions  # a VLM answers every question of both models' videos
    assert {rating["rater"] for rating in tiny} == {"tiny"}
    summary = json.loads(out.joinpath("run.json").read_text())
    assert summary["primary"] == "tiny"
    assert set(summary["raters"]) == {"probes", "tiny", "human"}
    assert summary["raters"]["tiny"]["sampling"]["default"]["fps"] == 1.0
    assert out.joinpath("analysis", "tiny", "agreement.json").is_file()
    assert (
        out.joinpath("summary.json").read_bytes()
        == out.joinpath("analysis", "tiny", "summary.json").read_bytes()
    )


def test_the_printed_leaderboard_has_the_axes_in_the_papers_order() -> None:
    found = {
        "axis_scores": {"m": {"camera": 3.0, "setup": 2.0, "lighting": 4.0}},
        "overall": {"m": {"mean": 3.0}},
        "tiers": [["m"]],
    }
    table = _leaderboard("probes", found, {})
    headers = [column.header for column in table.columns]
    assert headers == ["model", "tier", "overall", "setup", "lighting", "camera"]

"""The zero-shot VLM judge end to end on a tiny random Qwen2.5-VL: frames to scores."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
np = pytest.importorskip("numpy")
pytest.importorskip("av")

from scine.cli import app  # noqa: E402
from scine.judge.vlm import (  # noqa: E402
    TEMPLATE_ID,
    Answer,
    Ask,
    QwenJudge,
    VideoAsks,
    expected_score,
    instruction,
    question_text,
)
from scine.judge.vlm_rater import Sampler, rate_with_judge  # noqa: E402
from scine.llm.cache import ResponseCache  # noqa: E402
from scine.records import Prompt, Question, Rating, Video, read_jsonl, write_jsonl  # noqa: E402
from scine.run.evaluate import JudgeOptions, rate_videos  # noqa: E402
from scine.taxonomy import load_taxonomy  # noqa: E402
from scine.video.sample import VideoSampling, sample_frames  # noqa: E402
from scine.vlm.qwen import QwenVL  # noqa: E402
from tests.judge.videos import write_video  # noqa: E402
from tests.llm.chat_server import Reply, serve  # noqa: E402
from tests.vlm.tiny import tiny_model_folder  # noqa: E402

SNAPSHOT = Path(__file__).parent / "snapshots" / "vlm_rating.txt"
SAMPLING = VideoSampling(fps=2.0, max_pixels=56 * 84)
runner = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model_folder(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def judge(folder: Path) -> QwenJudge:
    return QwenJudge(QwenVL.load(str(folder), device="cpu"))


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three videos of two prompts, with their questions and prompts."""
    root = tmp_path_factory.mktemp("study")
    rng = np.random.default_rng(3)
    videos = []
    for n, prompt in enumerate(["p1", "p1", "p2"]):
        clip = rng.integers(0, 256, (36, 96, 160, 3), dtype=np.uint8)
        write_video(root / f"v{n}.mp4", clip)
        videos.append(
            Video(
                id=f"m{n}/{prompt}",
                prompt_id=prompt,
                model=f"m{n}",
                path=f"v{n}.mp4",
                fps=24,
                frames=36,
                width=160,
                height=96,
            )
        )
    prompts = [
        Prompt(id="p1", text="A slow pan left over a harbour at dusk.", split="visuals"),
        Prompt(id="p2", text="A woman lit by a flickering neon sign.", split="visuals"),
    ]
    questions = [
        Question(
            id="p1/pan",
            prompt_id="p1",
            node="camera.trajectory.movement",
            value="pan_left",
            text="Does the camera pan left?",
        ),
        Question(
            id="p1/time",
            prompt_id="p1",
            node="setup.scene.set_design.environment.time_of_day",
            value="dusk",
            text="Is it dusk?",
        ),
        Question(
            id="p2/neon",
            prompt_id="p2",
            node="setup.scene.set_design.environment.time_of_day",
            value=None,
            text="What time of day is it?",
        ),
    ]
    write_jsonl(root / "videos.jsonl", videos)
    write_jsonl(root / "prompts.jsonl", prompts)
    write_jsonl(root / "questions.jsonl", questions)
    return root


def judge_args(folder: Path, study: Path, out: Path) -> list[str]:
    """``scine judge run`` with the tiny model over the study's videos, into ``out``."""
    files = ["--videos", str(study / "videos.jsonl"), "--questions", str(study / "questions.jsonl")]
    size = ["--max-pixels", str(56 * 84)]
    return ["judge", "run", "--judge", f"qwen:{folder}", *files, "--out", str(out), *size]


def test_the_instruction_matches_its_snapshot() -> None:
    ask = Ask("A slow pan left at dusk.", "Camera > Movement: Pan left", "Does it pan left?")
    text = f"{instruction()}\n---\n{question_text(ask)}\n"
    if os.environ.get("SCINE_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert text == SNAPSHOT.read_text(encoding="utf-8"), (
        "the judge's instruction changed: review it and rerun with SCINE_UPDATE_SNAPSHOTS=1"
    )


def test_expected_score_is_the_mean_rating() -> None:
    assert expected_score([0, 0, 0, 0, 1]) == 5
    assert expected_score([0.5, 0, 0, 0, 0.5]) == 3
    with pytest.raises(ValueError, match="5 probabilities"):
        expected_score([1.0])


def test_scores_come_from_the_rating_tokens_probabilities(judge: QwenJudge, study: Path) -> None:
    frames = sample_frames(study / "v0.mp4", SAMPLING)
    asks = [Ask("p", "c", "Does the camera pan left?"), Ask("p", "c", "Is it dusk?")]
    (answers,) = judge.answer([VideoAsks(frames, asks)])
    assert len(answers) == 2
    for answer in answers:
        assert answer.probs is not None
        assert answer.mass is not None
        assert sum(answer.probs) == pytest.approx(1.0, abs=1e-6)
        assert 0 < answer.mass < 1  # a random model spreads its belief over the whole vocabulary
        assert answer.score == pytest.approx(expected_score(answer.probs))
        assert answer.text  # the greedy token, kept
    assert answers[0].probs != answers[1].probs  # the question reaches the model


def test_batching_does_not_change_scores(folder: Path, study: Path) -> None:
    model = QwenVL.load(str(folder), device="cpu")
    videos = [
        VideoAsks(
            sample_frames(study / f"v{n}.mp4", SAMPLING),
            [Ask("p", "c", f"Q{k}?") for k in range(3)],
        )
        for n in range(3)
    ]
    one = QwenJudge(model, video_batch=1, question_batch=1).answer(videos)
    many = QwenJudge(model, video_batch=3, question_batch=4).answer(videos)
    for alone, together in zip(one, many, strict=True):
        for a, b in zip(alone, together, strict=True):
            assert a.score == pytest.approx(b.score, abs=1e-4)


def test_rater_writes_model_ratings_and_caches_answers(
    judge: QwenJudge, study: Path, tmp_path: Path
) -> None:
    videos = read_jsonl(study / "videos.jsonl", Video)
    questions = read_jsonl(study / "questions.jsonl", Question)
    prompts = {p.id: p.text for p in read_jsonl(study / "prompts.jsonl", Prompt)}
    cache = ResponseCache(tmp_path / "cache.sqlite")
    sampler = Sampler(SAMPLING, SAMPLING.model_copy(update={"fps": 4.0}))
    run = rate_with_judge(
        judge, videos, questions, prompts, load_taxonomy(), study, sampler=sampler, cache=cache
    )
    assert len(run.ratings) == 2 + 2 + 1
    assert not run.failures
    assert run.answered == 5
    assert run.cached == 0
    rating = run.ratings[0]
    assert rating.rater == judge.name
    assert rating.rater_kind == "model"
    assert rating.meta["template"] == TEMPLATE_ID
    by_question = {r.question_id: r for r in run.ratings if r.video_id == "m0/p1"}
    assert by_question["p1/pan"].meta["sampling"]["fps"] == 4.0  # camera questions: their own rate
    assert by_question["p1/time"].meta["sampling"]["fps"] == 2.0
    assert set(rating.raw["probs"]) == {"1", "2", "3", "4", "5"}  # type: ignore[index]
    again = rate_with_judge(
        judge, videos, questions, prompts, load_taxonomy(), study, sampler=sampler, cache=cache
    )
    assert again.cached == 5
    assert again.answered == 0
    assert again.ratings == run.ratings


def test_an_unreadable_video_fails_its_questions_and_nothing_else(
    judge: QwenJudge, study: Path, tmp_path: Path
) -> None:
    videos = read_jsonl(study / "videos.jsonl", Video)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    videos[2] = videos[2].model_copy(update={"path": str(broken)})
    questions = read_jsonl(study / "questions.jsonl", Question)
    prompts = {p.id: p.text for p in read_jsonl(study / "prompts.jsonl", Prompt)}
    run = rate_with_judge(
        judge, videos, questions, prompts, load_taxonomy(), study, sampler=Sampler(SAMPLING)
    )
    assert len(run.ratings) == 4
    assert [(f.video_id, f.question_id) for f in run.failures] == [("m2/p2", "p2/neon")]
    assert run.failures[0].reason.startswith("video cannot be read")


def test_cli_runs_a_local_model_and_resumes_from_its_cache(
    folder: Path, study: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ratings.jsonl"
    args = judge_args(folder, study, out)
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    ratings = read_jsonl(out, Rating)
    report = json.loads(out.with_name("ratings.report.json").read_text())
    assert report["counts"]["ratings"] == len(ratings) == 5
    assert report["counts"]["answers_made"] == 5
    assert report["sampling"]["default"]["fps"] == 2.0
    again = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert again.exit_code == 0, again.output
    assert (
        json.loads(out.with_name("ratings.report.json").read_text())["counts"]["answers_from_cache"]
        == 5
    )
    assert read_jsonl(out, Rating) == ratings


def test_cli_names_a_bad_judge(study: Path, tmp_path: Path) -> None:
    args = [
        "judge",
        "run",
        "--judge",
        "llava:x",
        "--videos",
        str(study / "videos.jsonl"),
        "--questions",
        str(study / "questions.jsonl"),
        "--out",
        str(tmp_path / "r.jsonl"),
    ]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "llava:x" in result.output


def test_cli_prompt_swap_writes_the_control_ratings(
    folder: Path, study: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ratings.jsonl"
    args = [*judge_args(folder, study, out), "--prompt-swap", "3"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    swapped = read_jsonl(out.with_name("ratings.swap.jsonl"), Rating)
    own = {(r.video_id, r.question_id) for r in read_jsonl(out, Rating)}
    assert swapped
    assert not own & {(r.video_id, r.question_id) for r in swapped}
    summary = json.loads(out.with_name("ratings.report.json").read_text())["prompt_swap"]
    assert summary["videos"] == summary["asked"] == len(swapped)
    assert summary["failures"] == []
    assert len({r.video_id for r in swapped}) == len(swapped)  # one question per swapped video
    questions = {q.id: q for q in read_jsonl(study / "questions.jsonl", Question)}
    videos = {v.id: v for v in read_jsonl(study / "videos.jsonl", Video)}
    for rating in swapped:
        own_prompt = videos[rating.video_id].prompt_id
        own = {(q.node, q.value) for q in questions.values() if q.prompt_id == own_prompt}
        asked = questions[rating.question_id]
        assert (asked.node, asked.value) not in own


def test_cli_names_prompts_missing_from_the_prompt_file(study: Path, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "prompts.jsonl", read_jsonl(study / "prompts.jsonl", Prompt)[:1])
    args = ["judge", "run", "--judge", "qwen:unused", "--videos", str(study / "videos.jsonl")]
    args += ["--questions", str(study / "questions.jsonl"), "--out", str(tmp_path / "r.jsonl")]
    result = runner.invoke(app, [*args, "--prompts", str(tmp_path / "prompts.jsonl")])
    assert result.exit_code == 1
    assert "no prompt p2 (of 1 missing)" in result.output


class ConstantJudge:
    """A judge giving every ask the same answer."""

    name = "constant"

    def __init__(self, answer: Answer) -> None:
        self.given = answer

    def answer(self, videos: Sequence[VideoAsks]) -> list[list[Answer]]:
        return [[self.given] * len(video.asks) for video in videos]


def test_rewards_far_from_zero_keep_their_scores_in_range() -> None:
    assert Answer(text="", reward=-800.0).score == pytest.approx(1.0)
    assert Answer(text="", reward=800.0).score == pytest.approx(5.0)
    assert Answer(text="", reward=0.0).score == pytest.approx(3.0)


def test_a_score_that_is_not_a_number_is_a_failure_not_a_rating(study: Path) -> None:
    videos = read_jsonl(study / "videos.jsonl", Video)
    questions = read_jsonl(study / "questions.jsonl", Question)
    prompts = {p.id: p.text for p in read_jsonl(study / "prompts.jsonl", Prompt)}
    judge = ConstantJudge(Answer(text="", reward=float("nan")))
    run = rate_with_judge(
        judge, videos, questions, prompts, load_taxonomy(), study, sampler=Sampler(SAMPLING)
    )
    assert run.ratings == []
    assert len(run.failures) == 5
    assert run.failures[0].reason == "no answer: score nan"
    assert run.answered == 5


def test_a_served_judge_fills_its_concurrency_and_caches_per_frame_format(
    study: Path, tmp_path: Path
) -> None:
    videos = read_jsonl(study / "videos.jsonl", Video)
    questions = read_jsonl(study / "questions.jsonl", Question)
    prompts = {p.id: p.text for p in read_jsonl(study / "prompts.jsonl", Prompt)}
    cache = ResponseCache(tmp_path / "cache.sqlite")
    with serve() as server:
        server.default = lambda body: Reply(content="3", top_logprobs={"3": 0.0}, delay=0.3)
        options = JudgeOptions(base_url=server.base_url, max_pixels=56 * 84)
        first = rate_videos("openai:m", videos, questions, prompts, study, options, cache)
        assert server.peak_in_flight == 5  # every question of the three videos at once
        assert first.details["frames_as"] == "video"
        assert first.details["sampling"]["default"]["fps"] == 2.0  # not given: the default
        as_images = JudgeOptions(base_url=server.base_url, max_pixels=56 * 84, frames_as="images")
        second = rate_videos("openai:m", videos, questions, prompts, study, as_images, cache)
        assert second.details["counts"]["answers_from_cache"] == 0
        again = rate_videos("openai:m", videos, questions, prompts, study, options, cache)
        assert again.details["counts"]["answers_from_cache"] == 5


@pytest.mark.parametrize(
    ("out", "extra", "said"),
    [
        ("r.parquet", [], "name a .jsonl file"),
        ("r.jsonl", ["--base-url", "http://127.0.0.1:9/v1"], "--base-url is for an openai: judge"),
        ("r.jsonl", ["--judge", "openai: "], "judge 'openai: ': expected"),
        ("r.jsonl", ["--frames-as", "video"], "--frames-as is for an openai: judge, not qwen"),
        (
            "r.jsonl",
            ["--concurrency", "16", "--retries", "4"],
            "--concurrency and --retries are for an openai: judge, not qwen",
        ),
        ("r.jsonl", ["--judge", "probes", "--timeout", "9"], "--timeout is for an openai: judge"),
        ("r.jsonl", ["--judge", "openai:m", "--frames-as", "gif"], "--frames-as 'gif': expected"),
        (
            "r.jsonl",
            ["--judge", "probes", "--fps", "2", "--camera-fps", "4"],
            "--fps, --camera-fps and --max-pixels are for a qwen: or openai: judge, not probes",
        ),
        (
            "r.jsonl",
            ["--judge", "probes", "--batch", "1"],
            "--batch is for a qwen:, openai: or reward: judge, not probes",
        ),
        (
            "r.jsonl",
            ["--judge", "probes", "--question-batch", "16"],
            "--question-batch is for a qwen: or reward: judge, not probes",
        ),
        (
            "r.jsonl",
            ["--judge", "probes", "--prompts", "p.jsonl"],
            "--max-pixels is for a qwen: or openai: judge, not probes; --prompts is for a "
            "qwen:, openai: or reward: judge, not probes",
        ),
        (
            "r.jsonl",
            ["--judge", "openai:m", "--question-batch", "16"],
            "--question-batch is for a qwen: or reward: judge, not openai",
        ),
        ("r.jsonl", ["--seed", "3"], "--seed is the prompt swap's: give it with --prompt-swap"),
        ("r.jsonl", ["--cache", "c.sqlite", "--no-cache"], "--cache c.sqlite and --no-cache"),
        (
            "r.jsonl",
            ["--judge", "reward:ckpt", "--fps", "2", "--camera-fps", "4"],
            "--fps, --camera-fps and --max-pixels are for a qwen: or openai: judge, not reward",
        ),
    ],
)
def test_cli_refuses_what_it_cannot_do_before_any_work(
    folder: Path, study: Path, tmp_path: Path, out: str, extra: list[str], said: str
) -> None:
    result = runner.invoke(app, [*judge_args(folder, study, tmp_path / out), *extra])
    assert result.exit_code == 1, result.output
    assert said in " ".join(result.output.split())
    assert not list(tmp_path.glob("*.sqlite"))


def test_cli_lists_questions_no_video_is_asked(folder: Path, study: Path, tmp_path: Path) -> None:
    extra = Question(
        id="p9/x", prompt_id="p9", node="camera.trajectory.movement", value=None, text="?"
    )
    write_jsonl(
        tmp_path / "questions.jsonl", [*read_jsonl(study / "questions.jsonl", Question), extra]
    )
    (tmp_path / "prompts.jsonl").write_bytes((study / "prompts.jsonl").read_bytes())
    args = judge_args(folder, study, tmp_path / "r.jsonl")
    args[args.index("--questions") + 1] = str(tmp_path / "questions.jsonl")
    result = runner.invoke(app, [*args, "--root", str(study)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "1 question(s) have no video" in " ".join(result.output.split())
    report = json.loads((tmp_path / "r.report.json").read_text())
    assert report["questions_without_videos"] == ["p9/x"]


def test_the_report_counts_low_mass_scores_and_groups_failures_by_their_cause(
    study: Path,
) -> None:
    videos = read_jsonl(study / "videos.jsonl", Video)
    questions = read_jsonl(study / "questions.jsonl", Question)
    prompts = {p.id: p.text for p in read_jsonl(study / "prompts.jsonl", Prompt)}

    def summary(answer: Answer) -> dict[str, object]:
        run = rate_with_judge(
            ConstantJudge(answer),
            videos,
            questions,
            prompts,
            load_taxonomy(),
            study,
            sampler=Sampler(SAMPLING),
        )
        return run.summary()

    unsure = Answer(text="Sure", probs=(0.2,) * 5, mass=0.01)
    assert summary(unsure)["scores_of_low_mass"] == 5
    assert summary(Answer(text="4", probs=(0, 0, 0, 1, 0), mass=0.9))["scores_of_low_mass"] == 0
    failed = Answer(text="", error="failed after 5 attempts: HTTP 500: boom")
    assert summary(failed)["failures_by_reason"] == {"no answer: failed after 5 attempts": 5}


def test_a_run_answered_from_the_cache_loads_no_model(
    folder: Path, study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    videos = read_jsonl(study / "videos.jsonl", Video)
    questions = read_jsonl(study / "questions.jsonl", Question)
    prompts = {p.id: p.text for p in read_jsonl(study / "prompts.jsonl", Prompt)}
    cache = ResponseCache(tmp_path / "cache.sqlite")
    options = JudgeOptions(max_pixels=56 * 84)
    first = rate_videos(f"qwen:{folder}/", videos, questions, prompts, study, options, cache)
    assert first.details["counts"]["answers_made"] == 5
    assert {r.rater for r in first.ratings} == {f"qwen:{folder}"}  # one name however written

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(QwenVL, "load", refuse)
    again = rate_videos(f"qwen:{folder}", videos, questions, prompts, study, options, cache)
    assert again.details["counts"]["answers_from_cache"] == 5
    assert again.ratings == first.ratings

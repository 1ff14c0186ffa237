"""The trained evaluator on tiny random Qwen2.5-VL models: loss, head, data, training,
checkpoints, scoring, and a learning test on synthetic shots."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")
pytest.importorskip("accelerate")
np = pytest.importorskip("numpy")
pytest.importorskip("av")

from pydantic import ValidationError  # noqa: E402

from scine.analysis.table import load_study  # noqa: E402
from scine.cli import app  # noqa: E402
from scine.judge.vlm import TEMPLATE_ID, instruction  # noqa: E402
from scine.llm.cache import ResponseCache  # noqa: E402
from scine.records import Prompt, Question, Rating, Video, read_jsonl, write_jsonl  # noqa: E402
from scine.reward.checkpoint import (  # noqa: E402
    CheckpointError,
    TrainSettings,
    load_reward,
    save_reward,
)
from scine.reward.data import PairError, split_by_prompt, study_pairs  # noqa: E402
from scine.reward.loss import bradley_terry_loss  # noqa: E402
from scine.reward.model import RewardInput, RewardModel  # noqa: E402
from scine.reward.train import (  # noqa: E402
    ShardingError,
    TrainingError,
    check_sharding,
    make_trainable,
    process_share,
    train_reward,
)
from scine.run.evaluate import EvaluatorError, JudgeOptions, rate_videos  # noqa: E402
from scine.video.sample import VideoSampling  # noqa: E402
from scine.vlm.qwen import ModelLoadError, QwenVL  # noqa: E402
from tests.reward.study import write_study  # noqa: E402
from tests.vlm.tiny import tiny_model_folder  # noqa: E402

SMALL = VideoSampling(fps=2.0, max_pixels=56 * 56)
runner = CliRunner()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model_folder(tmp_path_factory.mktemp("base"))


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_study(tmp_path_factory.mktemp("study"), 48)


@pytest.fixture(scope="module")
def model(base: Path) -> RewardModel:
    return RewardModel(QwenVL.load(str(base), device="cpu"), instruction())


def clip(model: RewardModel, seed: int, frames: int = 4) -> RewardInput:
    rng = np.random.default_rng(seed)
    video = model.qwen.patches(rng.integers(0, 256, (frames, 56, 84, 3), dtype=np.uint8), 2.0)
    return RewardInput(
        video, model.qwen.continuation_ids(f"Question {seed}: is it warm?" * (seed + 1))
    )


def test_bradley_terry_matches_a_hand_computation() -> None:
    a, b = torch.tensor([0.3, -1.0, 0.5]), torch.tensor([0.1, 0.2, 0.5])
    loss = bradley_terry_loss(a, b, torch.tensor([0, 1, 2]))  # the tie is masked out
    expected = -(math.log(1 / (1 + math.exp(-0.2))) + math.log(1 / (1 + math.exp(-1.2)))) / 2
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="every pair is a tie"):
        bradley_terry_loss(a, b, torch.tensor([2, 2, 2]))


def test_rao_kupper_probabilities_sum_to_one() -> None:
    a, b, margin = torch.tensor([0.3, -1.0]), torch.tensor([0.1, 0.2]), 0.7
    p = [
        math.exp(-float(bradley_terry_loss(a[:1], b[:1], torch.tensor([k]), margin)))
        for k in range(3)
    ]
    assert sum(p) == pytest.approx(1.0, abs=1e-6)
    assert p[0] == pytest.approx(1 / (1 + math.exp(-(0.2 - 0.7))), rel=1e-6)


def test_the_head_reads_the_last_token_and_its_gradient_is_the_hand_one(model: RewardModel) -> None:
    seen: list[torch.Tensor] = []
    hook = model.head.register_forward_hook(lambda _m, inputs, _o: seen.append(inputs[0].detach()))
    items = [clip(model, 1), clip(model, 2)]
    rewards = model(items)
    hook.remove()
    hidden = seen[0]
    assert torch.allclose(rewards, hidden @ model.head.weight[0] + model.head.bias[0], atol=1e-6)
    model.zero_grad()
    loss = bradley_terry_loss(rewards[:1], rewards[1:], torch.tensor([0]))
    loss.backward()
    gap = float((rewards[0] - rewards[1]).detach())
    hand = -(1 - 1 / (1 + math.exp(-gap))) * (hidden[0] - hidden[1])
    torch.testing.assert_close(model.head.weight.grad[0], hand, atol=1e-5, rtol=1e-4)
    model.zero_grad()


def test_right_padding_leaves_each_reward_as_alone(model: RewardModel) -> None:
    items = [clip(model, 1), clip(model, 3), clip(model, 2, frames=2)]  # lengths differ
    with torch.no_grad():
        together = model(items)
        alone = torch.stack([model([item])[0] for item in items])
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=1e-5)


def test_prefix_reuse_equals_a_full_run(model: RewardModel) -> None:
    first, second = clip(model, 4), clip(model, 5)
    texts = [[first.text, second.text], [second.text]]
    reused = model.score([first.video, second.video], texts, batch=2)
    with torch.no_grad():
        full = model(
            [RewardInput(first.video, first.text), RewardInput(first.video, second.text), second]
        ).tolist()
    assert reused[0] == pytest.approx(full[:2], abs=1e-5)
    assert reused[1] == pytest.approx(full[2:], abs=1e-5)


def test_texts_of_one_video_packed_in_one_row_equal_runs_of_their_own(
    model: RewardModel,
) -> None:
    """Items sharing a VideoPatches object run as one row under a block mask: rewards and
    gradients equal those of separate runs (fp32)."""
    first, second = clip(model, 6), clip(model, 7)
    texts = [first.text, clip(model, 8).text, clip(model, 1).text]
    items = [
        RewardInput(first.video, texts[0]),
        second,
        *(RewardInput(first.video, t) for t in texts[1:]),
    ]
    weight = model.network.model.language_model.layers[0].self_attn.q_proj.weight

    def rewards_and_gradient(groups: list[list[RewardInput]]) -> tuple[torch.Tensor, torch.Tensor]:
        model.zero_grad()
        rewards = torch.cat([model(group) for group in groups])
        (rewards * torch.arange(1, len(rewards) + 1)).sum().backward()
        assert weight.grad is not None
        return rewards.detach(), weight.grad.clone()

    packed, packed_grad = rewards_and_gradient([items])
    alone_items = [[RewardInput(replace(item.video), item.text)] for item in items]
    alone, alone_grad = rewards_and_gradient(alone_items)
    model.zero_grad()
    torch.testing.assert_close(packed, alone, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(packed_grad, alone_grad, atol=1e-5, rtol=1e-4)
    assert float(packed_grad.abs().sum()) > 0


def test_pairs_are_split_by_prompt(study: Path) -> None:
    pairs, counts = study_pairs(load_study(study, rater_kind="human"))
    assert len(pairs) == 48
    assert counts == {"a": 24, "b": 24}
    train, validation = split_by_prompt(pairs, 0.25)
    assert not {p.prompt_id for p in train} & {p.prompt_id for p in validation}
    assert len(train) + len(validation) == 48


def sound_only(path: Path) -> None:
    """An MP4 file holding a short silent audio stream and no video."""
    import av

    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), dtype=np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate = 8000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)


def test_bad_studies_fail_before_the_model_loads(tmp_path: Path, study: Path) -> None:
    ties = write_study(tmp_path / "ties", 4, ties=True)
    with pytest.raises(PairError, match="every pair is a tie"):
        train_reward(ties, "no/such-model", tmp_path / "ckpt")
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    for name in ("prompts", "questions", "videos"):
        (lonely / f"{name}.jsonl").write_text((study / f"{name}.jsonl").read_text())
    ratings = [
        r for r in read_jsonl(study / "ratings.jsonl", Rating) if r.video_id.startswith("warm/")
    ]
    write_jsonl(lonely / "ratings.jsonl", ratings)
    with pytest.raises(PairError, match="no two videos share a rated question"):
        train_reward(lonely, "no/such-model", tmp_path / "ckpt")
    gone = write_study(tmp_path / "gone", 8)
    (gone / "videos" / "warm" / "p003.mp4").unlink()
    (gone / "videos" / "cool" / "p005.mp4").write_bytes(b"not a video at all" * 10)
    sound_only(gone / "videos" / "warm" / "p006.mp4")
    with pytest.raises(PairError, match=r"3 video file\(s\) .* missing or unreadable") as found:
        train_reward(gone, "no/such-model", tmp_path / "ckpt", TrainSettings(validation_share=0.5))
    said = str(found.value)
    assert f"{gone / 'videos' / 'warm' / 'p003.mp4'} (missing)" in said
    assert f"{gone / 'videos' / 'cool' / 'p005.mp4'} (not a video FFmpeg can read" in said
    assert f"{gone / 'videos' / 'warm' / 'p006.mp4'} (no video stream with frames)" in said
    machines = write_study(tmp_path / "machines", 4)
    ratings = read_jsonl(machines / "ratings.jsonl", Rating)
    write_jsonl(
        machines / "ratings.jsonl", [r.model_copy(update={"rater_kind": "model"}) for r in ratings]
    )
    with pytest.raises(PairError, match=r"no human votes .*rater_kind is not human: 24"):
        train_reward(machines, "no/such-model", tmp_path / "ckpt")


def test_what_the_study_loader_left_out_is_said(tmp_path: Path) -> None:
    """A vote for a video the study does not list is left out, and training says so."""
    folder = write_study(tmp_path / "study", 8)
    ratings = read_jsonl(folder / "ratings.jsonl", Rating)
    ratings[0] = ratings[0].model_copy(update={"video_id": "warm/p999"})
    write_jsonl(folder / "ratings.jsonl", ratings)
    said: list[str] = []
    settings = TrainSettings(validation_share=0.5)
    with pytest.raises(ModelLoadError):  # the note comes first, before the base loads
        train_reward(
            folder, str(tmp_path / "no-base"), tmp_path / "ckpt", settings, say=said.append
        )
    assert said == [
        f"{folder / 'ratings.jsonl'}: left out by the study loader: unknown video_id: 1"
    ]


def test_a_tiny_model_learns_which_video_shows_the_asked_temperature(
    base: Path, study: Path, tmp_path: Path
) -> None:
    """From random weights on the CPU: >= 90% validation pairwise accuracy."""
    settings = TrainSettings(
        lr=1e-3,
        batch=8,
        epochs=12,
        adapter="full",
        gradient_checkpointing=False,
        train_vision=True,
        validation_share=0.25,
        sampling=SMALL,
    )
    report = train_reward(study, str(base), tmp_path / "ckpt", settings)
    assert report.validation_pairs == 12
    assert report.history[-1]["validation_accuracy"] >= 0.9, report.history
    assert report.history[-1]["train_loss"] < report.history[0]["train_loss"]


def perturbed(base: Path, adapter: str, seed: int) -> tuple[RewardModel, TrainSettings]:
    """A model as if trained: every trainable weight moved by a seeded draw."""
    torch.manual_seed(seed)
    settings = TrainSettings(adapter=adapter, gradient_checkpointing=False)  # type: ignore[arg-type]
    model = make_trainable(
        RewardModel(QwenVL.load(str(base), device="cpu"), instruction()), settings
    )
    with torch.no_grad():  # stands in for training: every trainable weight moves
        for parameter in model.parameters():
            if parameter.requires_grad:
                parameter.add_(0.05 * torch.randn_like(parameter))
    return model, settings


def save(folder: Path, base: Path | str, adapter: str = "lora", seed: int = 0, **kw: Any) -> Path:
    """``perturbed``'s model saved to ``folder`` (``kw``: more arguments of ``save_reward``)."""
    model, settings = perturbed(Path(base), adapter, seed)
    return save_reward(
        folder, model, str(base), settings, template=TEMPLATE_ID, history=[], pairs={}, **kw
    )


@pytest.mark.parametrize("adapter", ["lora", "full"])
@pytest.mark.parametrize("given_state", [False, True])
def test_a_saved_evaluator_loads_back_as_trained(
    base: Path, tmp_path: Path, adapter: str, given_state: bool
) -> None:
    """Every trained weight (adapters or the whole model, and the head) comes back: the
    loaded evaluator gives the rewards of the one saved, from its own state dict or from the
    one passed in (as training passes the state gathered over processes)."""
    trained, settings = perturbed(base, adapter, seed=0)
    state = trained.state_dict() if given_state else None
    folder = save_reward(
        tmp_path / "ckpt",
        trained,
        str(base),
        settings,
        template=TEMPLATE_ID,
        history=[],
        pairs={},
        state=state,
    )
    loaded, _ = load_reward(folder, device="cpu")
    items = [clip(trained, 3), clip(trained, 4)]
    trained.eval()
    with torch.no_grad():
        assert loaded(items).tolist() == pytest.approx(trained(items).tolist(), abs=1e-5)
        fresh = RewardModel(QwenVL.load(str(base), device="cpu"), instruction())
        assert loaded(items).tolist() != pytest.approx(fresh(items).tolist(), abs=1e-3)


def test_lora_checkpoints_round_trip_and_refuse_another_base(
    base: Path, study: Path, tmp_path: Path
) -> None:
    settings = TrainSettings(lr=1e-3, batch=8, validation_share=0.25, sampling=SMALL)
    report = train_reward(study, str(base), tmp_path / "ckpt", settings)
    config = json.loads((report.checkpoint / "reward.json").read_text())
    assert config["settings"]["adapter"] == "lora"
    assert config["base"] == str(base)
    assert config["trained_on"] == {"processes": 1, "distributed_type": "NO"}
    first, config_read = load_reward(report.checkpoint, device="cpu")
    second, _ = load_reward(report.checkpoint, device="cpu")
    item = clip(first, 7)
    with torch.no_grad():
        assert float(first([item])[0]) == pytest.approx(float(second([item])[0]), abs=1e-6)
    assert any("lora_" in name for name, _ in first.network.named_parameters())
    assert config_read["template"] == config["template"]
    moved = dict(config, base_shape={**config["base_shape"], "hidden_size": 4096})
    (report.checkpoint / "reward.json").write_text(json.dumps(moved))
    with pytest.raises(CheckpointError, match="another shape"):
        load_reward(report.checkpoint, device="cpu")
    (report.checkpoint / "reward.json").write_text(json.dumps(dict(config, taxonomy="0" * 16)))
    with pytest.raises(CheckpointError, match="taxonomy version"):
        load_reward(report.checkpoint, device="cpu")


def test_cli_trains_and_then_judges_with_the_checkpoint(
    base: Path, study: Path, tmp_path: Path
) -> None:
    ckpt = tmp_path / "ckpt"
    args = ["reward", "train", "--study", str(study), "--base", str(base), "--out", str(ckpt)]
    args += ["--lr", "1e-3", "--validation-share", "0.25", "--max-pixels", str(56 * 56)]
    trained = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert trained.exit_code == 0, trained.output
    assert "validation accuracy" in trained.output
    assert "epoch 1/1: loss" in trained.output
    assert "epoch 1/1 ━" not in trained.output  # the epoch's bar went when it ended
    out = tmp_path / "ratings.jsonl"
    judge = ["judge", "run", "--judge", f"reward:{ckpt}", "--videos", str(study / "videos.jsonl")]
    judge += ["--questions", str(study / "questions.jsonl"), "--out", str(out)]
    judged = runner.invoke(app, judge, env={"COLUMNS": "200"})
    assert judged.exit_code == 0, judged.output
    ratings = read_jsonl(out, Rating)
    assert len(ratings) == 96
    assert all(1 < r.score < 5 for r in ratings)
    assert ratings[0].raw["reward"] is not None  # type: ignore[index]
    assert ratings[0].meta["sampling"]["max_pixels"] == 56 * 56  # as trained
    missing = runner.invoke(app, [*judge[:3], f"reward:{tmp_path / 'nothing'}", *judge[4:]])
    assert missing.exit_code == 1
    assert "not an evaluator checkpoint" in missing.output


def test_two_processes_share_each_epoch(base: Path, study: Path, tmp_path: Path) -> None:
    """Data-parallel training as on several GPUs, here two CPU processes (gloo)."""
    torchrun = Path(sys.executable).with_name("torchrun")
    ckpt = tmp_path / "ckpt"
    args = [str(torchrun), "--nproc_per_node", "2", "-m", "scine.cli", "reward", "train"]
    args += ["--study", str(study), "--base", str(base), "--out", str(ckpt), "--lr", "1e-3"]
    args += ["--validation-share", "0.25", "--max-pixels", str(56 * 56), "--batch", "4"]
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("wrote") == 1  # the main process alone reports
    assert "in 2 process(es)" in done.stdout
    config = json.loads((ckpt / "reward.json").read_text())
    assert len(config["history"]) == 1
    assert config["trained_on"] == {"processes": 2, "distributed_type": "MULTI_CPU"}
    load_reward(ckpt, device="cpu")


def distributed_step(base: Path, out: Path, mode: str, processes: int) -> dict[str, Any]:
    """``distributed_step.py``'s result: one process, or several under torchrun (gloo)."""
    script = str(Path(__file__).with_name("distributed_step.py"))
    command = [sys.executable, script]
    if processes > 1:
        torchrun = str(Path(sys.executable).with_name("torchrun"))
        command = [torchrun, "--nproc_per_node", str(processes), script]
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [*command, str(base), str(out), mode], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found: dict[str, Any] = json.loads(out.read_text())
    return found


@pytest.fixture(scope="module")
def one_process_step(base: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return distributed_step(base, tmp_path_factory.mktemp("step") / "one.json", "ddp", 1)


@pytest.mark.parametrize("mode", ["ddp", "fsdp"])
def test_two_processes_give_the_loss_and_gradients_of_one_on_the_same_global_batch(
    base: Path, tmp_path: Path, one_process_step: dict[str, Any], mode: str
) -> None:
    """DDP, and FSDP with every parameter sharded, over two CPU processes (gloo), each with
    half of a global batch of 4 pairs, give the loss and every trainable gradient of one
    process taking all 4."""
    one, two = one_process_step, distributed_step(base, tmp_path / "two.json", mode, 2)
    assert two["processes"] == 2
    assert two["sharded"] == (mode == "fsdp")
    assert one["loss"] == pytest.approx(two["loss"], rel=1e-5)
    assert set(one["grads"]) == set(two["grads"])
    adapters = [grad for name, grad in one["grads"].items() if "lora_" in name]
    assert any(max(map(abs, grad)) > 0 for grad in adapters)
    for name, grad in one["grads"].items():
        torch.testing.assert_close(
            torch.tensor(two["grads"][name]), torch.tensor(grad), atol=1e-6, rtol=1e-4
        )


@pytest.mark.parametrize(
    ("plugin", "dtypes", "refused"),
    [
        (None, ("bfloat16", "float32"), False),
        (1, ("float32",), False),
        (1, ("bfloat16", "float32"), True),
        (2, ("bfloat16", "float32"), False),
    ],
)
def test_fsdp_version_1_is_refused_for_mixed_dtypes(
    plugin: int | None, dtypes: tuple[str, ...], refused: bool
) -> None:
    """FSDP1 flattens a layer into one tensor of one dtype: with float32 adapters beside
    bfloat16 weights training stops at once with what to change; FSDP2 and DDP go on."""
    fsdp = None if plugin is None else SimpleNamespace(fsdp_version=plugin)
    accelerator = SimpleNamespace(state=SimpleNamespace(fsdp_plugin=fsdp))
    model = torch.nn.Module()
    for n, dtype in enumerate(dtypes):
        model.register_parameter(
            f"p{n}", torch.nn.Parameter(torch.zeros(2, dtype=getattr(torch, dtype)))
        )
    if refused:
        with pytest.raises(ShardingError, match="FSDP_VERSION=2"):
            check_sharding(accelerator, model)
    else:
        check_sharding(accelerator, model)


@pytest.fixture(scope="module")
def lora_checkpoint(base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save(tmp_path_factory.mktemp("lora") / "ckpt", base)


@pytest.fixture(scope="module")
def small_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_study(tmp_path_factory.mktemp("small"), 3)


def judge_rewards(study: Path, ckpt: Path, out: Path, *options: str) -> list[float]:
    """``scine judge run --judge reward:CKPT`` on ``study``: the rewards, in the file's order."""
    args = ["judge", "run", "--judge", f"reward:{ckpt}", "--videos", str(study / "videos.jsonl")]
    args += ["--questions", str(study / "questions.jsonl"), "--out", str(out), *options]
    done = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    return [r.raw["reward"] for r in read_jsonl(out, Rating)]  # type: ignore[index]


def test_a_checkpoint_trained_again_into_its_folder_misses_the_judge_cache(
    base: Path, small_study: Path, tmp_path: Path
) -> None:
    ckpt = save(tmp_path / "ckpt", base, seed=1)
    cache = ["--cache", str(tmp_path / "cache.sqlite")]
    first = judge_rewards(small_study, ckpt, tmp_path / "first.jsonl", *cache)
    save(ckpt, base, seed=2, replace=True)
    again = judge_rewards(small_study, ckpt, tmp_path / "again.jsonl", *cache)
    fresh = judge_rewards(small_study, ckpt, tmp_path / "fresh.jsonl", "--no-cache")
    assert again == fresh
    assert again != pytest.approx(first, abs=1e-4)


def study_records(study: Path) -> tuple[list[Video], list[Question], dict[str, str]]:
    """The videos, questions and prompt texts of ``study``."""
    prompts = {p.id: p.text for p in read_jsonl(study / "prompts.jsonl", Prompt)}
    return (
        read_jsonl(study / "videos.jsonl", Video),
        read_jsonl(study / "questions.jsonl", Question),
        prompts,
    )


def refuse(*_: object, **__: object) -> None:
    raise AssertionError("called where nothing should load or decode")


def test_a_run_answered_from_the_cache_loads_no_evaluator(
    lora_checkpoint: Path, small_study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    videos, questions, prompts = study_records(small_study)
    cache = ResponseCache(tmp_path / "cache.sqlite")
    spec, options = f"reward:{lora_checkpoint}", JudgeOptions()
    first = rate_videos(spec, videos, questions, prompts, small_study, options, cache)
    assert first.details["counts"]["answers_made"] == 6
    monkeypatch.setattr(QwenVL, "load", refuse)
    said: list[str] = []
    again = rate_videos(
        spec, videos, questions, prompts, small_study, options, cache, say=said.append
    )
    assert again.details["counts"]["answers_from_cache"] == 6
    assert again.ratings == first.ratings
    assert not any(line.startswith("loading") for line in said)
    trained = json.loads((lora_checkpoint / "reward.json").read_text())["settings"]["sampling"]
    assert again.details["sampling"]["default"] == trained  # known without the model


CHEAP_BREAKAGES = {
    "no reward.json": ("reward.json", lambda p: p.unlink(), "not an evaluator checkpoint"),
    "another taxonomy": (
        "reward.json",
        lambda p: p.write_text(re.sub('"taxonomy": "[^"]*"', '"taxonomy": "0"', p.read_text())),
        "trained for taxonomy version 0",
    ),
    "no head": ("head.safetensors", lambda p: p.unlink(), "missing from the checkpoint"),
    "no adapter": ("adapter.safetensors", lambda p: p.unlink(), "missing from the checkpoint"),
    "base moved": (
        "reward.json",
        lambda p: p.write_text(
            json.dumps(dict(json.loads(p.read_text()), base=str(p.parent / "moved")))
        ),
        "its base model folder .* is not there",
    ),
}


@pytest.mark.parametrize("breakage", sorted(CHEAP_BREAKAGES))
def test_a_checkpoint_broken_in_its_files_is_refused_before_any_work(
    lora_checkpoint: Path,
    small_study: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    breakage: str,
) -> None:
    name, damage, said = CHEAP_BREAKAGES[breakage]
    ckpt = tmp_path / "ckpt"
    shutil.copytree(lora_checkpoint, ckpt)
    damage(ckpt / name)
    monkeypatch.setattr(QwenVL, "load", refuse)
    monkeypatch.setattr("scine.judge.vlm_rater.sample_frames", refuse)
    videos, questions, prompts = study_records(small_study)
    with pytest.raises(EvaluatorError, match=f"^{re.escape(str(ckpt))}.*: {said}"):
        rate_videos(f"reward:{ckpt}", videos, questions, prompts, small_study, JudgeOptions(), None)


def test_a_local_base_is_recorded_as_an_absolute_path_and_checked_when_loading(
    base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(base.parent)
    ckpt = save(tmp_path / "ckpt", base.name)
    config = json.loads((ckpt / "reward.json").read_text())
    assert config["base"] == str(base)
    monkeypatch.chdir(tmp_path)
    load_reward(ckpt, device="cpu")  # from another directory

    other = tmp_path / "other-base"  # same shape, other weights
    shutil.copytree(base, other)
    from safetensors.torch import load_file, save_file

    weights = load_file(other / "model.safetensors")
    save_file(
        {k: v + 0.01 for k, v in weights.items()}, other / "model.safetensors", {"format": "pt"}
    )
    (ckpt / "reward.json").write_text(json.dumps(dict(config, base=str(other))))
    with pytest.raises(CheckpointError, match="other weights than the one it was trained on"):
        load_reward(ckpt, device="cpu")
    (ckpt / "reward.json").write_text(json.dumps(dict(config, base=str(tmp_path / "moved"))))
    with pytest.raises(
        CheckpointError,
        match=f"base model folder {re.escape(str(tmp_path / 'moved'))} is not there",
    ):
        load_reward(ckpt, device="cpu")


def test_a_checkpoint_replaces_only_a_checkpoint_and_only_whole(
    base: Path, study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(CheckpointError, match="not an evaluator checkpoint"):
        train_reward(study, "no/such-model", busy, TrainSettings(validation_share=0.25))
    with pytest.raises(CheckpointError, match="exists and is not a folder"):
        train_reward(
            study, "no/such-model", busy / "notes.txt", TrainSettings(validation_share=0.25)
        )
    ckpt = save(tmp_path / "ckpt", base, adapter="full")
    with pytest.raises(CheckpointError, match="holds an evaluator checkpoint already"):
        train_reward(study, "no/such-model", ckpt, TrainSettings(validation_share=0.25))
    save(ckpt, base, adapter="lora", replace=True)
    assert not (ckpt / "model").exists()  # nothing of the --full run stays
    before = {p.name: p.read_bytes() for p in ckpt.iterdir() if p.is_file()}

    def interrupted(*_args: Any, **_kw: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("transformers.PreTrainedModel.save_pretrained", interrupted)
    with pytest.raises(KeyboardInterrupt):  # cut short while the whole model is written
        save(ckpt, base, adapter="full", seed=7, replace=True)
    assert {p.name: p.read_bytes() for p in ckpt.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy", "ckpt"]  # no partial folder


def test_a_diverging_run_stops_and_saves_nothing(base: Path, study: Path, tmp_path: Path) -> None:
    settings = TrainSettings(lr=1e30, batch=4, validation_share=0.25, sampling=SMALL)
    with pytest.raises(
        TrainingError, match=r"the loss is not a finite number \(here nan\) .* Nothing was saved"
    ):
        train_reward(study, str(base), tmp_path / "ckpt", settings)
    assert not (tmp_path / "ckpt").exists()
    for lr in (math.inf, math.nan, 0.0):
        with pytest.raises(ValidationError):
            TrainSettings(lr=lr)


def test_a_reward_that_is_not_a_number_is_a_failure_not_a_score(
    lora_checkpoint: Path, small_study: Path, tmp_path: Path
) -> None:
    from safetensors.torch import load_file, save_file

    ckpt = tmp_path / "ckpt"
    shutil.copytree(lora_checkpoint, ckpt)
    head = load_file(ckpt / "head.safetensors")
    save_file({**head, "bias": torch.full_like(head["bias"], math.nan)}, ckpt / "head.safetensors")
    out = tmp_path / "ratings.jsonl"
    args = ["judge", "run", "--judge", f"reward:{ckpt}", "--no-cache", "--out", str(out)]
    args += ["--videos", str(small_study / "videos.jsonl")]
    args += ["--questions", str(small_study / "questions.jsonl")]
    done = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert done.exit_code == 1
    assert "6 video(s) or question(s) got no score" in done.output
    assert read_jsonl(out, Rating) == []
    report = json.loads(out.with_name("ratings.report.json").read_text())
    assert "the evaluator's reward is nan" in report["failures"][0]["reason"]


def test_ctrl_c_says_training_starts_again_and_each_epoch_is_printed_as_it_ends(
    base: Path, study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scine.reward.train as training

    steps: list[int] = []
    step = training.backward_step

    def second_epoch_interrupted(*args: Any) -> float:
        steps.append(1)
        if len(steps) > 5:  # 36 training pairs, 8 a step: the second epoch's first step
            raise KeyboardInterrupt
        return step(*args)

    monkeypatch.setattr(training, "backward_step", second_epoch_interrupted)
    ckpt = tmp_path / "ckpt"
    args = ["reward", "train", "--study", str(study), "--base", str(base), "--out", str(ckpt)]
    args += ["--epochs", "2", "--validation-share", "0.25", "--max-pixels", str(56 * 56)]
    done = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert done.exit_code == 130
    assert "epoch 1/2: loss" in done.output
    assert "epoch 1/2 ━" not in done.output  # the line stays, not the finished epoch's bar
    assert "validation accuracy" in done.output
    assert "nothing was written" in done.output
    assert "starts it again from the beginning" in done.output
    assert not ckpt.exists()


def rewrite(path: Path, change: Any) -> None:
    """Save the tensors of ``path`` back as ``change`` makes them."""
    from safetensors.torch import load_file, save_file

    save_file(change(load_file(path)), path)


BREAKAGES = {
    "reward.json not JSON": (
        "reward.json",
        lambda p: p.write_text('{"format": '),
        "not valid JSON",
    ),
    "no settings": (
        "reward.json",
        lambda p: p.write_text(
            json.dumps({k: v for k, v in json.loads(p.read_text()).items() if k != "settings"})
        ),
        "field.s. settings missing",
    ),
    "settings wrong": (
        "reward.json",
        lambda p: p.write_text(p.read_text().replace('"batch": 8', '"batch": 0')),
        "field 'settings.batch'",
    ),
    "no head": ("head.safetensors", lambda p: p.unlink(), "missing from the checkpoint"),
    "head cut": (
        "head.safetensors",
        lambda p: p.write_bytes(p.read_bytes()[:100]),
        "not a readable",
    ),
    "head of another size": (
        "head.safetensors",
        lambda p: rewrite(p, lambda _: {"weight": torch.zeros(1, 8), "bias": torch.zeros(1)}),
        "not the head of this model: size mismatch for weight",
    ),
    "no adapter": ("adapter.safetensors", lambda p: p.unlink(), "missing from the checkpoint"),
    "adapter short of a weight": (
        "adapter.safetensors",
        lambda p: rewrite(p, lambda found: dict(sorted(found.items())[1:])),
        r"1 adapter weight\(s\) missing and 0 unknown",
    ),
    "adapter cut": (
        "adapter.safetensors",
        lambda p: p.write_bytes(p.read_bytes()[:5000]),
        "not a readable",
    ),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_broken_checkpoint_is_an_error_naming_the_file(
    lora_checkpoint: Path, tmp_path: Path, breakage: str
) -> None:
    name, damage, said = BREAKAGES[breakage]
    ckpt = tmp_path / "ckpt"
    shutil.copytree(lora_checkpoint, ckpt)
    damage(ckpt / name)
    with pytest.raises(CheckpointError, match=f"^{re.escape(str(ckpt / name))}: .*{said}"):
        load_reward(ckpt, device="cpu")


def test_an_adapter_of_another_rank_than_reward_json_says_is_an_error(
    lora_checkpoint: Path, tmp_path: Path
) -> None:
    ckpt = tmp_path / "ckpt"
    shutil.copytree(lora_checkpoint, ckpt)
    config = (ckpt / "reward.json").read_text()
    (ckpt / "reward.json").write_text(config.replace('"rank": 16', '"rank": 8'))
    with pytest.raises(
        CheckpointError,
        match=f"^{re.escape(str(ckpt / 'adapter.safetensors'))}: .*rank 8.*size mismatch",
    ):
        load_reward(ckpt, device="cpu")


def test_a_base_or_whole_model_that_cannot_load_is_a_checkpoint_error(
    base: Path, lora_checkpoint: Path, study: Path, tmp_path: Path
) -> None:
    """What ``scine judge run`` reports as an error for people (a ``CheckpointError``)."""
    ckpt = tmp_path / "lora"
    shutil.copytree(lora_checkpoint, ckpt)
    config = json.loads((ckpt / "reward.json").read_text())
    (ckpt / "reward.json").write_text(json.dumps(dict(config, base=str(study))))
    with pytest.raises(
        CheckpointError, match=f"its base model: cannot load {re.escape(str(study))}"
    ):
        load_reward(ckpt, device="cpu")
    full = save(tmp_path / "full", base, adapter="full")
    (full / "model" / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match=f"cannot load {re.escape(str(full / 'model'))}"):
        load_reward(full, device="cpu")


@pytest.mark.parametrize(
    ("flags", "code", "said"),
    [
        (["--lr", "0"], 2, "must be a finite number above 0"),
        (["--lr", "inf"], 2, "must be a finite number above 0"),
        (["--train-vision"], 1, "--train-vision trains the vision tower in a --full"),
        (["--full", "--lora-rank", "4"], 1, "--lora-rank sets the LoRA adapters"),
        (["--base", "BASE-IS-STUDY"], 1, "error: cannot load"),
    ],
)
def test_wrong_flags_are_refused_with_what_is_wrong(
    base: Path, study: Path, tmp_path: Path, flags: list[str], code: int, said: str
) -> None:
    flags = [str(study) if flag == "BASE-IS-STUDY" else flag for flag in flags]
    args = ["reward", "train", "--study", str(study), "--base", str(base)]
    args += ["--out", str(tmp_path / "ckpt"), "--validation-share", "0.25", *flags]
    done = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert done.exit_code == code, done.output
    assert said in " ".join(done.output.replace("│", "").split())
    assert not (tmp_path / "ckpt").exists()


def test_ties_only_validation_says_no_accuracy_was_measured(base: Path, tmp_path: Path) -> None:
    ties = write_study(tmp_path / "ties", 4, ties=True)
    args = ["reward", "train", "--study", str(ties), "--base", str(base), "--ties"]
    args += ["--out", str(tmp_path / "ckpt"), "--validation-share", "0.5"]
    args += ["--max-pixels", str(56 * 56)]
    done = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert "validation accuracy not measured: every validation pair is a tie" in done.output
    assert "validated on 2 pair(s), all ties: no accuracy measured" in done.output


@pytest.mark.parametrize(("pairs", "processes"), [(9, 2), (8, 4), (1, 4), (10, 3), (0, 2)])
def test_every_process_gets_a_share_of_one_length_covering_every_pair(
    pairs: int, processes: int
) -> None:
    order = list(range(pairs))
    shares = [process_share(order, index, processes) for index in range(processes)]
    assert len({len(share) for share in shares}) == 1  # the same number of steps everywhere
    assert sorted({pair for share in shares for pair in share}) == order
    assert sum(map(len, shares)) - pairs < processes  # padded by fewer than one round

"""Training the evaluator on a study's expert pairs with the Bradley-Terry objective.

Everything that can be wrong with the input (no human votes, no pairs, ties only, a split
with an empty side, videos missing or unreadable, an output folder in use) is reported
before the base model is loaded. Training runs under ``accelerate``: one process, or
several (DDP, FSDP or DeepSpeed ZeRO, as ``accelerate config`` sets them) each taking its
share of every epoch's pairs. A loss that is not finite stops training; nothing is saved.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import torch

from scine.analysis.table import load_study
from scine.judge.vlm import TEMPLATE_ID, ask_for, instruction, question_text
from scine.records import Prompt, Question, Video, read_records
from scine.taxonomy import load_taxonomy
from scine.video.sample import sample_frames
from scine.vlm.qwen import QwenVL, VideoPatches

from .checkpoint import TrainSettings, attach_lora, check_out_folder, save_reward
from .data import Pair, PairError, split_by_prompt, study_pairs, unreadable_videos
from .loss import OUTCOME_A, OUTCOME_TIE, bradley_terry_loss
from .model import RewardInput, RewardModel

T = TypeVar("T")

__all__ = [
    "ShardingError",
    "TrainReport",
    "TrainingError",
    "backward_step",
    "check_sharding",
    "make_trainable",
    "pairwise_accuracy",
    "process_share",
    "train_reward",
    "video_pair_order",
]

Progress = Callable[[str, int, int], None]


class ShardingError(ValueError):
    """The model cannot be sharded the way the accelerate config asks."""


class TrainingError(ValueError):
    """Training went wrong (the loss is not finite); nothing was saved."""


@dataclass
class TrainReport:
    """What a training run did: pair counts, per-epoch loss and validation accuracy."""

    checkpoint: Path
    train_pairs: int
    validation_pairs: int
    pairs: dict[str, int]
    history: list[dict[str, Any]] = field(default_factory=list)
    processes: int = 1
    main_process: bool = True  # with several processes, the one that saved and reports

    @property
    def validation_decided(self) -> int:
        """Validation pairs that are no tie: the ones accuracy is measured on."""
        return int(self.history[-1]["validation_pairs"]) if self.history else 0


class _Items:
    """Model inputs of (video, question) by id, the video's patches sampled once."""

    def __init__(self, study: Path, qwen: QwenVL, settings: TrainSettings) -> None:
        taxonomy = load_taxonomy()
        self.videos = {v.id: v for v in read_records(study / "videos.jsonl", Video)}
        self.questions = {
            q.id: q for q in read_records(study / "questions.jsonl", Question, taxonomy)
        }
        self.prompts = {
            p.id: p.text for p in read_records(study / "prompts.jsonl", Prompt, taxonomy)
        }
        self.root, self.qwen, self.settings, self.taxonomy = study, qwen, settings, taxonomy
        self.patches = lru_cache(maxsize=256)(self._patches)

    def _patches(self, video_id: str) -> VideoPatches:
        video = self.videos[video_id]
        frames = sample_frames(video.file(self.root), self.settings.sampling)
        return self.qwen.patches(frames.frames, frames.rate)

    def item(self, video_id: str, question_id: str) -> RewardInput:
        question = self.questions[question_id]
        prompt = self.prompts[question.prompt_id]
        ask = ask_for(self.taxonomy, prompt, question.node, question.value, question.text)
        return RewardInput(self.patches(video_id), self.qwen.continuation_ids(question_text(ask)))

    def batch(self, pairs: Sequence[Pair]) -> list[RewardInput]:
        """The A sides of ``pairs``, then their B sides."""
        return [self.item(p.video_a, p.question_id) for p in pairs] + [
            self.item(p.video_b, p.question_id) for p in pairs
        ]


def train_reward(
    study: str | Path,
    base: str,
    out: str | Path,
    settings: TrainSettings | None = None,
    *,
    device: str | None = None,
    progress: Progress | None = None,
    say: Callable[[str], None] | None = None,
    replace: bool = False,
) -> TrainReport:
    """Train an evaluator from ``base`` on the experts' pairs of the ``study`` folder; save
    it to ``out`` (``replace``: over a checkpoint there); return pair counts and the
    history (loss, validation accuracy). ``say`` gets, on the main process, what the study
    loader left out and a line after each epoch."""
    from accelerate import Accelerator

    settings = settings or TrainSettings()
    study = Path(study)
    accelerator = Accelerator()
    tell = say if say is not None and accelerator.is_main_process else lambda _: None
    votes = load_study(study, rater_kind="human")
    left_out = "; ".join(f"{why}: {count}" for why, count in votes.excluded.items())
    if votes.votes.empty:
        raise PairError(
            f"{study}: no human votes to learn from in {votes.sources['ratings']} (left out: "
            f"{left_out or 'none'}); the evaluator learns from rater_kind 'human' votes only"
        )
    if left_out:
        tell(f"{study / votes.sources['ratings']}: left out by the study loader: {left_out}")
    pairs, counts = study_pairs(votes, ties=settings.ties)
    train, validation = split_by_prompt(pairs, settings.validation_share, settings.seed)
    videos = {v.id: v for v in read_records(study / "videos.jsonl", Video)}
    used = {video for pair in pairs for video in (pair.video_a, pair.video_b)}
    bad = unreadable_videos((videos[v] for v in sorted(used)), study)
    if bad:
        raise PairError(
            f"{len(bad)} video file(s) of the training pairs are missing or unreadable: "
            + "; ".join(bad)
        )
    check_out_folder(out, replace=replace)

    torch.manual_seed(settings.seed)
    qwen = QwenVL.load(base, device=device or str(accelerator.device))
    model = make_trainable(RewardModel(qwen, instruction()), settings)
    check_sharding(accelerator, model)
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=settings.lr
    )
    model, optimizer = accelerator.prepare(model, optimizer)
    items = _Items(study, qwen, settings)
    margin = settings.tie_margin if settings.ties else None
    rng = random.Random(settings.seed)
    history: list[dict[str, Any]] = []
    index, count = accelerator.process_index, accelerator.num_processes
    steps = -(-len(process_share(train, index, count)) // settings.batch)
    for epoch in range(1, settings.epochs + 1):
        shard = process_share(video_pair_order(train, rng), index, count)
        model.train()
        losses = []
        for step, start in enumerate(range(0, len(shard), settings.batch), start=1):
            chunk = shard[start : start + settings.batch]
            outcomes = [p.outcome for p in chunk]
            loss = backward_step(model, accelerator, items.batch(chunk), outcomes, margin)
            everywhere = accelerator.gather(torch.tensor([loss], device=accelerator.device))
            if not bool(torch.isfinite(everywhere).all()):
                raise TrainingError(
                    f"the loss is not a finite number (here {loss}) at epoch {epoch}, step "
                    f"{step}: training diverged; try a learning rate below {settings.lr}. "
                    "Nothing was saved"
                )
            losses.append(loss)
            optimizer.step()
            optimizer.zero_grad()
            if progress is not None and accelerator.is_main_process:
                progress(f"epoch {epoch}/{settings.epochs}", step, steps)
        # every process scores the whole validation set through the prepared model: under
        # FSDP each forward gathers the shards, which takes all processes
        accuracy = pairwise_accuracy(model, items, validation, settings.batch)
        history.append({"epoch": epoch, "train_loss": sum(losses) / len(losses), **accuracy})
        tell(_epoch_said(history[-1], settings.epochs))
    checkpoint = Path(out)
    state = accelerator.get_state_dict(model)  # whole, gathered by every process
    if accelerator.is_main_process:
        save_reward(
            checkpoint,
            accelerator.unwrap_model(model),
            base,
            settings,
            template=TEMPLATE_ID,
            history=history,
            pairs={**counts, "train": len(train), "validation": len(validation)},
            state=state,
            trained_on={
                "processes": accelerator.num_processes,
                "distributed_type": str(accelerator.distributed_type.value),
            },
            replace=replace,
        )
    accelerator.wait_for_everyone()
    return TrainReport(
        checkpoint,
        len(train),
        len(validation),
        dict(counts),
        history,
        processes=accelerator.num_processes,
        main_process=accelerator.is_main_process,
    )


def _epoch_said(entry: dict[str, Any], epochs: int) -> str:
    """One epoch's loss and validation accuracy, as printed."""
    said = f"epoch {entry['epoch']}/{epochs}: loss {entry['train_loss']:.4f}, "
    if entry["validation_accuracy"] is None:
        return said + "validation accuracy not measured: every validation pair is a tie"
    return said + (
        f"validation accuracy {entry['validation_accuracy']:.3f} on "
        f"{entry['validation_pairs']} decided pair(s)"
    )


def process_share(order: Sequence[T], index: int, count: int) -> list[T]:
    """Process ``index``'s share of ``order`` among ``count``: every ``count``-th item from the
    ``index``-th, the list first padded by repeating it from its start to a multiple of
    ``count`` (as PyTorch's DistributedSampler does), so every process runs the same number
    of steps: each step's collectives (gradient all-reduce, the loss check) need them all."""
    if not order:
        return []
    size = -(-len(order) // count) * count
    return [order[position % len(order)] for position in range(index, size, count)]


def check_sharding(accelerator: Any, model: torch.nn.Module) -> None:
    """Refuse FSDP version 1 for a model whose parameters differ in dtype (LoRA adapters
    train in float32 beside bfloat16 weights on a GPU): it flattens each wrapped layer into
    one tensor of one dtype, and would fail deep inside PyTorch."""
    plugin = getattr(accelerator.state, "fsdp_plugin", None)
    if plugin is None or getattr(plugin, "fsdp_version", 1) != 1:
        return
    dtypes = sorted({str(p.dtype).removeprefix("torch.") for p in model.parameters()})
    if len(dtypes) > 1:
        raise ShardingError(
            f"FSDP version 1 cannot shard this model: its parameters mix {' and '.join(dtypes)} "
            "(LoRA adapters train in float32). Use FSDP version 2: fsdp_version: 2 in the "
            "accelerate config, or FSDP_VERSION=2"
        )


def make_trainable(model: RewardModel, settings: TrainSettings) -> RewardModel:
    """Freeze what is not trained: with LoRA everything but the adapters and the head;
    the vision tower unless ``train_vision``. Checkpointing as the settings say."""
    network = model.network
    if settings.adapter == "lora":
        attach_lora(model.qwen, settings.lora)
        for name, parameter in network.named_parameters():
            parameter.requires_grad = "lora_" in name
            if parameter.requires_grad:
                parameter.data = parameter.data.float()  # adapters train in float32
    else:
        network.requires_grad_(True)
    network.lm_head.requires_grad_(False)  # the head replaces it; untouched, it has no gradient
    if not settings.train_vision:
        network.model.visual.requires_grad_(False)
    if settings.gradient_checkpointing:
        reentrant = {"use_reentrant": False}
        if hasattr(network, "activation_checkpointing_enable"):  # transformers 5.2x
            network.activation_checkpointing_enable(activation_checkpointing_kwargs=reentrant)
        else:
            network.gradient_checkpointing_enable(gradient_checkpointing_kwargs=reentrant)
        network.enable_input_require_grads()
    return model


def backward_step(
    model: Any,
    accelerator: Any,
    inputs: Sequence[RewardInput],
    outcomes: Sequence[int],
    margin: float | None,
) -> float:
    """One batch: the Bradley-Terry loss of its pairs (``inputs``: the A sides, then the B
    sides), backpropagated through ``accelerator`` (with several processes DDP averages the
    gradients, so equal shares give the gradient of the whole batch); returns the loss."""
    rewards = model(inputs)
    half = len(outcomes)
    found = torch.tensor(list(outcomes), device=rewards.device)
    loss = bradley_terry_loss(rewards[:half], rewards[half:], found, margin)
    accelerator.backward(loss)
    return float(loss.detach())


def video_pair_order(pairs: Sequence[Pair], rng: random.Random) -> list[Pair]:
    """The pairs shuffled by video pair: the questions of one pair of videos stay together,
    so a batch holds few videos and the model runs each video once for all its questions
    (``RewardModel.forward`` packs them)."""
    groups: dict[tuple[str, str], list[Pair]] = {}
    for pair in pairs:
        groups.setdefault((pair.video_a, pair.video_b), []).append(pair)
    keys = sorted(groups)
    rng.shuffle(keys)
    for key in keys:
        rng.shuffle(groups[key])
    return [pair for key in keys for pair in groups[key]]


def pairwise_accuracy(
    model: torch.nn.Module, items: _Items, pairs: Sequence[Pair], batch: int
) -> dict[str, Any]:
    """Share of decided validation pairs whose preferred video gets the higher reward
    (equal rewards count as wrong), with the pair counts. ``model``: a ``RewardModel`` or
    the wrapper ``accelerator.prepare`` made of it."""
    model.eval()
    right = decided = 0
    with torch.no_grad():
        for start in range(0, len(pairs), batch):
            chunk = [p for p in pairs[start : start + batch] if p.outcome != OUTCOME_TIE]
            if not chunk:
                continue
            rewards = model(items.batch(chunk)).tolist()
            for pair, a, b in zip(chunk, rewards[: len(chunk)], rewards[len(chunk) :], strict=True):
                decided += 1
                won = a > b if pair.outcome == OUTCOME_A else b > a
                right += won
    return {
        "validation_accuracy": right / decided if decided else None,
        "validation_pairs": decided,
    }

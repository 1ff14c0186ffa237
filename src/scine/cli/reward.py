"""``scine reward train``: the trained evaluator, from a study's expert pairs."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, TaskID

from ._console import console, fail, progress_bar

app = typer.Typer(help="The trained evaluator: train it on expert pairs.", no_args_is_help=True)


def _learning_rate(value: float) -> float:
    """``--lr``, checked: a finite number above 0."""
    if not (math.isfinite(value) and value > 0):
        raise typer.BadParameter(f"must be a finite number above 0, got {value}")
    return value


def _epoch_bars(bars: Progress) -> Callable[[str, int, int], None]:
    """Training's progress as one bar an epoch, removed when the epoch's last step is done:
    what stays of an epoch is its line of loss and validation accuracy."""
    tasks: dict[str, TaskID] = {}

    def show(label: str, done: int, total: int) -> None:
        if label not in tasks:
            tasks[label] = bars.add_task(label, total=total)
        bars.update(tasks[label], completed=done)
        if done >= total:
            bars.remove_task(tasks[label])

    return show


@app.command("train")
def train_command(
    study: Annotated[
        Path, typer.Option("--study", help="Study folder with the experts' ratings and videos.")
    ],
    base: Annotated[
        str, typer.Option("--base", help="Qwen2.5-VL to start from: Hugging Face id or folder.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Checkpoint folder to write.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace the evaluator checkpoint already at --out.")
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Fine-tune every weight instead of LoRA adapters.")
    ] = False,
    epochs: Annotated[int, typer.Option("--epochs", min=1)] = 1,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Pairs per step.")] = 8,
    lr: Annotated[
        float, typer.Option("--lr", callback=_learning_rate, help="Learning rate (> 0).")
    ] = 6e-5,
    lora_rank: Annotated[
        int | None,
        typer.Option("--lora-rank", min=1, help="LoRA rank (not with --full).", show_default="16"),
    ] = None,
    ties: Annotated[
        bool, typer.Option("--ties", help="Learn from ties too (Bradley-Terry with ties).")
    ] = False,
    fps: Annotated[float, typer.Option("--fps", min=0.01, help="Frames a second.")] = 2.0,
    max_pixels: Annotated[
        int, typer.Option("--max-pixels", min=784, help="Pixels of a frame, at most.")
    ] = 448 * 448,
    validation_share: Annotated[
        float, typer.Option("--validation-share", min=0.01, max=0.99, help="Prompts held out.")
    ] = 0.1,
    no_checkpointing: Annotated[
        bool, typer.Option("--no-checkpointing", help="Keep activations (more memory, faster).")
    ] = False,
    train_vision: Annotated[
        bool, typer.Option("--train-vision", help="Train the vision tower too (with --full).")
    ] = False,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Train Qwen2.5-VL with a linear head on the experts' preferences (Bradley-Terry).

    Pairs are two videos of one prompt rated on one question, the better mean of votes
    preferred; ties are left out unless ``--ties``. Prompts are split between training and
    validation; the validation pairwise accuracy is printed after every epoch. The
    checkpoint is written whole or not at all; ``--force`` replaces one already at
    ``--out``. Ctrl-C saves nothing (training starts again from the beginning). Several
    GPUs: launch with ``accelerate launch -m scine.cli reward train ...``.
    """
    from scine.reward.checkpoint import CheckpointError, LoraSettings, TrainSettings
    from scine.reward.data import PairError
    from scine.reward.train import ShardingError, TrainingError, train_reward
    from scine.video.sample import VideoSampling
    from scine.vlm.qwen import ModelLoadError

    if train_vision and not full:
        fail(
            "--train-vision trains the vision tower in a --full fine-tune; LoRA adapters sit "
            "on the language model only: add --full or leave --train-vision out"
        )
    if full and lora_rank is not None:
        fail(
            "--lora-rank sets the LoRA adapters; --full trains every weight instead: "
            "leave one of them out"
        )
    settings = TrainSettings(
        lr=lr,
        batch=batch,
        epochs=epochs,
        adapter="full" if full else "lora",
        lora=LoraSettings()
        if lora_rank is None
        else LoraSettings(rank=lora_rank, alpha=2 * lora_rank),
        gradient_checkpointing=not no_checkpointing,
        train_vision=train_vision,
        ties=ties,
        validation_share=validation_share,
        seed=seed,
        sampling=VideoSampling(fps=fps, max_pixels=max_pixels),
    )
    with progress_bar() as bars:

        def say(line: str) -> None:
            bars.console.print(line, highlight=False, soft_wrap=True)

        try:
            report = train_reward(
                study, base, out, settings, progress=_epoch_bars(bars), say=say, replace=force
            )
        except (PairError, CheckpointError, ShardingError, TrainingError, ModelLoadError) as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail(
                f"interrupted; nothing was written to {out} (a checkpoint already there is as "
                "it was). Training does not resume: the same command starts it again from "
                "the beginning",
                130,
            )
    if not report.main_process:
        return
    validated = f"validated on {report.validation_pairs} pair(s)"
    if report.validation_decided == 0:
        validated += ", all ties: no accuracy measured"
    elif report.validation_decided != report.validation_pairs:
        validated += f", {report.validation_decided} of them decided (accuracy on those)"
    console.print(
        f"wrote {report.checkpoint}: trained on {report.train_pairs} pair(s) in "
        f"{report.processes} process(es), {validated}; pairs made {json.dumps(report.pairs)}",
        soft_wrap=True,
    )

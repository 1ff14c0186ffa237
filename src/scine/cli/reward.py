"""``scine reward train``: the trained evaluator, from a study's expert pairs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import TaskID

from ._console import console, error_console, fail, progress_bar

app = typer.Typer(help="The trained evaluator: train it on expert pairs.", no_args_is_help=True)


@app.command("train")
def train_command(
    study: Annotated[
        Path, typer.Option("--study", help="Study folder with the experts' ratings and videos.")
    ],
    base: Annotated[
        str, typer.Option("--base", help="Qwen2.5-VL to start from: Hugging Face id or folder.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Checkpoint folder to write.")],
    full: Annotated[
        bool, typer.Option("--full", help="Fine-tune every weight instead of LoRA adapters.")
    ] = False,
    epochs: Annotated[int, typer.Option("--epochs", min=1)] = 1,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Pairs per step.")] = 8,
    lr: Annotated[float, typer.Option("--lr", min=0.0, help="Learning rate.")] = 6e-5,
    lora_rank: Annotated[int, typer.Option("--lora-rank", min=1)] = 16,
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
    validation; the validation pairwise accuracy is printed after every epoch. Several GPUs:
    launch with ``accelerate launch -m scine.cli reward train ...``.
    """
    from scine.reward.checkpoint import CheckpointError, LoraSettings, TrainSettings
    from scine.reward.data import PairError
    from scine.reward.train import ShardingError, train_reward
    from scine.video.sample import VideoSampling

    settings = TrainSettings(
        lr=lr,
        batch=batch,
        epochs=epochs,
        adapter="full" if full else "lora",
        lora=LoraSettings(rank=lora_rank, alpha=2 * lora_rank),
        gradient_checkpointing=not no_checkpointing,
        train_vision=train_vision,
        ties=ties,
        validation_share=validation_share,
        seed=seed,
        sampling=VideoSampling(fps=fps, max_pixels=max_pixels),
    )
    with progress_bar() as bars:
        tasks: dict[str, TaskID] = {}

        def show(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bars.add_task(label, total=total)
            bars.update(tasks[label], completed=done)

        try:
            report = train_reward(study, base, out, settings, progress=show)
        except (PairError, CheckpointError, ShardingError) as exc:
            fail(str(exc))
    if not report.main_process:
        return
    for epoch in report.history:
        error_console.print(
            f"epoch {epoch['epoch']}: loss {epoch['train_loss']:.4f}, validation accuracy "
            f"{epoch['validation_accuracy']} on {epoch['validation_pairs']} pair(s)"
        )
    console.print(
        f"wrote {report.checkpoint}: trained on {report.train_pairs} pair(s) in "
        f"{report.processes} process(es), validated on "
        f"{report.validation_pairs}; pairs made {json.dumps(report.pairs)}",
        soft_wrap=True,
    )

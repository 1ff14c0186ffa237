"""Scoring and training speed of the trained evaluator: Qwen2.5-VL-7B (random weights).

Builds the published Qwen2.5-VL-7B architecture with RANDOM weights in bfloat16 on the GPU
(no download), a small BPE tokenizer trained on the judge's texts, and a random linear
head. Each video is 5 s at 2 fps and 476x840 (10 frames: 2,550 video tokens), random pixels;
each is asked 5 questions of the packaged suite. One JSON object comes out, with pairs/s,
MFU (against a bf16 matmul measured in the same run) and peak memory for:

- scoring, one forward per (video, question), as published reward-model code scores, with
  transformers' vision attention and with ``scine.vlm.windows``;
- scoring with the video prefix reused for its questions (``RewardModel.score``), several
  videos encoded together;
- a LoRA training step (rank 16 on the language model's attention, gradient checkpointing,
  vision tower frozen): one row per (video, question) as published code trains, on 1 and 8
  pairs; and with a video pair's questions packed into one row per video (the way
  ``RewardModel`` and ``scine reward train`` run), on 5 to 40 pairs of 5 questions each.

    python3 benchmarks/reward_speed.py                         # on a GPU machine
    python3 benchmarks/reward_speed.py --shape tiny --videos 2   # a CPU smoke test
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scine.judge.vlm import (
    instruction,
    question_text,
)
from scine.reward.checkpoint import LoraSettings, TrainSettings
from scine.reward.loss import bradley_terry_loss
from scine.reward.model import RewardInput, RewardModel
from scine.reward.train import make_trainable
from scine.taxonomy import load_taxonomy
from scine.vlm.qwen import QwenVL, VideoPatches
from scine.vlm.random_model import random_model, small_tokenizer
from scine.vlm.windows import batch_window_attention
from vlm_judge_speed import matmul_ceiling, suite_asks, sync

QUESTIONS = 5


def flops(model: QwenVL, video: VideoPatches, texts: list[list[int]], reuse: bool) -> float:
    """Forward matmul FLOPs of scoring ``texts`` on ``video`` (2 per parameter per token,
    plus causal attention)."""
    vision = sum(p.numel() for n, p in model.model.named_parameters() if ".visual." in f".{n}")
    language = sum(
        p.numel()
        for n, p in model.model.named_parameters()
        if "language_model" in n and "lora_" not in n
    )
    text = model.model.config.text_config
    per_token = 4 * text.num_hidden_layers * text.hidden_size
    prefix = len(model.prefix_ids(video, instruction()))
    encode = (
        2 * vision * video.pixels.shape[0] + 2 * language * prefix + per_token * prefix * prefix / 2
    )
    total = encode * (1 if reuse else len(texts))
    for ids in texts:
        total += 2 * language * len(ids) + per_token * len(ids) * (prefix + len(ids))
    return total


def measure(run: Any, work: float, ceiling: float | None, count: int) -> dict[str, Any]:
    """Time ``run()`` once (after one warm-up call), giving ``count`` pairs."""
    run()
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    sync()
    start = time.perf_counter()
    run()
    sync()
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None
    return {
        "pairs": count,
        "seconds": round(seconds, 3),
        "pairs_per_second": round(count / seconds, 2),
        "mfu": None if ceiling is None else round(work / seconds / 1e12 / ceiling, 4),
        "peak_gib": None if peak is None else round(peak, 2),
    }


def save(result: dict[str, Any], out: Path | None) -> None:
    """Write what is measured so far (a run cut short keeps it)."""
    if out:
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shape", default="7b", choices=["7b", "tiny"])
    parser.add_argument("--videos", type=int, default=16)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--skip-scoring", action="store_true", help="measure training only")
    args = parser.parse_args()

    on_gpu = torch.cuda.is_available()
    asks = suite_asks(args.videos, at_least=QUESTIONS, at_most=QUESTIONS)
    corpus = [instruction(), *(question_text(a) for found in asks for a in found)]
    corpus += [leaf.definition for leaf in load_taxonomy().leaves()]
    tokenizer = small_tokenizer(corpus, vocab_size=8000)
    with torch.device("cuda" if on_gpu else "cpu"):
        network = random_model(
            tokenizer, args.shape, dtype=torch.bfloat16 if on_gpu else torch.float32
        )
    qwen = QwenVL(network, tokenizer, f"random Qwen2.5-VL {args.shape}")
    model = RewardModel(qwen, instruction()).to(qwen.device)
    rng = np.random.default_rng(0)
    videos = [
        qwen.patches(rng.integers(0, 256, (10, 476, 840, 3), dtype=np.uint8), 2.0) for _ in asks
    ]
    texts = [[qwen.continuation_ids(question_text(a)) for a in found] for found in asks]
    ceiling = matmul_ceiling()
    pairs = sum(len(found) for found in texts)
    one_by_one_work = sum(
        flops(qwen, v, t, reuse=False) for v, t in zip(videos, texts, strict=True)
    )
    reused_work = sum(flops(qwen, v, t, reuse=True) for v, t in zip(videos, texts, strict=True))
    result: dict[str, Any] = {
        "shape": args.shape,
        "videos": len(videos),
        "questions_per_video": QUESTIONS,
        "video_tokens": videos[0].tokens,
        "prefix_tokens": len(qwen.prefix_ids(videos[0], instruction())),
        "mean_question_tokens": round(sum(len(t) for found in texts for t in found) / pairs, 1),
        "matmul_tflops": None if ceiling is None else round(ceiling, 1),
        "scoring": {},
    }

    def one_forward_each() -> None:
        with torch.inference_mode():
            for video, found in zip(videos, texts, strict=True):
                for ids in found:
                    model([RewardInput(video, ids)])

    def reused(batch: int) -> Any:
        def run() -> None:
            for start in range(0, len(videos), batch):
                model.score(videos[start : start + batch], texts[start : start + batch], batch=64)

        return run

    def measure_scoring() -> None:
        scoring = result["scoring"]
        scoring["one_forward_per_question, transformers windows"] = measure(
            one_forward_each, one_by_one_work, ceiling, pairs
        )
        print(list(scoring.items())[-1], file=sys.stderr, flush=True)
        batch_window_attention(network)
        scoring["one_forward_per_question, batched windows"] = measure(
            one_forward_each, one_by_one_work, ceiling, pairs
        )
        for batch in (1, 2, 4, 8):
            label = f"prefix reused, {batch} video(s) at once, batched windows"
            try:
                scoring[label] = measure(reused(batch), reused_work, ceiling, pairs)
            except torch.OutOfMemoryError:
                scoring[label] = "out of memory"
                torch.cuda.empty_cache()
            print(list(scoring.items())[-1], file=sys.stderr, flush=True)
            save(result, args.out)

    if args.skip_scoring:
        batch_window_attention(network)
    else:
        measure_scoring()

    settings = TrainSettings(adapter="lora", lora=LoraSettings(rank=16, alpha=32))
    model = make_trainable(model, settings)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=6e-5)
    model.train()
    result["trainable_parameters_millions"] = round(sum(p.numel() for p in trainable) / 1e6, 2)
    result["training"] = {}
    vision = sum(p.numel() for n, p in network.named_parameters() if ".visual." in f".{n}")

    def pairs_of(size: int) -> list[tuple[VideoPatches, VideoPatches, list[int]]]:
        """``size`` pairs: videos 2k and 2k+1 asked the questions of video 2k, in turn."""
        found = []
        for k in range(len(videos) // 2):
            found += [(videos[2 * k], videos[2 * k + 1], text) for text in texts[2 * k]]
        return found[:size]

    def step_of(items: list[RewardInput], size: int) -> Any:
        def step() -> None:
            rewards = model(items)
            outcome = torch.zeros(size, dtype=torch.long, device=rewards.device)
            bradley_terry_loss(rewards[:size], rewards[size:], outcome).backward()
            optimizer.step()
            optimizer.zero_grad()

        return step

    for size, packed in [(1, False), (8, False), (5, True), (10, True), (20, True), (40, True)]:
        chosen = pairs_of(size)
        if len(chosen) < size:
            continue
        sides = [RewardInput(a, t) for a, _, t in chosen] + [
            RewardInput(b, t) for _, b, t in chosen
        ]
        if not packed:  # every item its own copy of its video: one row each
            sides = [RewardInput(replace(item.video), item.text) for item in sides]
        by_video: dict[int, tuple[VideoPatches, list[list[int]]]] = {}
        for item in sides:
            by_video.setdefault(id(item.video), (item.video, []))[1].append(item.text)
        forward = sum(flops(qwen, v, t, reuse=True) for v, t in by_video.values())
        vision_work = sum(2 * vision * v.pixels.shape[0] for v, _ in by_video.values())
        work = 3 * (forward - vision_work) + vision_work  # forward, recompute, backward
        label = (
            f"LoRA step, {size} pair(s) of {len(by_video) // 2} video pair(s), "
            "questions of a video packed in one row"
            if packed
            else f"LoRA step, {size} pair(s), one row per (video, question)"
        )
        try:
            result["training"][label] = measure(step_of(sides, size), work, ceiling, size)
        except torch.OutOfMemoryError:
            result["training"][label] = "out of memory"
            torch.cuda.empty_cache()
        print(list(result["training"].items())[-1], file=sys.stderr, flush=True)
        save(result, args.out)
    result["environment"] = {
        "gpu": torch.cuda.get_device_name() if on_gpu else None,
        "torch": torch.__version__,
        "transformers": __import__("transformers").__version__,
        "peft": __import__("peft").__version__,
        "python": platform.python_version(),
    }
    print(json.dumps(result, indent=2))
    save(result, args.out)


if __name__ == "__main__":
    main()

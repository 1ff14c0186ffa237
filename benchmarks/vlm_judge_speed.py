"""Throughput and memory of the zero-shot judge: Qwen2.5-VL-7B (random weights) on a GPU.

Builds the published Qwen2.5-VL-7B architecture with RANDOM weights in bfloat16 on the GPU
(no download) and a small BPE tokenizer trained on the judge's own texts (real checkpoints
tokenize English into slightly fewer tokens). Each "video" is 5 s of 854x480 sampled as
the judge samples it (2 fps: 10 frames, resized to 588x308, 5 x 11 x 21 = 1,155 video
tokens); its pixels are random and decoding is not timed: this measures the model. Every
video is asked the questions of one prompt of the packaged suite (the suite's mean is 5.9).

It first checks on the GPU that a reused video prefix gives the logits of a full run, then
times ``QwenJudge.answer`` at several (videos, questions) batch sizes, and once without
reusing the prefix (each question re-encodes its video): first with transformers' vision
attention (one small attention per window), then with ``scine.vlm.windows`` (all windows
of a layer in one call), after checking both give the same vision features. It prints one
JSON object: (video, question) pairs per second, seconds per video, model FLOPs
utilization against a bf16 matmul measured in the same run, peak GPU memory.

    python3 benchmarks/vlm_judge_speed.py                  # on a GPU machine
    python3 benchmarks/vlm_judge_speed.py --shape tiny --videos 4   # a CPU smoke test
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from scine.judge.vlm import Ask, QwenJudge, VideoAsks, instruction, question_text
from scine.taxonomy import load_taxonomy
from scine.video.sample import SampledFrames, VideoSampling, resized_size
from scine.vlm.qwen import QwenVL
from scine.vlm.random_model import random_model, small_tokenizer
from scine.vlm.windows import batch_window_attention

BATCHES = [(1, 1), (1, 8), (2, 16), (4, 32), (8, 64)]


def suite_asks(count: int, at_least: int = 1, at_most: int | None = None) -> list[list[Ask]]:
    """The questions of the first ``count`` prompts of the packaged suite with at least
    ``at_least`` questions (the first ``at_most`` of them), as asks."""
    suite = resources.files("scine.bench") / "data" / "suite"
    prompts = {}
    for line in (suite / "prompts.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        prompts[record["id"]] = record["text"]
    asks: dict[str, list[Ask]] = {}
    for line in (suite / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        asks.setdefault(q["prompt_id"], []).append(
            Ask(prompts[q["prompt_id"]], q["node"], q["text"])
        )
    return [found[:at_most] for found in asks.values() if len(found) >= at_least][:count]


def clip(seed: int, sampling: VideoSampling) -> SampledFrames:
    """5 s of 854x480 at 2 fps, as sampled for the judge, with random pixels."""
    width, height = resized_size(854, 480, sampling)
    frames = np.random.default_rng(seed).integers(0, 256, (10, height, width, 3), dtype=np.uint8)
    times = tuple(0.25 + 0.5 * i for i in range(10))
    return SampledFrames(frames, times, 24.0, 5.0, width, height, sampling, 120)


def matmul_ceiling() -> float | None:
    """TFLOP/s of a large bf16 matmul on this GPU: the ceiling MFU is measured against."""
    if not torch.cuda.is_available():
        return None
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    sync()
    start = time.perf_counter()
    for _ in range(20):
        a @ b
    sync()
    return 20 * 2 * 8192**3 / (time.perf_counter() - start) / 1e12


def work_flops(model: QwenVL, videos: list[VideoAsks], reuse: bool) -> float:
    """Matmul FLOPs of answering ``videos`` (2 per parameter per token, plus attention)."""
    vision = sum(p.numel() for p in model.model.model.visual.parameters())
    language = sum(p.numel() for p in model.model.model.language_model.parameters())
    text = model.model.config.text_config
    layers, width = text.num_hidden_layers, text.hidden_size
    total = 0.0
    for video in videos:
        patches = model.patches(video.frames.frames, 2.0)
        prefix = len(model.prefix_ids(patches, instruction()))
        encode = 2 * vision * patches.pixels.shape[0] + 2 * language * prefix
        encode += 4 * layers * width * prefix * prefix / 2  # causal attention
        asks = [len(model.continuation_ids(question_text(ask))) for ask in video.asks]
        for tokens in asks:
            total += 2 * language * tokens + 4 * layers * width * tokens * (prefix + tokens)
        total += encode * (len(asks) if not reuse else 1)
    return total


def vision_seconds(model: QwenVL, video: VideoAsks, repeats: int = 5) -> float:
    """Median seconds of the vision tower on one video."""
    patches = model.patches(video.frames.frames, 2.0)
    pixels = patches.pixels.to(model.device, model.model.dtype)
    grid = torch.tensor([patches.grid], device=model.device)
    times = []
    with torch.inference_mode():
        for _ in range(repeats + 1):
            sync()
            start = time.perf_counter()
            model.model.model.visual(pixels, grid_thw=grid)
            sync()
            times.append(time.perf_counter() - start)
    return sorted(times[1:])[repeats // 2]


def vision_features(model: QwenVL, video: VideoAsks) -> torch.Tensor:
    patches = model.patches(video.frames.frames, 2.0)
    with torch.inference_mode():
        out = model.model.model.visual(
            patches.pixels.to(model.device, model.model.dtype),
            grid_thw=torch.tensor([patches.grid], device=model.device),
        )
    found = getattr(out, "pooler_output", out)
    return torch.cat(list(found)) if isinstance(found, list | tuple) else found


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(
    judge: QwenJudge, videos: list[VideoAsks], flops: float, ceiling: float | None
) -> dict[str, Any]:
    """Answer everything once; throughput, utilization and peak memory."""
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    sync()
    start = time.perf_counter()
    answers = judge.answer(videos)
    sync()
    seconds = time.perf_counter() - start
    pairs = sum(len(found) for found in answers)
    assert all(a.probs is not None for found in answers for a in found)
    peak = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None
    return {
        "pairs": pairs,
        "seconds": round(seconds, 3),
        "pairs_per_second": round(pairs / seconds, 2),
        "seconds_per_video": round(seconds / len(videos), 4),
        "mfu": None if ceiling is None else round(flops / seconds / 1e12 / ceiling, 4),
        "peak_gib": None if peak is None else round(peak, 2),
    }


def reuse_check(model: QwenVL, video: VideoAsks) -> dict[str, float]:
    """Largest logit difference between a reused prefix and a full run, in bf16 units."""
    patches = model.patches(video.frames.frames, 2.0)
    prefixes = model.encode([patches], instruction())
    text = model.continuation_ids(question_text(video.asks[0]))
    reused = model.continue_from(prefixes, [0], [text]).logits[0]
    ids = model.prefix_ids(patches, instruction()) + text
    positions = torch.cat(
        [
            model.positions(ids[: prefixes.length], patches),
            (prefixes.next_position[0] + torch.arange(len(text))).expand(3, -1),
        ],
        dim=1,
    )
    device = model.device
    with torch.inference_mode():
        full = (
            model.model(
                input_ids=torch.tensor([ids], device=device),
                position_ids=positions.unsqueeze(1).to(device),
                pixel_values_videos=patches.pixels.to(device, model.model.dtype),
                video_grid_thw=torch.tensor([patches.grid], device=device),
            )
            .logits[0, -1]
            .float()
        )
    return {
        "max_abs_logit_difference": float((reused - full).abs().max()),
        "logit_scale": float(full.abs().max()),
        "same_top_token": bool(reused.argmax() == full.argmax()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shape", default="7b", choices=["7b", "tiny"])
    parser.add_argument("--videos", type=int, default=32)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    on_gpu = torch.cuda.is_available()
    device = "cuda" if on_gpu else "cpu"
    taxonomy = load_taxonomy()
    corpus = [instruction()] + [leaf.definition for leaf in taxonomy.leaves()]
    asks = suite_asks(args.videos)
    corpus += [question_text(a) for found in asks for a in found]
    tokenizer = small_tokenizer(corpus, vocab_size=8000)
    start = time.perf_counter()
    with torch.device(device):
        network = random_model(
            tokenizer, args.shape, dtype=torch.bfloat16 if on_gpu else torch.float32
        )
    built = time.perf_counter() - start
    model = QwenVL(network, tokenizer, f"random Qwen2.5-VL {args.shape}")
    sampling = VideoSampling()
    videos = [VideoAsks(clip(n, sampling), found) for n, found in enumerate(asks)]
    ceiling = matmul_ceiling()
    reused_flops = work_flops(model, videos, reuse=True)
    one_by_one = [VideoAsks(v.frames, [a]) for v in videos[:8] for a in v.asks]
    single_flops = work_flops(model, one_by_one, reuse=True)
    result: dict[str, Any] = {
        "shape": args.shape,
        "parameters_billions": round(sum(p.numel() for p in network.parameters()) / 1e9, 3),
        "build_seconds": round(built, 1),
        "videos": len(videos),
        "questions": sum(len(v.asks) for v in videos),
        "frames": list(videos[0].frames.frames.shape),
        "video_tokens": model.patches(videos[0].frames.frames, 2.0).tokens,
        "sampling": sampling.model_dump(),
        "matmul_tflops": None if ceiling is None else round(ceiling, 1),
        "reuse_check": reuse_check(model, videos[0]),
    }
    reference = vision_features(model, videos[0])
    for variant in ("transformers_windows", "batched_windows"):
        if variant == "batched_windows":
            batch_window_attention(network)
            fused = vision_features(model, videos[0])
            result["batched_windows_check"] = {
                "max_abs_difference": float((fused.float() - reference.float()).abs().max()),
                "feature_scale": float(reference.float().abs().max()),
            }
        QwenJudge(model).answer(videos[:1])  # warm-up
        found: dict[str, Any] = {"vision_tower_seconds": round(vision_seconds(model, videos[0]), 4)}
        for video_batch, question_batch in BATCHES:
            label = f"videos={video_batch},questions={question_batch}"
            try:
                judge = QwenJudge(model, video_batch=video_batch, question_batch=question_batch)
                found[label] = timed(judge, videos, reused_flops, ceiling)
            except torch.OutOfMemoryError:
                found[label] = "out of memory"
                torch.cuda.empty_cache()
            print(variant, label, found[label], file=sys.stderr, flush=True)
        found["one_forward_per_question"] = timed(
            QwenJudge(model), one_by_one, single_flops, ceiling
        )
        result[variant] = found
    result["environment"] = {
        "gpu": torch.cuda.get_device_name() if on_gpu else None,
        "torch": torch.__version__,
        "transformers": __import__("transformers").__version__,
        "python": platform.python_version(),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

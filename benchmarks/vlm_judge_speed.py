"""Throughput and memory of the zero-shot judge: Qwen2.5-VL-7B (random weights) on a GPU.

Builds the published Qwen2.5-VL-7B architecture with RANDOM weights in bfloat16 on the GPU
(no download) and a small BPE tokenizer trained on the judge's own texts (real checkpoints
tokenize English into slightly fewer tokens). Each "video" is 5 s of 854x480 sampled as
the judge samples it (2 fps: 10 frames, resized to 588x308, 5 x 11 x 21 = 1,155 video
tokens); its pixels are random and decoding is not timed: this measures the model. Every
video is asked the questions of one prompt of the packaged suite (the suite's mean is 5.9).

It first checks on the GPU that a reused video prefix gives the logits of a full run, then
times ``QwenJudge.answer`` at several (videos, questions) batch sizes, and once without
reusing the prefix (each question re-encodes its video), printing one JSON object:
(video, question) pairs per second, seconds per video, peak GPU memory.

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

BATCHES = [(1, 1), (1, 8), (1, 32), (2, 32), (4, 64), (8, 64), (16, 128)]


def suite_asks(count: int) -> list[list[Ask]]:
    """The questions of the first ``count`` prompts of the packaged suite, as asks."""
    suite = resources.files("scine.bench") / "data" / "suite"
    prompts = {}
    for line in (suite / "prompts.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        prompts[record["id"]] = record["text"]
    asks: dict[str, list[Ask]] = {}
    for line in (suite / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        if len(asks) == count and q["prompt_id"] not in asks:
            break
        asks.setdefault(q["prompt_id"], []).append(
            Ask(prompts[q["prompt_id"]], q["node"], q["text"])
        )
    return list(asks.values())[:count]


def clip(seed: int, sampling: VideoSampling) -> SampledFrames:
    """5 s of 854x480 at 2 fps, as sampled for the judge, with random pixels."""
    width, height = resized_size(854, 480, sampling)
    frames = np.random.default_rng(seed).integers(0, 256, (10, height, width, 3), dtype=np.uint8)
    times = tuple(0.25 + 0.5 * i for i in range(10))
    return SampledFrames(frames, times, 24.0, 5.0, width, height, sampling, 120)


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(judge: QwenJudge, videos: list[VideoAsks]) -> dict[str, Any]:
    """Answer everything once; throughput and peak memory."""
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
    QwenJudge(model).answer(videos[:1])  # warm-up
    result: dict[str, Any] = {
        "shape": args.shape,
        "parameters_billions": round(sum(p.numel() for p in network.parameters()) / 1e9, 3),
        "build_seconds": round(built, 1),
        "videos": len(videos),
        "questions": sum(len(v.asks) for v in videos),
        "frames": list(videos[0].frames.frames.shape),
        "video_tokens": model.patches(videos[0].frames.frames, 2.0).tokens,
        "sampling": sampling.model_dump(),
        "reuse_check": reuse_check(model, videos[0]),
        "batches": {},
    }
    for video_batch, question_batch in BATCHES:
        label = f"videos={video_batch},questions={question_batch}"
        try:
            judge = QwenJudge(model, video_batch=video_batch, question_batch=question_batch)
            result["batches"][label] = timed(judge, videos)
        except torch.OutOfMemoryError:
            result["batches"][label] = "out of memory"
            torch.cuda.empty_cache()
        print(label, result["batches"][label], file=sys.stderr, flush=True)
    one_by_one = [VideoAsks(v.frames, [a]) for v in videos[:8] for a in v.asks]
    result["without_prefix_reuse"] = timed(QwenJudge(model), one_by_one)
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

"""Speed and memory of one text-to-video generation: the Wan2.1-T2V-1.3B architecture.

Builds the published Wan2.1-T2V-1.3B pipeline with RANDOM weights (no download): the
transformer (30 layers, 12 heads x 128, FFN 8960), the UMT5-XXL text encoder (24 layers,
d_model 4096, 64 heads, FFN 10240, vocab 256384), the Wan VAE (diffusers defaults = the
published VAE) and the repository's scheduler (UniPC, flow prediction, flow shift 3.0).
Transformer and text encoder are created on the GPU and held in bfloat16 (the modules the
transformer keeps in float32 when loaded, stay float32); the VAE runs in float32, as
scine's registry loads it (``--vae-dtype bfloat16`` to change that). The text is tokenized
by a small word-level tokenizer: the encoder still sees the pipeline's 512 padded tokens.

It renders the pipeline's defaults (480x832, 81 frames, 50 steps, guidance 5.0, read from
the installed ``WanPipeline.__call__``) with a fixed seed: ``--warmup`` untimed runs, then
``--runs`` timed ones, and prints one JSON object: seconds per video, per denoising step
(with guidance each step runs the transformer twice), text encoding and VAE decoding time,
peak GPU memory, versions and the GPU name. Random weights give meaningless pixels but the
same work as the real model.

    python3 benchmarks/generation_gpu.py                 # on a GPU machine (needs diffusers)
    python3 benchmarks/generation_gpu.py --tiny          # tiny configs, 2 steps, on the CPU

Needs torch, transformers (5.x) and diffusers (with WanPipeline); nothing of scine.
"""

from __future__ import annotations

import argparse
import inspect
import json
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import torch

PROMPT = (
    "A low-angle tracking shot follows a woman in a red coat as she walks through a rainy "
    "street at night, neon signs reflecting in the puddles, shallow depth of field."
)
WORDS = sorted(set(PROMPT.lower().replace(",", " ").replace(".", " ").split()))

# The published Wan2.1-T2V-1.3B transformer (transformer/config.json of the Diffusers repo).
WAN_1_3B = {
    "patch_size": (1, 2, 2),
    "num_attention_heads": 12,
    "attention_head_dim": 128,
    "in_channels": 16,
    "out_channels": 16,
    "text_dim": 4096,
    "freq_dim": 256,
    "ffn_dim": 8960,
    "num_layers": 30,
    "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads",
    "eps": 1e-6,
    "rope_max_seq_len": 1024,
}
# google/umt5-xxl, the encoder Wan uses (text_encoder/config.json).
UMT5_XXL = {
    "vocab_size": 256384,
    "d_model": 4096,
    "d_kv": 64,
    "d_ff": 10240,
    "num_layers": 24,
    "num_heads": 64,
    "relative_attention_num_buckets": 32,
    "relative_attention_max_distance": 128,
    "feed_forward_proj": "gated-gelu",
    "layer_norm_epsilon": 1e-6,
    "tie_word_embeddings": False,
    "pad_token_id": 0,
    "eos_token_id": 1,
    "decoder_start_token_id": 0,
}
WAN_VAE: dict[str, Any] = {}  # AutoencoderKLWan's defaults are the published VAE
SCHEDULER = {"prediction_type": "flow_prediction", "use_flow_sigmas": True, "flow_shift": 3.0}

TINY_TRANSFORMER = {
    **WAN_1_3B,
    "num_attention_heads": 2,
    "attention_head_dim": 12,
    "text_dim": 32,
    "ffn_dim": 32,
    "num_layers": 2,
    "rope_max_seq_len": 32,
}
TINY_UMT5 = {**UMT5_XXL, "vocab_size": 64, "d_model": 32, "d_kv": 8, "d_ff": 37}
TINY_UMT5.update(num_layers=2, num_heads=4, relative_attention_num_buckets=8)
TINY_VAE = {"base_dim": 3, "dim_mult": [1, 1, 1, 1], "num_res_blocks": 1}
TINY_CALL = {"height": 16, "width": 16, "num_frames": 9, "num_inference_steps": 2}


def main() -> None:
    args = _arguments()
    import diffusers
    import transformers

    device = torch.device("cpu" if args.tiny else "cuda")
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("generation_gpu.py needs a CUDA GPU (or --tiny to run tiny configs on the CPU)")
    dtype = torch.float32 if args.tiny else torch.bfloat16
    vae_dtype = torch.float32 if args.tiny else getattr(torch, args.vae_dtype)

    start = time.perf_counter()
    pipeline, sizes = _build(args.tiny, device, dtype, vae_dtype)
    build_seconds = time.perf_counter() - start
    pipeline.set_progress_bar_config(disable=True)

    call = _defaults(diffusers.WanPipeline)
    if args.tiny:
        call.update(TINY_CALL)
    if args.steps is not None:
        call["num_inference_steps"] = args.steps

    warmup_call = dict(call)
    if args.warmup_steps is not None:
        warmup_call["num_inference_steps"] = args.warmup_steps
    for _ in range(args.warmup):
        _run(pipeline, warmup_call, args.seed, device)
    timed = [_run(pipeline, call, args.seed, device) for _ in range(args.runs)]
    result = {
        "benchmark": "Wan2.1-T2V-1.3B architecture, random weights"
        + (" (tiny)" if args.tiny else ""),
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "cuda": torch.version.cuda,
            "diffusers": diffusers.__version__,
            "transformers": transformers.__version__,
        },
        "call": {**call, "seed": args.seed},
        "dtype": str(dtype).removeprefix("torch."),
        "vae_dtype": str(vae_dtype).removeprefix("torch."),
        "parameters": sizes,
        "build_seconds": round(build_seconds, 2),
        "weights_gib": _weights_gib(pipeline),
        "memory": "CUDA max_memory_allocated / max_memory_reserved"
        if device.type == "cuda"
        else "CPU: the process's peak resident set size (both fields)",
        "warmup_runs": args.warmup,
        "warmup_steps": warmup_call["num_inference_steps"],
        "timed_runs": len(timed),
        "seconds_per_video": _median(timed, "seconds"),
        "seconds_per_step": _median(timed, "seconds_per_step"),
        "text_encode_seconds": _median(timed, "text_encode_seconds"),
        "vae_decode_seconds": _median(timed, "vae_decode_seconds"),
        "peak_memory_gib": max(run["peak_allocated_gib"] for run in timed),
        "peak_reserved_gib": max(run["peak_reserved_gib"] for run in timed),
        "runs": timed,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny configs, 2 steps, on the CPU")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    parser.add_argument("--runs", type=int, default=1, help="timed runs (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, help="override the pipeline's default steps")
    parser.add_argument(
        "--warmup-steps", type=int, help="steps of the warm-up runs (default: as timed runs)"
    )
    parser.add_argument("--vae-dtype", choices=("float32", "bfloat16"), default="float32")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be >= 1 and --warmup >= 0")
    return args


def _build(
    tiny: bool, device: torch.device, dtype: torch.dtype, vae_dtype: torch.dtype
) -> tuple[Any, dict[str, int]]:
    import diffusers
    from transformers import UMT5Config, UMT5EncoderModel

    torch.manual_seed(0)
    with device:
        transformer = diffusers.WanTransformer3DModel(**(TINY_TRANSFORMER if tiny else WAN_1_3B))
        _cast(transformer, dtype)
        config = UMT5Config(**(TINY_UMT5 if tiny else UMT5_XXL))
        text_encoder = UMT5EncoderModel._from_config(config, dtype=dtype)
        vae = diffusers.AutoencoderKLWan(**(TINY_VAE if tiny else WAN_VAE))
        _cast(vae, vae_dtype)
    pipeline = diffusers.WanPipeline(
        tokenizer=_tokenizer(),
        text_encoder=text_encoder.eval(),
        transformer=transformer.eval(),
        vae=vae.eval(),
        scheduler=diffusers.UniPCMultistepScheduler(**SCHEDULER),
    )
    sizes = {
        name: sum(p.numel() for p in module.parameters())
        for name, module in (
            ("transformer", transformer),
            ("text_encoder", text_encoder),
            ("vae", vae),
        )
    }
    return pipeline, sizes


def _cast(model: torch.nn.Module, dtype: torch.dtype) -> None:
    """Parameters to ``dtype`` except those diffusers keeps in float32 when loading."""
    keep = getattr(model, "_keep_in_fp32_modules", None) or []
    if dtype == torch.float32:
        return
    for name, parameter in model.named_parameters():
        if not any(module in name.split(".") for module in keep):
            parameter.data = parameter.data.to(dtype)


def _tokenizer() -> Any:
    import tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2} | {word: 3 + i for i, word in enumerate(WORDS)}
    inner = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    inner.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    inner.post_processor = tokenizers.processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", 1)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=inner, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )


def _defaults(pipeline_class: type[Any]) -> dict[str, Any]:
    signature = inspect.signature(pipeline_class.__call__).parameters
    keys = ("height", "width", "num_frames", "num_inference_steps", "guidance_scale")
    return {key: signature[key].default for key in keys}


def _run(pipeline: Any, call: dict[str, Any], seed: int, device: torch.device) -> dict[str, Any]:
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    spans: dict[str, float] = {}
    steps: list[float] = []

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            sync()
            begin = time.perf_counter()
            value = function(*args, **kwargs)
            sync()
            spans[name] = spans.get(name, 0.0) + time.perf_counter() - begin
            spans[name + "_end"] = time.perf_counter()
            return value

        return wrapper

    def on_step(_pipe: Any, _step: int, _timestep: Any, tensors: dict[str, Any]) -> Any:
        sync()
        steps.append(time.perf_counter())
        return tensors

    encode, decode = pipeline.encode_prompt, pipeline.vae.decode
    pipeline.encode_prompt = timed("text_encode", encode)
    pipeline.vae.decode = timed("vae_decode", decode)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    try:
        sync()
        begin = time.perf_counter()
        output = pipeline(
            prompt=PROMPT,
            generator=torch.Generator("cpu").manual_seed(seed),
            output_type="np",
            callback_on_step_end=on_step,
            **call,
        )
        sync()
        seconds = time.perf_counter() - begin
    finally:
        pipeline.encode_prompt, pipeline.vae.decode = encode, decode
    frames = output.frames[0]
    denoise = steps[-1] - spans["text_encode_end"]
    return {
        "seconds": round(seconds, 3),
        "text_encode_seconds": round(spans["text_encode"], 3),
        "denoise_seconds": round(denoise, 3),
        "steps": len(steps),
        "seconds_per_step": round(denoise / len(steps), 4),
        "vae_decode_seconds": round(spans["vae_decode"], 3),
        "peak_allocated_gib": _peak(device, reserved=False),
        "peak_reserved_gib": _peak(device, reserved=True),
        "frames_shape": list(frames.shape),
        "frames_finite": bool(frames.size and (frames == frames).all()),
    }


def _peak(device: torch.device, reserved: bool) -> float:
    """Peak GPU memory in GiB; on the CPU, the process's peak resident memory."""
    if device.type == "cuda":
        peak = (
            torch.cuda.max_memory_reserved(device)
            if reserved
            else torch.cuda.max_memory_allocated(device)
        )
        return round(peak / 2**30, 2)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)


def _weights_gib(pipeline: Any) -> float:
    total = 0
    for module in (pipeline.transformer, pipeline.text_encoder, pipeline.vae):
        total += sum(p.numel() * p.element_size() for p in module.parameters())
    return round(total / 2**30, 2)


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(run[key] for run in runs), 4)


if __name__ == "__main__":
    main()

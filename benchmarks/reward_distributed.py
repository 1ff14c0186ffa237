"""`scine reward train` under accelerate's DDP, FSDP1 and FSDP2 against one plain process.

    python3 benchmarks/reward_distributed.py --study STUDY --base MODEL --out DIR [--processes N]

Trains the same evaluator (the same study, base model, seed and settings) once as a plain
process and then N processes (one per GPU) started by torchrun, as ``accelerate launch``
starts them for several GPUs: DDP, FSDP1 and FSDP2 (every decoder layer wrapped, full
sharding). torchrun starts even one process as a distributed one, so with N = 1 the sharded
paths really run (``accelerate launch`` runs a single process plain, whatever the FSDP
settings). For each run it records whether it finished, its wall time, how it trained (the
checkpoint's ``trained_on``: processes and accelerate's distributed type), its validation
history and the largest difference of every saved tensor (head and adapters) from the plain
run's. With N > 1 each process takes its share of every epoch, so the global batch is N times
``--batch``. On a GPU the base model loads in bfloat16 beside float32 adapters, which FSDP1
cannot flatten: that run is expected to stop at once with ``scine reward train``'s advice to
use FSDP2. NCCL's NVLink multicast stays off in every launched process. Writes one JSON
object to ``DIR/distributed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

LAYER = "Qwen2_5_VLDecoderLayer"
MODES: dict[str, dict[str, str]] = {
    "ddp": {},
    "fsdp1": {"FSDP_VERSION": "1"},
    "fsdp2": {"FSDP_VERSION": "2"},
}
FSDP = {
    "ACCELERATE_USE_FSDP": "true",
    "FSDP_AUTO_WRAP_POLICY": "TRANSFORMER_BASED_WRAP",
    "FSDP_TRANSFORMER_CLS_TO_WRAP": LAYER,
    "FSDP_SHARDING_STRATEGY": "FULL_SHARD",
    "FSDP_USE_ORIG_PARAMS": "true",
}


def train(command: list[str], out: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run one training into ``out``: finished or not, seconds, the end of its errors."""
    start = time.perf_counter()
    done = subprocess.run(
        [*command, "--out", str(out)], capture_output=True, text=True, env=env, check=False
    )
    result: dict[str, Any] = {
        "finished": done.returncode == 0,
        "seconds": round(time.perf_counter() - start, 1),
    }
    if done.returncode != 0:
        result["error"] = done.stderr[-2500:]
    else:
        config = json.loads((out / "reward.json").read_text())
        result["trained_on"] = config.get("trained_on")
        result["history"] = config["history"]
    return result


def tensors(folder: Path) -> dict[str, Any]:
    """Every tensor a checkpoint saved (head and adapters), by file and name."""
    from safetensors.torch import load_file

    return {
        f"{path.stem}/{name}": value.float()
        for path in sorted(folder.glob("*.safetensors"))
        for name, value in load_file(path).items()
    }


def differences(plain: Path, other: Path) -> dict[str, Any]:
    """The largest absolute difference of the saved tensors from the plain run's; their scale."""
    mine, theirs = tensors(plain), tensors(other)
    if set(mine) != set(theirs):
        return {"same_tensors": False, "missing": sorted(set(mine) ^ set(theirs))[:10]}
    shapes = all(value.shape == theirs[name].shape for name, value in mine.items())
    if not shapes:
        return {"same_tensors": True, "same_shapes": False}
    largest = max(float((theirs[name] - value).abs().max()) for name, value in mine.items())
    scale = max(float(value.abs().max()) for value in mine.values())
    return {"same_tensors": True, "same_shapes": True, "max_abs_diff": largest, "scale": scale}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--study", required=True)
    parser.add_argument("--base", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--max-pixels", type=int, default=56 * 56)
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    options = ["--study", args.study, "--base", args.base, "--lr", "1e-3"]
    options += ["--validation-share", "0.25", "--batch", str(args.batch)]
    options += ["--max-pixels", str(args.max_pixels), "--force"]  # a rerun trains again
    env = {**os.environ, "NCCL_NVLS_ENABLE": "0"}
    plain = [sys.executable, "-m", "scine.cli", "reward", "train", *options]
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    launch += ["--nproc_per_node", str(args.processes)]
    result: dict[str, Any] = {"processes": args.processes, "runs": {}}
    result["runs"]["plain"] = train(plain, args.out / "plain", env)
    for mode, extra in MODES.items():
        mode_env = {**env, **(FSDP if mode.startswith("fsdp") else {}), **extra}
        command = [*launch, "--module", "scine.cli", "reward", "train", *options]
        run = train(command, args.out / mode, mode_env)
        if run["finished"] and result["runs"]["plain"]["finished"]:
            run["against_plain"] = differences(args.out / "plain", args.out / mode)
        result["runs"][mode] = run
        print(mode, json.dumps({k: v for k, v in run.items() if k != "error"}), flush=True)
        if "error" in run:
            print(run["error"][-1200:], flush=True)
    (args.out / "distributed.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

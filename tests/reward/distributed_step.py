"""One training step of the evaluator, as ``scine reward train`` takes it, on a fixed global
batch of 4 pairs: each process takes every N-th pair (LoRA dropout off: its random draws
differ with the number of processes). ``argv[3]`` says how the model is spread: ``ddp``
(``accelerator.prepare``, as ``scine reward train`` runs) or ``fsdp`` (PyTorch's
``fully_shard`` on every decoder layer and on the whole model, as FSDP2 wraps a transformer:
each process holds a shard of every parameter). Writes the mean loss over processes and every
trainable gradient (whole, gathered from the shards) to the JSON file named by ``argv[2]``.
Run alone or by torchrun."""

from __future__ import annotations

import json
import sys

import numpy as np
import torch
from accelerate import Accelerator
from torch.distributed.fsdp import fully_shard
from torch.distributed.tensor import DTensor

from scine.judge.vlm import instruction
from scine.reward.checkpoint import LoraSettings, TrainSettings
from scine.reward.model import RewardInput, RewardModel
from scine.reward.train import backward_step, make_trainable
from scine.vlm.qwen import QwenVL


def main() -> None:
    base, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    accelerator = Accelerator()
    torch.manual_seed(0)  # the same head and adapters in every process
    qwen = QwenVL.load(base, device="cpu")
    settings = TrainSettings(lora=LoraSettings(dropout=0.0))  # dropout draws differ by process
    model = make_trainable(RewardModel(qwen, instruction()), settings)
    if mode == "fsdp" and accelerator.num_processes > 1:
        for layer in qwen.model.model.language_model.layers:
            fully_shard(layer)
        fully_shard(model)
    else:
        model = accelerator.prepare(model)
    rng = np.random.default_rng(0)
    videos = [
        qwen.patches(rng.integers(0, 256, (4, 56, 84, 3), dtype=np.uint8), 2.0) for _ in range(4)
    ]
    texts = [qwen.continuation_ids(f"Question {n}: is the light warm?" * (n + 1)) for n in range(2)]
    pairs = [(videos[0], videos[1], texts[0], 0), (videos[0], videos[1], texts[1], 1)]
    pairs += [(videos[2], videos[3], texts[0], 1), (videos[2], videos[3], texts[1], 0)]
    mine = pairs[accelerator.process_index :: accelerator.num_processes]
    inputs = [RewardInput(a, t) for a, _, t, _ in mine] + [RewardInput(b, t) for _, b, t, _ in mine]
    loss = backward_step(model, accelerator, inputs, [o for *_, o in mine], None)
    losses = accelerator.gather(torch.tensor([loss]))
    grads = {
        name: whole(parameter.grad).flatten().tolist()
        for name, parameter in accelerator.unwrap_model(model).named_parameters()
        if parameter.requires_grad and parameter.grad is not None
    }
    if accelerator.is_main_process:
        found = {
            "processes": accelerator.num_processes,
            "sharded": any(isinstance(p, DTensor) for p in model.parameters()),
            "loss": float(losses.mean()),
            "grads": grads,
        }
        with open(out, "w", encoding="utf-8") as handle:
            json.dump(found, handle)


def whole(gradient: torch.Tensor) -> torch.Tensor:
    """A gradient as one tensor, gathered from every process where it is sharded."""
    return gradient.full_tensor() if isinstance(gradient, DTensor) else gradient


if __name__ == "__main__":
    main()

"""One training step of the evaluator, as ``scine reward train`` takes it, on a fixed global
batch of 4 pairs: each process takes every N-th pair (LoRA dropout off: its random draws
differ with the number of processes). Writes the mean loss over processes
and every trainable gradient to the JSON file named by argv[2]. Run alone or by torchrun."""

from __future__ import annotations

import json
import sys

import numpy as np
import torch
from accelerate import Accelerator

from scine.judge.vlm import instruction
from scine.reward.checkpoint import LoraSettings, TrainSettings
from scine.reward.model import RewardInput, RewardModel
from scine.reward.train import backward_step, make_trainable
from scine.vlm.qwen import QwenVL


def main() -> None:
    base, out = sys.argv[1], sys.argv[2]
    accelerator = Accelerator()
    torch.manual_seed(0)  # the same head and adapters in every process
    qwen = QwenVL.load(base, device="cpu")
    settings = TrainSettings(lora=LoraSettings(dropout=0.0))  # dropout draws differ by process
    model = accelerator.prepare(make_trainable(RewardModel(qwen, instruction()), settings))
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
        name: parameter.grad.flatten().tolist()
        for name, parameter in accelerator.unwrap_model(model).named_parameters()
        if parameter.requires_grad and parameter.grad is not None
    }
    if accelerator.is_main_process:
        found = {
            "processes": accelerator.num_processes,
            "loss": float(losses.mean()),
            "grads": grads,
        }
        with open(out, "w", encoding="utf-8") as handle:
            json.dump(found, handle)


if __name__ == "__main__":
    main()

"""A trained evaluator on disk: everything needed to score exactly as it was trained.

    CKPT/reward.json        format, base model, its shape, taxonomy version, instruction
                            and its hash, frame sampling, training settings, history,
                            how training ran (processes, accelerate's distributed type)
    CKPT/head.safetensors   the linear head
    CKPT/adapter.safetensors  LoRA weights (adapter "lora"), or
    CKPT/model/             the whole fine-tuned model (adapter "full")
    CKPT/tokenizer/         the tokenizer

Loading checks the taxonomy version and the base model's shape before any weights are
read into the model, and names what differs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from scine.taxonomy import load_taxonomy
from scine.video.sample import VideoSampling
from scine.vlm.qwen import QwenVL

from .model import RewardModel

if TYPE_CHECKING:
    import torch

__all__ = [
    "FORMAT",
    "CheckpointError",
    "LoraSettings",
    "TrainSettings",
    "attach_lora",
    "base_shape",
    "load_reward",
    "save_reward",
]

FORMAT = "scine.reward/1"


class CheckpointError(ValueError):
    """The checkpoint cannot be used here; the message says why."""


class LoraSettings(BaseModel):
    """Low-rank adapters on the language model's attention projections."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rank: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.05, ge=0, lt=1)
    targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")


class TrainSettings(BaseModel):
    """How an evaluator is trained; the defaults are the paper's (batch 8, lr 6e-5, 1 epoch,
    2 fps at native resolution up to ``max_pixels``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lr: float = Field(6e-5, gt=0)
    batch: int = Field(8, ge=1)
    epochs: int = Field(1, ge=1)
    adapter: Literal["lora", "full"] = "lora"
    lora: LoraSettings = LoraSettings()
    gradient_checkpointing: bool = True
    train_vision: bool = False
    ties: bool = False
    tie_margin: float = Field(0.5, gt=0)
    validation_share: float = Field(0.1, gt=0, lt=1)
    seed: int = 0
    sampling: VideoSampling = VideoSampling()


def base_shape(qwen: QwenVL) -> dict[str, int]:
    """What a head and an adapter depend on in the base model."""
    text = qwen.model.config.text_config
    return {
        "hidden_size": int(text.hidden_size),
        "num_hidden_layers": int(text.num_hidden_layers),
        "num_attention_heads": int(text.num_attention_heads),
        "num_key_value_heads": int(text.num_key_value_heads),
        "vocab_size": int(text.vocab_size),
    }


def save_reward(
    folder: str | Path,
    model: RewardModel,
    base: str,
    settings: TrainSettings,
    *,
    template: str,
    history: list[dict[str, Any]],
    pairs: dict[str, int],
    state: Mapping[str, torch.Tensor] | None = None,
    trained_on: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``model`` (trained from ``base``) and its configs to ``folder``.

    ``state``: the model's whole state dict where its parameters are sharded over processes
    (``accelerator.get_state_dict`` gathers it under FSDP or DeepSpeed ZeRO-3); by default
    ``model.state_dict()``. ``trained_on``: how training ran (processes, distributed type),
    recorded as given.
    """
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = model.state_dict() if state is None else state
    head, network = _part(state, "head."), _part(state, "network.")
    save_file(head, folder / "head.safetensors")
    if settings.adapter == "lora":
        weights = get_peft_model_state_dict(model.network, state_dict=network)
        save_file(weights, folder / "adapter.safetensors")
    else:
        model.network.save_pretrained(folder / "model", state_dict=network)
    model.qwen.tokenizer.save_pretrained(folder / "tokenizer")
    config = {
        "format": FORMAT,
        "base": base,
        "base_shape": base_shape(model.qwen),
        "taxonomy": load_taxonomy().version,
        "template": template,
        "system": model.system,
        "settings": settings.model_dump(mode="json"),
        "history": history,
        "pairs": pairs,
    }
    if trained_on is not None:
        config["trained_on"] = dict(trained_on)
    (folder / "reward.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return folder


def _part(state: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The entries of ``state`` under ``prefix``, named without it, as contiguous tensors."""
    return {k[len(prefix) :]: v.contiguous() for k, v in state.items() if k.startswith(prefix)}


def load_reward(
    folder: str | Path, *, device: str | None = None
) -> tuple[RewardModel, dict[str, Any]]:
    """The evaluator saved in ``folder`` and its config; ``CheckpointError`` when the
    checkpoint is not one, was made for another taxonomy, or does not fit its base model."""
    import torch
    from safetensors.torch import load_file

    folder = Path(folder)
    config = _read_config(folder)
    settings = TrainSettings.model_validate(config["settings"])
    if settings.adapter == "full":
        qwen = QwenVL.load(
            str(folder / "model"), device=device, tokenizer=str(folder / "tokenizer")
        )
    else:
        qwen = QwenVL.load(config["base"], device=device)
        shape = base_shape(qwen)
        if shape != config["base_shape"]:
            changed = {
                k: (config["base_shape"].get(k), v)
                for k, v in shape.items()
                if config["base_shape"].get(k) != v
            }
            raise CheckpointError(
                f"{folder}: trained on a base model of another shape than {config['base']} "
                f"(saved, found): {changed}"
            )
        attach_lora(qwen, settings.lora)
        from peft import set_peft_model_state_dict

        set_peft_model_state_dict(qwen.model, load_file(folder / "adapter.safetensors"))
    model = RewardModel(qwen, config["system"])
    model.head.load_state_dict(load_file(folder / "head.safetensors"))
    model.head.to(qwen.device, torch.float32)
    return model.eval(), config


def _read_config(folder: Path) -> dict[str, Any]:
    """reward.json, checked for format and taxonomy version."""
    path = folder / "reward.json"
    if not path.is_file():
        raise CheckpointError(f"{folder}: not an evaluator checkpoint (no reward.json)")
    config: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if config.get("format") != FORMAT:
        raise CheckpointError(f"{path}: format {config.get('format')!r}, expected {FORMAT!r}")
    taxonomy = load_taxonomy().version
    if config.get("taxonomy") != taxonomy:
        raise CheckpointError(
            f"{path}: trained for taxonomy version {config.get('taxonomy')}, this is {taxonomy}: "
            "its questions may mean other things; retrain on this taxonomy"
        )
    return config


def attach_lora(qwen: QwenVL, lora: LoraSettings) -> None:
    """Low-rank adapters on the language model's attention (the vision tower untouched)."""
    from peft import LoraConfig, inject_adapter_in_model

    targets = rf"^model\.language_model\..*\.({'|'.join(lora.targets)})$"
    config = LoraConfig(
        r=lora.rank, lora_alpha=lora.alpha, lora_dropout=lora.dropout, target_modules=targets
    )
    inject_adapter_in_model(config, qwen.model)

"""A trained evaluator on disk: everything needed to score exactly as it was trained.

    CKPT/reward.json        format, base model, its shape, taxonomy version, instruction
                            and its hash, frame sampling, training settings, history,
                            how training ran (processes, accelerate's distributed type)
    CKPT/head.safetensors   the linear head
    CKPT/adapter.safetensors  LoRA weights (adapter "lora"), or
    CKPT/model/             the whole fine-tuned model (adapter "full")
    CKPT/tokenizer/         the tokenizer
    CKPT/.scine-digest.json  written by ``checkpoint_digest``: the digest of the files
                            above and each one's size and modification time, so that
                            it is not hashed again while none changed (no part of it)

A checkpoint is written to a temporary folder beside its place and renamed into it when
complete, so a save cut short leaves the earlier checkpoint (or nothing) there. Loading
checks reward.json, the taxonomy version, the base model's shape and (a local base folder)
its weights' fingerprint, and every weight file, and names what is wrong;
``check_checkpoint`` checks what can be checked without reading a weight.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scine.records import file_sha256
from scine.taxonomy import load_taxonomy
from scine.video.sample import VideoSampling
from scine.vlm.qwen import ModelLoadError, QwenVL

if TYPE_CHECKING:
    import torch

    from .model import RewardModel

__all__ = [
    "DIGEST_FILE",
    "FORMAT",
    "CheckpointError",
    "LoraSettings",
    "TrainSettings",
    "attach_lora",
    "base_fingerprint",
    "base_shape",
    "check_checkpoint",
    "check_out_folder",
    "checkpoint_digest",
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

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

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


def base_fingerprint(base: str) -> str | None:
    """A fingerprint of a local base folder's weights: the name, dtype, shape and first KiB
    of every tensor in its safetensors files (None for a hub id or a folder without them).
    Reads a few bytes per tensor: it tells another base of the same shape, not every edit."""
    files = sorted(Path(base).glob("*.safetensors")) if Path(base).is_dir() else []
    if not files:
        return None
    parts = []
    for path in files:
        with path.open("rb") as stream:
            size = int.from_bytes(stream.read(8), "little")
            header = json.loads(stream.read(size))
            for name, entry in header.items():
                if name != "__metadata__":
                    start, end = entry["data_offsets"]
                    stream.seek(8 + size + start)
                    sample = stream.read(min(end - start, 1024)).hex()
                    parts.append((name, entry["dtype"], entry["shape"], sample))
    return hashlib.sha256(json.dumps(sorted(parts)).encode()).hexdigest()


DIGEST_FILE = ".scine-digest.json"
_DIGEST_FORMAT = "scine.reward.digest/1"
_SETTLED_NS = 2_000_000_000
"""A file modified more recently than this may change again within one tick of the
file system's clock without its modification time changing: its digest is not kept."""


def checkpoint_digest(folder: str | Path) -> str:
    """The sha256 over every file of a checkpoint and its path in it: a checkpoint trained
    again into the same folder gets another digest. Kept in ``DIGEST_FILE`` (where the
    folder can be written) with each file's size and modification time, and read from
    there while they all are the same, so an unchanged checkpoint is hashed once."""
    folder = Path(folder)
    stats = _file_stats(folder)
    kept = _kept_digest(folder / DIGEST_FILE, stats)
    if kept is not None:
        return kept
    lines = [f"{name}\0{file_sha256(folder / name)}" for name, _, _ in stats]
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    settled = time.time_ns() - _SETTLED_NS
    if all(modified < settled for _, _, modified in stats):
        _keep_digest(folder, stats, digest)
    return digest


def _file_stats(folder: Path) -> list[tuple[str, int, int]]:
    """(path in the folder, size, modification time in ns) of every file of the checkpoint,
    ``DIGEST_FILE`` and its temporary copies left out."""
    found = []
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and not name.startswith(DIGEST_FILE):
            stat = path.stat()
            found.append((name, stat.st_size, stat.st_mtime_ns))
    return found


def _kept_digest(path: Path, stats: list[tuple[str, int, int]]) -> str | None:
    """The digest kept in ``path`` if it was taken of files of exactly these ``stats``."""
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(kept, dict) or kept.get("format") != _DIGEST_FORMAT:
        return None
    digest = kept.get("digest")
    same = kept.get("files") == [list(stat) for stat in stats]
    return digest if isinstance(digest, str) and same else None


def _keep_digest(folder: Path, stats: list[tuple[str, int, int]], digest: str) -> None:
    """Write ``DIGEST_FILE`` whole (a temporary file renamed); a folder that cannot be
    written is left as it is."""
    record = {"format": _DIGEST_FORMAT, "digest": digest, "files": stats}
    partial = folder / f"{DIGEST_FILE}.{uuid.uuid4().hex[:8]}.partial"
    try:
        partial.write_text(json.dumps(record) + "\n", encoding="utf-8")
        partial.replace(folder / DIGEST_FILE)
    except OSError:  # a folder this user cannot write to, or a full disk
        with contextlib.suppress(OSError):
            partial.unlink()


def check_out_folder(folder: str | Path, *, replace: bool = False) -> None:
    """``CheckpointError`` unless a checkpoint may be written to ``folder``: it is new or
    empty, or holds an evaluator checkpoint and ``replace`` is set."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise CheckpointError(f"{folder}: exists and is not a folder")
    if not folder.is_dir() or not any(folder.iterdir()):
        return
    if not (folder / "reward.json").is_file():
        raise CheckpointError(
            f"{folder}: not empty and not an evaluator checkpoint (no reward.json); "
            "write the checkpoint to a new or empty folder"
        )
    if not replace:
        raise CheckpointError(
            f"{folder}: holds an evaluator checkpoint already; --force (replace=True) replaces it"
        )


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
    replace: bool = False,
) -> Path:
    """Write ``model`` (trained from ``base``) and its configs to ``folder``: into a
    temporary folder beside it, renamed into place when complete (``check_out_folder``
    says where it may go; ``replace``: over an earlier checkpoint). A local ``base`` folder
    is recorded as an absolute path, with its ``base_fingerprint``.

    ``state``: the model's whole state dict where its parameters are sharded over processes
    (``accelerator.get_state_dict`` gathers it under FSDP or DeepSpeed ZeRO-3); by default
    ``model.state_dict()``. ``trained_on``: how training ran (processes, distributed type),
    recorded as given.
    """
    check_out_folder(folder, replace=replace)
    if Path(base).is_dir():
        base = os.path.abspath(base)
    target = Path(os.path.abspath(folder))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    partial.mkdir()
    try:
        _write(partial, model, base, settings, state, trained_on, template, history, pairs)
        if target.exists():  # an empty folder or an earlier checkpoint, replaced
            earlier = partial.with_suffix(".old")
            target.rename(earlier)
            partial.rename(target)
            shutil.rmtree(earlier)
        else:
            partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Path(folder)


def _write(
    folder: Path,
    model: RewardModel,
    base: str,
    settings: TrainSettings,
    state: Mapping[str, torch.Tensor] | None,
    trained_on: Mapping[str, Any] | None,
    template: str,
    history: list[dict[str, Any]],
    pairs: dict[str, int],
) -> None:
    """The checkpoint's files in ``folder`` (see ``save_reward``)."""
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

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
        "base_fingerprint": base_fingerprint(base),
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


def _part(state: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The entries of ``state`` under ``prefix``, named without it, as contiguous tensors."""
    return {k[len(prefix) :]: v.contiguous() for k, v in state.items() if k.startswith(prefix)}


def load_reward(
    folder: str | Path, *, device: str | None = None
) -> tuple[RewardModel, dict[str, Any]]:
    """The evaluator saved in ``folder`` and its config; ``CheckpointError`` naming the file
    when the checkpoint is not one or is broken, was made for another taxonomy, or does not
    fit its base model."""
    import torch

    from .model import RewardModel

    folder = Path(folder)
    config, settings = check_checkpoint(folder)
    head = _tensors(folder / "head.safetensors")
    if settings.adapter == "full":
        try:
            qwen = QwenVL.load(
                str(folder / "model"), device=device, tokenizer=str(folder / "tokenizer")
            )
        except ModelLoadError as exc:
            raise CheckpointError(str(exc)) from None
    else:
        adapter = _tensors(folder / "adapter.safetensors")
        qwen = _base(folder / "reward.json", config, device)
        attach_lora(qwen, settings.lora)
        _load_adapter(qwen, adapter, folder / "adapter.safetensors", settings.lora)
    model = RewardModel(qwen, config["system"])
    try:
        model.head.load_state_dict(head)
    except RuntimeError as exc:
        raise CheckpointError(
            f"{folder / 'head.safetensors'}: not the head of this model: {_said(exc)}"
        ) from None
    model.head.to(qwen.device, torch.float32)
    return model.eval(), config


def check_checkpoint(folder: str | Path) -> tuple[dict[str, Any], TrainSettings]:
    """reward.json and its settings, checked, and the files the checkpoint needs and (LoRA
    adapters) its local base folder there: what can be checked without reading a weight,
    checked first by ``load_reward``. ``CheckpointError`` naming the file, else the config."""
    folder = Path(folder)
    config, settings = _read_config(folder)
    whole = ["model", "tokenizer"] if settings.adapter == "full" else ["adapter.safetensors"]
    missing = [
        folder / name for name in ["head.safetensors", *whole] if not (folder / name).exists()
    ]
    if missing:
        raise CheckpointError(f"{missing[0]}: missing from the checkpoint")
    base = Path(config["base"])
    if settings.adapter == "lora" and base.is_absolute() and not base.is_dir():
        raise CheckpointError(
            f"{folder / 'reward.json'}: its base model folder {base} is not there (moved or "
            "deleted?); put it back, or set 'base' in reward.json to where it is now"
        )
    return config, settings


_FIELDS = {"base": str, "base_shape": dict, "system": str, "settings": dict}


def _read_config(folder: Path) -> tuple[dict[str, Any], TrainSettings]:
    """reward.json and its settings, checked for format, taxonomy version and fields."""
    path = folder / "reward.json"
    if not path.is_file():
        raise CheckpointError(f"{folder}: not an evaluator checkpoint (no reward.json)")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: expected a JSON object, found {type(config).__name__}")
    if config.get("format") != FORMAT:
        raise CheckpointError(f"{path}: format {config.get('format')!r}, expected {FORMAT!r}")
    taxonomy = load_taxonomy().version
    if config.get("taxonomy") != taxonomy:
        raise CheckpointError(
            f"{path}: trained for taxonomy version {config.get('taxonomy')}, this is {taxonomy}: "
            "its questions may mean other things; retrain on this taxonomy"
        )
    wrong = [key for key, kind in _FIELDS.items() if not isinstance(config.get(key), kind)]
    if wrong:
        raise CheckpointError(
            f"{path}: field(s) {', '.join(wrong)} missing or of the wrong type (expected "
            "base and system as text, base_shape and settings as objects)"
        )
    try:
        settings = TrainSettings.model_validate(config["settings"])
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise CheckpointError(f"{path}: field 'settings.{where}': {error['msg']}") from None
    return config, settings


def _tensors(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file of the checkpoint; unreadable, an error."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(path)
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from None


def _base(config_path: Path, config: dict[str, Any], device: str | None) -> QwenVL:
    """The base model reward.json names, checked to be the one trained on (its shape and,
    for a local folder, its fingerprint)."""
    base = config["base"]
    try:
        qwen = QwenVL.load(base, device=device)
    except ModelLoadError as exc:
        raise CheckpointError(f"{config_path}: its base model: {exc}") from None
    shape = base_shape(qwen)
    if shape != config["base_shape"]:
        changed = {
            k: (config["base_shape"].get(k), v)
            for k, v in shape.items()
            if config["base_shape"].get(k) != v
        }
        raise CheckpointError(
            f"{config_path}: trained on a base model of another shape than {base} "
            f"(saved, found): {changed}"
        )
    recorded = config.get("base_fingerprint")
    if recorded is not None and base_fingerprint(base) != recorded:
        raise CheckpointError(
            f"{config_path}: its base model {base} has other weights than the one it was "
            "trained on (their fingerprint differs): the adapters and head fit only that one"
        )
    return qwen


def _load_adapter(
    qwen: QwenVL, weights: dict[str, torch.Tensor], path: Path, lora: LoraSettings
) -> None:
    """The LoRA weights of ``path`` into the adapters ``attach_lora`` made, every one."""
    from peft import set_peft_model_state_dict

    try:
        found: Any = set_peft_model_state_dict(qwen.model, weights)
    except RuntimeError as exc:
        raise CheckpointError(
            f"{path}: does not fit adapters of rank {lora.rank} on {', '.join(lora.targets)}, "
            f"as reward.json's settings say: {_said(exc)}"
        ) from None
    missing = [key for key in found.missing_keys if "lora_" in key]
    if missing or found.unexpected_keys:
        example = (missing or found.unexpected_keys)[0]
        raise CheckpointError(
            f"{path}: {len(missing)} adapter weight(s) missing and "
            f"{len(found.unexpected_keys)} unknown (e.g. {example})"
        )


def _said(exc: RuntimeError) -> str:
    """The first detail of a ``load_state_dict`` error: the line after its heading."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[1] if len(lines) > 1 else lines[0]


def attach_lora(qwen: QwenVL, lora: LoraSettings) -> None:
    """Low-rank adapters on the language model's attention (the vision tower untouched)."""
    from peft import LoraConfig, inject_adapter_in_model

    targets = rf"^model\.language_model\..*\.({'|'.join(lora.targets)})$"
    config = LoraConfig(
        r=lora.rank, lora_alpha=lora.alpha, lora_dropout=lora.dropout, target_modules=targets
    )
    inject_adapter_in_model(config, qwen.model)

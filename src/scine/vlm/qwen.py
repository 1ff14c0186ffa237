"""Qwen2.5-VL from sampled frames: encode a video once, then continue it with many texts.

The video is made into patches here, by the model's own preprocessing (pixels scaled to
[0, 1] and normalized with CLIP's mean and deviation, frames paired in time, 14x14 patches
in 2x2 merge order), so the model sees exactly the frames ``scine.video.sample`` took,
with no second resize. The prompt is laid out in Qwen's chat format:

    <|im_start|>system\\n{system}<|im_end|>\\n<|im_start|>user\\n<|vision_start|>{video}
    <|vision_end|>{text}<|im_end|>\\n<|im_start|>assistant\\n

Everything up to ``<|vision_end|>`` is the video's *prefix*: it is run once and its
key/value cache is reused for every ``text`` asked about that video (its *continuations*),
with positions continuing Qwen2.5-VL's 3-D rotary scheme. A continuation gives the final
hidden state and the next-token logits at its last token: the zero-shot judge reads the
logits, the trained evaluator the hidden state.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .windows import batch_window_attention

if TYPE_CHECKING:
    import numpy as np
    import torch
    from numpy.typing import NDArray

__all__ = ["Continuations", "ModelLoadError", "Prefixes", "QwenVL", "VideoPatches"]

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
"""The normalization of Qwen2.5-VL's image and video processors."""


class ModelLoadError(ValueError):
    """A model that cannot be loaded as a whole Qwen2.5-VL; the message says why."""


@dataclass(frozen=True)
class VideoPatches:
    """One video as the vision tower takes it: flattened patches and their (t, h, w) grid."""

    pixels: torch.Tensor  # (t * h * w, 3 * temporal_patch * patch * patch), float32
    grid: tuple[int, int, int]
    seconds_per_grid: float  # video time covered by one temporal step of the grid
    tokens: int  # placeholder tokens in the prompt: t * h * w / merge**2


@dataclass
class Prefixes:
    """Encoded video prefixes of one batch: their key/value cache and next positions."""

    layers: list[tuple[torch.Tensor, torch.Tensor]]  # per layer: keys, values (batch first)
    next_position: torch.Tensor  # (batch,) the rotary position of the first text token after
    length: int  # tokens in every prefix of the batch


@dataclass(frozen=True)
class Continuations:
    """The last token of each continuation: final hidden state and next-token logits."""

    hidden: torch.Tensor  # (n, hidden), float32
    logits: torch.Tensor  # (n, vocab), float32


class QwenVL:
    """A Qwen2.5-VL model and its tokenizer (any size: 3B, 7B, 32B, 72B)."""

    def __init__(self, model: Any, tokenizer: Any, name: str) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        config = model.config
        vision = config.vision_config
        self.patch = int(vision.patch_size)
        self.merge = int(vision.spatial_merge_size)
        self.temporal_patch = int(vision.temporal_patch_size)
        self.tokens_per_second = float(vision.tokens_per_second)
        self.video_token = int(config.video_token_id)
        self.vision_end_token = int(config.vision_end_token_id)
        self.pad_token = int(tokenizer.pad_token_id or tokenizer.eos_token_id or 0)
        parameters = inspect.signature(model.model.forward).parameters
        self._cache_argument = "cache" if "cache" in parameters else "past_key_values"

    @classmethod
    def load(
        cls,
        model: str,
        *,
        device: str | None = None,
        dtype: str | None = None,
        batch_windows: bool = True,
        tokenizer: str | None = None,
    ) -> QwenVL:
        """Load by Hugging Face id or local folder. Default: bf16 spread over the visible
        GPUs when there are any, else fp32 on the CPU. ``batch_windows``: the vision tower
        attends to all windows of a layer in one call (``scine.vlm.windows``).
        ``tokenizer``: where the tokenizer is, when not beside the model. A model that is no
        Qwen2.5-VL, or a checkpoint missing weights (they would be random), is a
        ``ModelLoadError``."""
        import torch
        from transformers import AutoConfig, AutoTokenizer, Qwen2_5_VLForConditionalGeneration

        on_gpu = device.startswith("cuda") if device else torch.cuda.is_available()
        chosen = getattr(torch, dtype) if dtype else (torch.bfloat16 if on_gpu else torch.float32)
        placement: dict[str, Any] = {"device_map": device or ("auto" if on_gpu else "cpu")}
        try:
            kind = AutoConfig.from_pretrained(model).model_type
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"cannot load {model}: {_first_line(exc)}") from None
        if kind != "qwen2_5_vl":
            raise ModelLoadError(f"{model} is a {kind!r} model, not Qwen2.5-VL (qwen2_5_vl)")
        try:
            found: Any = Qwen2_5_VLForConditionalGeneration.from_pretrained(
                model, dtype=chosen, output_loading_info=True, **placement
            )
            text = AutoTokenizer.from_pretrained(tokenizer or model)
        except (OSError, RuntimeError, ValueError) as exc:
            raise ModelLoadError(f"cannot load {model}: {_first_line(exc)}") from None
        network, loaded = found  # with output_loading_info: (model, what was not loaded)
        missing = sorted(loaded["missing_keys"])
        if missing:
            raise ModelLoadError(
                f"{model}: {len(missing)} weight(s) missing from the checkpoint (e.g. "
                f"{missing[0]}); they would be random"
            )
        network.eval()
        if batch_windows:
            batch_window_attention(network)
        return cls(network, text, model)

    @property
    def device(self) -> torch.device:
        """Where input ids go: the device of the token embeddings."""
        return self.model.get_input_embeddings().weight.device  # type: ignore[no-any-return]

    def patches(self, frames: NDArray[np.uint8], fps: float) -> VideoPatches:
        """Patches of RGB ``frames`` (T, H, W, 3) sampled at ``fps``; H and W must be
        multiples of 28 (``VideoSampling(multiple=28)``). An odd frame count is completed
        by repeating the last frame, as Qwen's processor does."""
        import numpy as np
        import torch

        count, height, width, channels = frames.shape
        side = self.patch * self.merge
        if channels != 3 or height % side or width % side:
            raise ValueError(
                f"frames of shape {frames.shape}: need RGB with height and width multiples of "
                f"{side} (sample with VideoSampling(multiple={side}))"
            )
        if count % self.temporal_patch:
            extra = self.temporal_patch - count % self.temporal_patch
            frames = np.concatenate([frames, np.repeat(frames[-1:], extra, axis=0)])
        x = torch.from_numpy(np.ascontiguousarray(frames)).float().div_(255.0)
        mean = torch.tensor(CLIP_MEAN).view(1, 1, 1, 3)
        std = torch.tensor(CLIP_STD).view(1, 1, 1, 3)
        x = ((x - mean) / std).permute(0, 3, 1, 2)  # (T, C, H, W)
        t, h, w = x.shape[0] // self.temporal_patch, height // self.patch, width // self.patch
        m, p, tp = self.merge, self.patch, self.temporal_patch
        x = x.reshape(t, tp, 3, h // m, m, p, w // m, m, p).permute(0, 3, 6, 4, 7, 2, 1, 5, 8)
        pixels = x.reshape(t * h * w, 3 * tp * p * p).contiguous()
        return VideoPatches(pixels, (t, h, w), tp / fps, t * h * w // (m * m))

    def prefix_ids(self, video: VideoPatches, system: str) -> list[int]:
        """The token ids of a video's prefix (system turn, user turn up to the video's end)."""
        opening = f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n<|vision_start|>"
        lead = self.tokenizer.encode(opening, add_special_tokens=False)
        return [*lead, *[self.video_token] * video.tokens, self.vision_end_token]

    def continuation_ids(self, text: str, answer_lead: str = "") -> list[int]:
        """The token ids after a prefix: the rest of the user turn and the assistant's start."""
        closing = f"{text}<|im_end|>\n<|im_start|>assistant\n{answer_lead}"
        return list(self.tokenizer.encode(closing, add_special_tokens=False))

    def positions(self, ids: Sequence[int], video: VideoPatches) -> torch.Tensor:
        """Qwen2.5-VL's (3, len) rotary positions of a prefix: text counts up on all three
        axes; the video's tokens take (time, row, column) from where the text stopped, time
        in steps of ``tokens_per_second`` per second; text after it starts one past the
        largest position used."""
        import torch

        start = ids.index(self.video_token)
        t, h, w = video.grid[0], video.grid[1] // self.merge, video.grid[2] // self.merge
        step = video.seconds_per_grid * self.tokens_per_second
        times = (torch.arange(t) * step).long().view(-1, 1, 1).expand(t, h, w).flatten()
        rows = torch.arange(h).view(1, -1, 1).expand(t, h, w).flatten()
        cols = torch.arange(w).view(1, 1, -1).expand(t, h, w).flatten()
        vision = torch.stack([times, rows, cols]) + start
        after = int(vision.max()) + 1
        before = torch.arange(start).view(1, -1).expand(3, -1)
        rest = len(ids) - start - video.tokens
        tail = (torch.arange(rest) + after).view(1, -1).expand(3, -1)
        return torch.cat([before, vision, tail], dim=1)

    def encode(self, videos: Sequence[VideoPatches], system: str) -> Prefixes:
        """Run the prefixes of ``videos`` (all of one length: the same grid) in one batch."""
        import torch

        ids = [self.prefix_ids(video, system) for video in videos]
        if len({len(row) for row in ids}) != 1:
            raise ValueError("videos encoded together must give prefixes of one length")
        positions = torch.stack(
            [self.positions(row, v) for row, v in zip(ids, videos, strict=True)], dim=1
        )
        device = self.device
        with torch.inference_mode():
            out = self.model.model(
                input_ids=torch.tensor(ids, device=device),
                position_ids=positions.to(device),
                pixel_values_videos=torch.cat([v.pixels for v in videos]).to(
                    device, self.model.dtype
                ),
                video_grid_thw=torch.tensor([v.grid for v in videos], device=device),
                use_cache=True,
            )
        return Prefixes(
            layers=_cache_layers(_output_cache(out)),
            next_position=positions[:, :, -1].max(dim=0).values + 1,
            length=len(ids[0]),
        )

    def continue_from(
        self, prefixes: Prefixes, rows: Sequence[int], texts: Sequence[list[int]]
    ) -> Continuations:
        """Run token-id continuations ``texts``, each after prefix ``rows[i]``, in one batch."""
        import torch
        from transformers import DynamicCache

        if len(rows) != len(texts) or not texts:
            raise ValueError("give one prefix row for each continuation, and at least one")
        device = self.device
        index = torch.tensor(list(rows), device=prefixes.layers[0][0].device)
        cache = DynamicCache()
        for layer, (keys, values) in enumerate(prefixes.layers):
            cache.update(keys.index_select(0, index), values.index_select(0, index), layer)
        longest = max(len(ids) for ids in texts)
        padded = [list(ids) + [self.pad_token] * (longest - len(ids)) for ids in texts]
        starts = prefixes.next_position.index_select(0, index.cpu())
        positions = (starts.view(-1, 1) + torch.arange(longest)).unsqueeze(0).expand(3, -1, -1)
        with torch.inference_mode():
            out = self.model.model(
                input_ids=torch.tensor(padded, device=device),
                position_ids=positions.to(device),
                use_cache=True,
                **{self._cache_argument: cache},
            )
            last = torch.tensor([len(ids) - 1 for ids in texts], device=device)
            hidden = out.last_hidden_state[torch.arange(len(texts), device=device), last]
            logits = self.model.lm_head(hidden.to(self.model.lm_head.weight.device))
        return Continuations(hidden=hidden.float(), logits=logits.float())


def _first_line(error: Exception) -> str:
    """The first line of an error's message (transformers' run to many), or its type."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _output_cache(out: Any) -> Any:
    """The key/value cache of a model output (``cache`` from transformers 5.2x, before that
    ``past_key_values``)."""
    found = out.get("cache")
    return out.get("past_key_values") if found is None else found


def _cache_layers(cache: Any) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Keys and values per layer of a transformers (5.x) cache."""
    return [(layer.keys, layer.values) for layer in cache.layers]

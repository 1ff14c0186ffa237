"""Qwen2.5-VL's vision attention in one call per layer.

The vision tower attends within windows (8x8 patches) in most layers and within each
frame pair in the others; transformers runs that, without flash-attention, as one small
attention per window: thousands of kernel launches per video. Here the segments of a layer
(contiguous in the tower's window order, given by ``cu_seqlens``) are gathered into one
padded batch and attended in a single ``scaled_dot_product_attention`` call, padding keys
masked out; the result is the same attention, launched once.
"""

from __future__ import annotations

import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["batch_window_attention"]


def batch_window_attention(model: nn.Module) -> int:
    """Make every vision attention layer of ``model`` attend to all its segments in one
    call; returns how many layers were changed (0 for a model without them)."""
    changed = 0
    for module in model.modules():
        if type(module).__name__ == "Qwen2_5_VLVisionAttention":
            module.forward = types.MethodType(_forward, module)
            changed += 1
    return changed


def _forward(
    self: Any,
    hidden_states: torch.Tensor,
    cu_seqlens: torch.Tensor,
    position_embeddings: tuple[torch.Tensor, torch.Tensor] | None = None,
    **kwargs: Any,
) -> torch.Tensor:
    """The layer's attention over its segments, as one padded batch."""
    import torch
    from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import apply_rotary_pos_emb_vision

    if position_embeddings is None:
        raise ValueError("the vision attention needs its rotary position embeddings")
    length = hidden_states.shape[0]
    query, key, value = (
        self.qkv(hidden_states).reshape(length, 3, self.num_heads, -1).permute(1, 0, 2, 3).unbind(0)
    )
    cos, sin = position_embeddings
    query, key = apply_rotary_pos_emb_vision(query, key, cos, sin)
    index, valid = _segments(cu_seqlens.to(hidden_states.device))
    # (segments, heads, longest, head_dim), padding gathered from position 0 and masked out
    q, k, v = (x[index].transpose(1, 2) for x in (query, key, value))
    out = torch.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=valid[:, None, None, :], scale=self.scaling
    )
    out = out.transpose(1, 2)[valid]  # the segments are contiguous: original order
    return self.proj(out.reshape(length, -1))  # type: ignore[no-any-return]


def _segments(cu_seqlens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Token indices of each segment padded to the longest (padding: 0), and which are real."""
    import torch

    starts = cu_seqlens[:-1].long()
    lengths = cu_seqlens[1:].long() - starts
    keep = lengths > 0
    starts, lengths = starts[keep], lengths[keep]
    steps = torch.arange(int(lengths.max()), device=cu_seqlens.device)
    valid = steps[None, :] < lengths[:, None]
    index = torch.where(
        valid, starts[:, None] + steps[None, :], torch.zeros_like(valid, dtype=torch.long)
    )
    return index, valid

"""The reward model: Qwen2.5-VL and a linear head on the final state of the last token.

Its input is one video and one question about it, laid out as the zero-shot judge lays
them out (``scine.vlm.qwen``: the instruction and the video as the prefix, the prompt and
question after it), so a trained evaluator and a zero-shot judge read the same text. A
batch is padded on the right with the tokenizer's pad token; the head reads each row's
last real token, which is checked to be the end of its own text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from scine.vlm.qwen import QwenVL, VideoPatches

__all__ = ["RewardInput", "RewardModel"]


@dataclass(frozen=True)
class RewardInput:
    """One scored item: a video's patches and the token ids of the text after it."""

    video: VideoPatches
    text: list[int]


class RewardModel(nn.Module):
    """``reward(video, text) = head(h_last)``, ``h_last`` the language model's final hidden
    state at the last token; the head is float32."""

    def __init__(self, qwen: QwenVL, system: str) -> None:
        super().__init__()
        if qwen.tokenizer.pad_token_id is None:
            raise ValueError(f"{qwen.name}: the tokenizer has no pad token")
        self.qwen = qwen
        self.network = qwen.model
        self.system = system
        hidden = qwen.model.config.text_config.hidden_size
        self.head = nn.Linear(hidden, 1, dtype=torch.float32)

    def forward(self, items: Sequence[RewardInput]) -> torch.Tensor:
        """Rewards of ``items`` (n,), each a full run of its video and text."""
        qwen = self.qwen
        rows = [qwen.prefix_ids(item.video, self.system) + item.text for item in items]
        longest = max(len(row) for row in rows)
        pad = int(qwen.tokenizer.pad_token_id)
        positions = torch.zeros(3, len(items), longest, dtype=torch.long)
        for n, (item, row) in enumerate(zip(items, rows, strict=True)):
            prefix = len(row) - len(item.text)
            own = qwen.positions(row[:prefix], item.video)
            after = own.max() + 1 + torch.arange(longest - prefix)
            positions[:, n] = torch.cat([own, after.expand(3, -1)], dim=1)
        device = qwen.device
        ids = torch.tensor([row + [pad] * (longest - len(row)) for row in rows], device=device)
        out = self.network.model(
            input_ids=ids,
            position_ids=positions.to(device),
            pixel_values_videos=torch.cat([item.video.pixels for item in items]).to(
                device, self.network.dtype
            ),
            video_grid_thw=torch.tensor([item.video.grid for item in items], device=device),
            use_cache=False,
        )
        last = torch.tensor([len(row) - 1 for row in rows], device=device)
        ends = ids[torch.arange(len(rows), device=device), last].tolist()
        if ends != [row[-1] for row in rows]:
            raise AssertionError("the head must read each row's last real token")
        hidden = out.last_hidden_state[torch.arange(len(rows), device=device), last]
        return self.head(hidden.float()).squeeze(-1)  # type: ignore[no-any-return]

    def score(
        self, videos: Sequence[VideoPatches], texts: Sequence[Sequence[list[int]]], batch: int = 16
    ) -> list[list[float]]:
        """Rewards of every text of every video, the video encoded once and its prefix
        reused (``QwenVL.encode`` / ``continue_from``); videos of one frame size only."""
        prefixes = self.qwen.encode(videos, self.system)
        asked = [(row, text) for row, found in enumerate(texts) for text in found]
        rewards: list[float] = []
        with torch.inference_mode():
            for start in range(0, len(asked), batch):
                chunk = asked[start : start + batch]
                out = self.qwen.continue_from(
                    prefixes, [row for row, _ in chunk], [text for _, text in chunk]
                )
                head = self.head.to(out.hidden.device)
                rewards += head(out.hidden.float()).squeeze(-1).tolist()
        found_rewards: list[list[float]] = [[] for _ in videos]
        for (row, _), reward in zip(asked, rewards, strict=True):
            found_rewards[row].append(reward)
        return found_rewards

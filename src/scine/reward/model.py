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


def _causal(size: int) -> torch.Tensor:
    """A (size, size) lower-triangular boolean mask: each token sees itself and earlier ones."""
    return torch.ones(size, size, dtype=torch.bool).tril()


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
        """Rewards of ``items`` (n,), in their order. Items sharing one ``VideoPatches``
        object are packed into one row: the video's prefix once, then each text, every text
        seeing the prefix and itself only (a block mask) and taking the positions it would
        have right after the prefix, so each reward equals a run of its own; the video's
        tokens are computed once for all its texts. A row with one text runs with the plain
        causal mask."""
        qwen = self.qwen
        groups: dict[int, list[int]] = {}
        for index, item in enumerate(items):
            groups.setdefault(id(item.video), []).append(index)
        members = list(groups.values())
        videos = [items[found[0]].video for found in members]
        prefixes = [qwen.prefix_ids(video, self.system) for video in videos]
        rows = [
            prefix + [t for i in found for t in items[i].text]
            for prefix, found in zip(prefixes, members, strict=True)
        ]
        longest = max(len(row) for row in rows)
        pad = int(qwen.tokenizer.pad_token_id)
        positions = torch.zeros(3, len(rows), longest, dtype=torch.long)
        mask = torch.zeros(len(rows), 1, longest, longest, dtype=torch.bool)
        last: list[tuple[int, int]] = []  # (row, column) of each item's last token
        for n, (video, prefix, found) in enumerate(zip(videos, prefixes, members, strict=True)):
            own = qwen.positions(prefix, video)
            positions[:, n, : len(prefix)] = own
            mask[n, 0, : len(prefix), : len(prefix)] = _causal(len(prefix))
            start = len(prefix)
            for i in found:
                size = len(items[i].text)
                span = slice(start, start + size)
                positions[:, n, span] = own.max() + 1 + torch.arange(size)
                mask[n, 0, span, : len(prefix)] = True
                mask[n, 0, span, span] = _causal(size)
                last.append((n, start + size - 1))
                start += size
            mask[n, 0, start:, 0] = True  # padding sees one token: no empty softmax row
        order = [i for found in members for i in found]
        device = qwen.device
        ids = torch.tensor([row + [pad] * (longest - len(row)) for row in rows], device=device)
        packed = any(len(found) > 1 for found in members)
        out = self.network.model(
            input_ids=ids,
            position_ids=positions.to(device),
            attention_mask=mask.to(device) if packed else None,
            pixel_values_videos=torch.cat([video.pixels for video in videos]).to(
                device, self.network.dtype
            ),
            video_grid_thw=torch.tensor([video.grid for video in videos], device=device),
            use_cache=False,
        )
        row_index = torch.tensor([n for n, _ in last], device=device)
        column = torch.tensor([c for _, c in last], device=device)
        ends = ids[row_index, column].tolist()
        if ends != [items[i].text[-1] for i in order]:
            raise AssertionError("the head must read each text's last token")
        rewards = self.head(out.last_hidden_state[row_index, column].float()).squeeze(-1)
        back = torch.empty(len(order), dtype=torch.long, device=device)
        back[torch.tensor(order, device=device)] = torch.arange(len(order), device=device)
        return rewards[back]  # type: ignore[no-any-return]

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

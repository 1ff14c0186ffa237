"""The vision tower's windows attended in one call give transformers' own features."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
np = pytest.importorskip("numpy")

from scine.vlm.qwen import QwenVL  # noqa: E402
from scine.vlm.random_model import random_model, small_tokenizer  # noqa: E402
from scine.vlm.windows import batch_window_attention  # noqa: E402


def features(model: QwenVL, frames: np.ndarray) -> torch.Tensor:
    video = model.patches(frames, 2.0)
    with torch.inference_mode():
        out = model.model.model.visual(video.pixels, grid_thw=torch.tensor([video.grid]))
    found = getattr(out, "pooler_output", out)
    return torch.cat(list(found)) if isinstance(found, list | tuple) else found


@pytest.mark.parametrize(("count", "height", "width"), [(4, 308, 588), (3, 56, 84), (2, 140, 252)])
def test_batched_windows_equal_one_attention_per_window(
    count: int, height: int, width: int
) -> None:
    tokenizer = small_tokenizer(["Rate it from 1 to 5."])
    model = QwenVL(random_model(tokenizer), tokenizer, "tiny")
    rng = np.random.default_rng(count)
    frames = rng.integers(0, 256, (count, height, width, 3), dtype=np.uint8)
    reference = features(model, frames)
    assert batch_window_attention(model.model) == 2  # the tiny tower's two layers
    torch.testing.assert_close(features(model, frames), reference, atol=1e-5, rtol=1e-5)


def test_a_model_without_vision_attention_is_left_alone() -> None:
    assert batch_window_attention(torch.nn.Linear(2, 2)) == 0

"""The Qwen2.5-VL core on a tiny random model: patches, positions, prefix reuse."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
np = pytest.importorskip("numpy")

from safetensors.torch import load_file, save_file  # noqa: E402

from scine.vlm.qwen import CLIP_MEAN, CLIP_STD, ModelLoadError, QwenVL  # noqa: E402
from tests.vlm.tiny import tiny_model_folder  # noqa: E402


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model_folder(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def qwen(folder: Path) -> QwenVL:
    return QwenVL.load(str(folder), device="cpu")


def frames(count: int, height: int = 56, width: int = 84, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, height, width, 3), dtype=np.uint8)


def test_loads_in_fp32_on_the_cpu(qwen: QwenVL) -> None:
    assert qwen.model.dtype == torch.float32
    assert qwen.device.type == "cpu"


def test_patches_follow_qwens_layout(qwen: QwenVL) -> None:
    clip = frames(4)
    video = qwen.patches(clip, fps=2.0)
    assert video.grid == (2, 4, 6)
    assert video.tokens == 2 * 4 * 6 // 4
    assert video.seconds_per_grid == 1.0
    normal = (clip.astype(np.float32) / 255 - np.array(CLIP_MEAN)) / np.array(CLIP_STD)

    def block(t: int, row: int, col: int) -> np.ndarray:
        """Channels, then the two frames of a time step, then a 14x14 block of pixels."""
        area = normal[2 * t : 2 * t + 2, row * 14 : row * 14 + 14, col * 14 : col * 14 + 14]
        return area.transpose(3, 0, 1, 2).reshape(-1)

    pixels = video.pixels.numpy()
    # in 2x2 merge order: (0,0), (0,1), (1,0), (1,1), then the next 2x2 group to the right
    for index, (t, row, col) in enumerate([(0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1), (0, 0, 2)]):
        np.testing.assert_allclose(pixels[index], block(t, row, col), atol=1e-5)
    np.testing.assert_allclose(pixels[24], block(1, 0, 0), atol=1e-5)


def test_an_odd_frame_count_repeats_the_last_frame(qwen: QwenVL) -> None:
    clip = frames(3)
    padded = np.concatenate([clip, clip[-1:]])
    assert torch.equal(qwen.patches(clip, 2.0).pixels, qwen.patches(padded, 2.0).pixels)


def test_frames_not_in_multiples_of_28_are_refused(qwen: QwenVL) -> None:
    with pytest.raises(ValueError, match="multiples of 28"):
        qwen.patches(frames(2, height=50), 2.0)


def test_video_positions_are_the_models_own(qwen: QwenVL) -> None:
    video = qwen.patches(frames(4, 112, 112), fps=2.0)
    ids = qwen.prefix_ids(video, "Rate it.")
    types = torch.tensor([[2 if token == qwen.video_token else 0 for token in ids]])
    theirs, _ = qwen.model.model.get_rope_index(
        torch.tensor([ids]),
        types,
        video_grid_thw=torch.tensor([video.grid]),
        second_per_grid_ts=torch.tensor([video.seconds_per_grid]),
    )
    assert torch.equal(qwen.positions(ids, video), theirs[:, 0])


def test_text_after_a_long_video_starts_past_its_last_time_step(qwen: QwenVL) -> None:
    video = qwen.patches(frames(8), fps=2.0)  # 4 time steps of 1 s: times 0, 2, 4, 6
    ids = qwen.prefix_ids(video, "Rate it.")
    positions = qwen.positions(ids, video)
    start = ids.index(qwen.video_token)
    assert positions[0, start + video.tokens - 1] == start + 6
    assert positions[:, -1].tolist() == [start + 7] * 3  # <|vision_end|>


def test_a_reused_prefix_gives_what_a_full_run_gives(qwen: QwenVL) -> None:
    videos = [qwen.patches(frames(4, seed=seed), fps=2.0) for seed in (1, 2)]
    prefixes = qwen.encode(videos, "Rate it.")
    texts = [qwen.continuation_ids(text) for text in ("Is it a pan?", "Does the light flicker?")]
    rows, asked = [0, 1, 1], [texts[0], texts[0], texts[1]]
    reused = qwen.continue_from(prefixes, rows, asked)
    for n, (row, text) in enumerate(zip(rows, asked, strict=True)):
        ids = qwen.prefix_ids(videos[row], "Rate it.") + text
        positions = torch.cat(
            [
                qwen.positions(ids[: prefixes.length], videos[row]),
                (prefixes.next_position[row] + torch.arange(len(text))).expand(3, -1),
            ],
            dim=1,
        )
        with torch.inference_mode():
            full = qwen.model(
                input_ids=torch.tensor([ids]),
                position_ids=positions.unsqueeze(1),
                pixel_values_videos=videos[row].pixels,
                video_grid_thw=torch.tensor([videos[row].grid]),
            )
        torch.testing.assert_close(reused.logits[n], full.logits[0, -1], atol=1e-4, rtol=1e-4)
    assert not torch.allclose(reused.logits[0], reused.logits[1])  # the videos differ


def test_prefixes_of_different_lengths_are_not_batched(qwen: QwenVL) -> None:
    videos = [qwen.patches(frames(2), 2.0), qwen.patches(frames(4), 2.0)]
    with pytest.raises(ValueError, match="one length"):
        qwen.encode(videos, "Rate it.")


def test_a_missing_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"cannot load .*nothing"):
        QwenVL.load(str(tmp_path / "nothing"), device="cpu")


def test_a_model_of_another_kind_is_refused(folder: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(folder, other)
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "model_type": "qwen2_vl"}))
    with pytest.raises(ModelLoadError, match=r"is a 'qwen2_vl' model, not Qwen2\.5-VL"):
        QwenVL.load(str(other), device="cpu")


def test_a_checkpoint_missing_weights_is_refused_not_filled_at_random(
    folder: Path, tmp_path: Path
) -> None:
    partial = tmp_path / "partial"
    shutil.copytree(folder, partial)
    weights = load_file(partial / "model.safetensors")
    kept = dict(sorted(weights.items())[1:])
    save_file(kept, partial / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ModelLoadError, match=r"1 weight\(s\) missing from the checkpoint"):
        QwenVL.load(str(partial), device="cpu")

"""The generation harness: tiny random diffusers pipelines end to end, seeds, resume,
atomic writes, refusals, sharding (explicit and under ``accelerate launch``) and merging."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import torch

from scine.records import Control, Prompt, RecordError, Video, read_jsonl
from scine.video._adapters import MODELS, DiffusersModel, write_mp4
from scine.video.generate import (
    GenerateError,
    Progress,
    generate_videos,
    load_model,
    merge_records,
    prompt_seed,
    video_filename,
)
from tests.ports import free_port

pytestmark = pytest.mark.filterwarnings("ignore:In CPU autocast:UserWarning")
WORDS = [
    "a",
    "the",
    "of",
    "and",
    "in",
    "on",
    "at",
    "with",
    "camera",
    "slow",
    "fast",
    "pan",
    "tilt",
    "left",
    "right",
    "close",
    "up",
    "wide",
    "shot",
    "light",
    "low",
    "high",
    "key",
    "warm",
    "cool",
    "woman",
    "man",
    "walks",
    "runs",
    "street",
    "night",
    "day",
    "rain",
    "dutch",
    "angle",
]


def prompts(n: int) -> list[Prompt]:
    return [
        Prompt(id=f"p{i}", text=f"a woman walks in the rain shot {i}", split="custom")
        for i in range(n)
    ]


def decoded(path: Path) -> tuple[int, int, int, float]:
    """Frames, width, height and average rate of a video, by decoding every frame."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return frames, stream.width, stream.height, float(stream.average_rate or 0)


class FakeModel:
    """A VideoModel that paints flat frames from the seed; can fail on one prompt."""

    def __init__(self, name: str = "fake", fail_on: str | None = None) -> None:
        self.name = name
        self.settings = {"flavour": "flat"}
        self.fail_on = fail_on
        self.calls: list[str] = []

    def generate(self, prompt: Prompt, seed: int, path: Path) -> Video:
        self.calls.append(prompt.id)
        if prompt.id == self.fail_on:
            path.write_bytes(b"half a video")
            raise RuntimeError("out of memory (simulated)")
        rng = np.random.default_rng(seed)
        frames = np.repeat(rng.integers(0, 256, (1, 16, 16, 3), dtype=np.uint8), 4, axis=0)
        write_mp4(frames, path, 8)
        return Video(
            id=f"{self.name}/{prompt.id}",
            prompt_id=prompt.id,
            model=self.name,
            seed=seed,
            path=str(path),
            fps=8,
            frames=4,
            width=16,
            height=16,
            provenance={"painter": "flat"},
        )


# -- tiny random pipelines (shapes after diffusers' own fast tests) ------------------------


def tokenizer(eos: bool = True, max_length: int = 512) -> Any:
    """A word-level fast tokenizer over a small vocabulary: pad 0, eos 1, unk 2."""
    import tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for word in WORDS:
        vocab.setdefault(word, len(vocab))
    inner = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    inner.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    if eos:
        inner.post_processor = tokenizers.processors.TemplateProcessing(
            single="$A </s>", special_tokens=[("</s>", 1)]
        )
    return PreTrainedTokenizerFast(
        tokenizer_object=inner,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        model_max_length=max_length,
    )


def t5_encoder(umt5: bool = False) -> Any:
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    config_class, model_class = (
        (UMT5Config, UMT5EncoderModel) if umt5 else (T5Config, T5EncoderModel)
    )
    config = config_class(
        vocab_size=64,
        d_model=32,
        d_kv=8,
        d_ff=37,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        feed_forward_proj="gated-gelu",
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    return model_class(config)


def tiny_wan() -> tuple[Any, dict[str, Any]]:
    import diffusers

    transformer = diffusers.WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=16,
        out_channels=16,
        text_dim=32,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
    )
    vae = diffusers.AutoencoderKLWan(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )
    scheduler = diffusers.UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0
    )
    pipeline = diffusers.WanPipeline(
        tokenizer=tokenizer(),
        text_encoder=t5_encoder(umt5=True),
        transformer=transformer,
        vae=vae,
        scheduler=scheduler,
    )
    return pipeline, {"height": 16, "width": 16, "num_frames": 9}


def tiny_cogvideox() -> tuple[Any, dict[str, Any]]:
    import diffusers

    transformer = diffusers.CogVideoXTransformer3DModel(
        num_attention_heads=2,
        attention_head_dim=16,
        in_channels=4,
        out_channels=4,
        time_embed_dim=2,
        text_embed_dim=32,
        num_layers=1,
        sample_width=2,
        sample_height=2,
        sample_frames=9,
        patch_size=2,
        temporal_compression_ratio=4,
        max_text_seq_length=226,
        use_rotary_positional_embeddings=True,
        use_learned_positional_embeddings=False,
    )
    vae = diffusers.AutoencoderKLCogVideoX(
        down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
    )
    pipeline = diffusers.CogVideoXPipeline(
        tokenizer=tokenizer(),
        text_encoder=t5_encoder(),
        transformer=transformer,
        vae=vae,
        scheduler=diffusers.CogVideoXDPMScheduler(),
    )
    return pipeline, {"height": 16, "width": 16, "num_frames": 9}


def tiny_ltx() -> tuple[Any, dict[str, Any]]:
    import diffusers

    transformer = diffusers.LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=32,
    )
    vae = diffusers.AutoencoderKLLTXVideo(
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        patch_size=1,
        patch_size_t=1,
    )
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    pipeline = diffusers.LTXPipeline(
        tokenizer=tokenizer(),
        text_encoder=t5_encoder(),
        transformer=transformer,
        vae=vae,
        scheduler=diffusers.FlowMatchEulerDiscreteScheduler(),
    )
    return pipeline, {"height": 32, "width": 32, "num_frames": 9, "frame_rate": 25}


def tiny_hunyuanvideo() -> tuple[Any, dict[str, Any]]:
    import diffusers
    from transformers import CLIPTextConfig, CLIPTextModel, LlamaConfig, LlamaModel

    transformer = diffusers.HunyuanVideoTransformer3DModel(
        in_channels=4,
        out_channels=4,
        num_attention_heads=2,
        attention_head_dim=10,
        num_layers=1,
        num_single_layers=1,
        num_refiner_layers=1,
        patch_size=1,
        patch_size_t=1,
        guidance_embeds=True,
        text_embed_dim=16,
        pooled_projection_dim=8,
        rope_axes_dim=(2, 4, 4),
    )
    vae = diffusers.AutoencoderKLHunyuanVideo(
        latent_channels=4,
        down_block_types=("HunyuanVideoDownBlock3D",) * 4,
        up_block_types=("HunyuanVideoUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        layers_per_block=1,
        norm_num_groups=4,
        spatial_compression_ratio=8,
        temporal_compression_ratio=4,
    )
    llama = LlamaModel(
        LlamaConfig(
            vocab_size=64,
            hidden_size=16,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=3,
            pad_token_id=0,
            bos_token_id=1,
            eos_token_id=1,
        )
    )
    clip = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=64,
            hidden_size=8,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            projection_dim=32,
            pad_token_id=0,
            bos_token_id=1,
            eos_token_id=1,
        )
    )
    pipeline = diffusers.HunyuanVideoPipeline(
        tokenizer=tokenizer(eos=False),
        text_encoder=llama,
        tokenizer_2=tokenizer(max_length=77),
        text_encoder_2=clip,
        transformer=transformer,
        vae=vae,
        scheduler=diffusers.FlowMatchEulerDiscreteScheduler(shift=7.0),
    )
    return pipeline, {"height": 16, "width": 16, "num_frames": 9}


def tiny_mochi() -> tuple[Any, dict[str, Any]]:
    import diffusers

    transformer = diffusers.MochiTransformer3DModel(
        patch_size=2,
        num_attention_heads=2,
        attention_head_dim=8,
        num_layers=2,
        pooled_projection_dim=16,
        in_channels=12,
        qk_norm="rms_norm",
        text_embed_dim=32,
        time_embed_dim=4,
        activation_fn="swiglu",
        max_sequence_length=256,
    )
    vae = diffusers.AutoencoderKLMochi(
        latent_channels=12,
        encoder_block_out_channels=(32, 32, 32, 32),
        decoder_block_out_channels=(32, 32, 32, 32),
        layers_per_block=(1, 1, 1, 1, 1),
    )
    pipeline = diffusers.MochiPipeline(
        tokenizer=tokenizer(),
        text_encoder=t5_encoder(),
        transformer=transformer,
        vae=vae,
        scheduler=diffusers.FlowMatchEulerDiscreteScheduler(),
    )
    return pipeline, {"height": 16, "width": 16, "num_frames": 7}


TINY: dict[str, Callable[[], tuple[Any, dict[str, Any]]]] = {
    "WanPipeline": tiny_wan,
    "CogVideoXPipeline": tiny_cogvideox,
    "LTXPipeline": tiny_ltx,
    "HunyuanVideoPipeline": tiny_hunyuanvideo,
    "MochiPipeline": tiny_mochi,
}


def tiny_model(pipeline_name: str, name: str = "tiny") -> DiffusersModel:
    torch.manual_seed(0)
    pipeline, sizes = TINY[pipeline_name]()
    pipeline.set_progress_bar_config(disable=True)
    return DiffusersModel.from_pipeline(
        pipeline, name=name, fps=8, parameters={**sizes, "num_inference_steps": 2}
    )


# -- the registry ---------------------------------------------------------------------------


def test_registry_names_ids_and_classes() -> None:
    expected = {
        "wan2.1-1.3b": ("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "WanPipeline"),
        "wan2.1-14b": ("Wan-AI/Wan2.1-T2V-14B-Diffusers", "WanPipeline"),
        "cogvideox-5b": ("THUDM/CogVideoX-5b", "CogVideoXPipeline"),
        "ltx-video": ("Lightricks/LTX-Video", "LTXPipeline"),
        "hunyuanvideo": ("hunyuanvideo-community/HunyuanVideo", "HunyuanVideoPipeline"),
        "mochi": ("genmo/mochi-1-preview", "MochiPipeline"),
    }
    assert {name: (s.hf_id, s.pipeline) for name, s in MODELS.items()} == expected
    assert set(TINY) == {spec.pipeline for spec in MODELS.values()}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_registry_defaults_are_the_installed_pipelines_defaults(name: str) -> None:
    import diffusers

    spec = MODELS[name]
    signature = inspect.signature(getattr(diffusers, spec.pipeline).__call__).parameters
    for key, value in spec.parameters().items():
        default = signature[key].default
        if default is not None:  # None: resolved inside the pipeline, see the spec's notes
            assert value == default, (name, key)
    if spec.fps_argument is not None:
        assert spec.fps == signature[spec.fps_argument].default


def test_mochi_height_and_width_come_from_the_pipeline() -> None:
    pipeline, _ = tiny_mochi()
    spec = MODELS["mochi"]
    assert (pipeline.default_height, pipeline.default_width) == (spec.height, spec.width)


def test_model_from_registry_is_lazy_and_records_what_it_will_pass() -> None:
    model = load_model("ltx-video", device="cpu", params={"num_frames": 9}, fps=24)
    assert isinstance(model, DiffusersModel)
    assert model._pipeline is None  # nothing downloaded or loaded before the first video
    assert model.parameters == {
        "height": 512,
        "width": 704,
        "num_frames": 9,
        "num_inference_steps": 50,
        "guidance_scale": 3.0,
        "frame_rate": 24,
    }
    assert model.settings["model_id"] == "Lightricks/LTX-Video"
    assert model.settings["fps"] == 24


def test_registry_model_loads_from_a_weights_folder_with_its_dtypes(tmp_path: Path) -> None:
    torch.manual_seed(0)
    pipeline, sizes = tiny_wan()
    pipeline.save_pretrained(tmp_path / "weights")
    params = {**sizes, "num_inference_steps": 2}
    model = load_model("wan2.1-1.3b", weights=tmp_path / "weights", device="cpu", params=params)
    summary = generate_videos(model, prompts(1), tmp_path / "out", device="cpu")
    assert summary.generated == 1
    assert isinstance(model, DiffusersModel)
    loaded = model.pipeline()
    assert (loaded.transformer.dtype, loaded.text_encoder.dtype) == (torch.bfloat16,) * 2
    assert loaded.vae.dtype == torch.float32  # the registry keeps Wan's VAE in float32
    [video] = read_jsonl(tmp_path / "out" / "videos.jsonl", Video)
    assert video.provenance["commit"] is None  # a plain folder, not a Hub snapshot
    settings = video.provenance["settings"]
    assert settings["model_id"] == str((tmp_path / "weights").resolve())
    assert settings["component_dtypes"] == {"vae": "float32"}
    assert decoded(tmp_path / "out" / video.path)[:3] == (9, 16, 16)


# -- tiny pipelines end to end --------------------------------------------------------------


@pytest.mark.parametrize("pipeline_name", sorted(TINY))
def test_tiny_pipeline_renders_a_playable_recorded_video(
    pipeline_name: str, tmp_path: Path
) -> None:
    model = tiny_model(pipeline_name)
    suite = prompts(1)
    summary = generate_videos(model, suite, tmp_path, run_seed=3, device="cpu")
    assert (summary.generated, summary.skipped) == (1, 0)
    [video] = read_jsonl(tmp_path / "videos.jsonl", Video)
    assert video.id == "tiny/p0"
    assert video.path == "videos/tiny/p0.mp4"
    assert video.seed == prompt_seed("p0", 3)
    assert decoded(tmp_path / video.path) == (video.frames, video.width, video.height, 8.0)
    sizes = model.parameters
    assert (video.width, video.height) == (sizes["width"], sizes["height"])
    provenance = video.provenance
    assert provenance["steps_run"] == 2
    assert provenance["run_seed"] == 3
    assert provenance["settings"]["pipeline"] == pipeline_name
    assert provenance["settings"]["parameters"] == sizes
    assert provenance["scheduler"]["class"]
    assert provenance["device"] == "cpu"


class Recording:
    """A pipeline that notes the random generator's state each call starts from."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        self.starts: list[torch.Tensor] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pipeline, name)

    def __call__(self, **arguments: Any) -> Any:
        self.starts.append(arguments["generator"].get_state().clone())
        return self.pipeline(**arguments)


@pytest.mark.parametrize("pipeline_name", sorted(TINY))
def test_same_seed_same_video_other_seed_other_video(pipeline_name: str, tmp_path: Path) -> None:
    """The harness starts every run of a seed from the same random state, and the encoder
    turns the same frames into the same bytes (x264 with 4 threads did not, now and then,
    on a busy machine)."""
    torch.manual_seed(0)
    pipeline, sizes = TINY[
        pipeline_name
    ]()  # built in train mode: the harness must turn dropout off
    pipeline.set_progress_bar_config(disable=True)
    recording = Recording(pipeline)
    model = DiffusersModel.from_pipeline(
        recording, name="tiny", fps=8, parameters={**sizes, "num_inference_steps": 2}
    )
    suite = prompts(1)
    paths = []
    for run, run_seed in enumerate((5, 5, 6)):
        generate_videos(model, suite, tmp_path / str(run), run_seed=run_seed, device="cpu")
        paths.append(tmp_path / str(run) / "videos" / "tiny" / "p0.mp4")
    first, again, other = recording.starts
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


# -- resume, atomic writes ------------------------------------------------------------------


def test_resume_skips_finished_videos_and_redoes_missing_ones(tmp_path: Path) -> None:
    seen: list[Progress] = []
    first = generate_videos(FakeModel(), prompts(3), tmp_path, progress=seen.append)
    assert (first.generated, first.skipped) == (3, 0)
    assert [(p.done, p.total, p.status) for p in seen] == [
        (1, 3, "generated"),
        (2, 3, "generated"),
        (3, 3, "generated"),
    ]
    before = read_jsonl(tmp_path / "videos.jsonl", Video)
    (tmp_path / "videos" / "fake" / "p1.mp4").unlink()
    model = FakeModel()
    second = generate_videos(model, prompts(3), tmp_path)
    assert (second.generated, second.skipped) == (1, 2)
    assert model.calls == ["p1"]
    after = read_jsonl(tmp_path / "videos.jsonl", Video)
    assert [v.id for v in after] == ["fake/p0", "fake/p1", "fake/p2"]
    assert after[0] == before[0]
    assert after[1].provenance["generated_at"] != before[1].provenance["generated_at"]
    assert second.merged is not None
    assert second.merged.superseded == 1


def test_a_damaged_video_is_made_again(tmp_path: Path) -> None:
    generate_videos(FakeModel(), prompts(3), tmp_path)
    video = tmp_path / "videos" / "fake" / "p2.mp4"
    whole = video.read_bytes()
    video.write_bytes(whole[: len(whole) // 2])  # cut short on disk
    model = FakeModel()
    summary = generate_videos(model, prompts(3), tmp_path)
    assert (summary.generated, summary.skipped) == (1, 2)
    assert model.calls == ["p2"]
    assert video.read_bytes() == whole


def test_temporary_files_of_a_killed_run_are_cleared(tmp_path: Path) -> None:
    folder = tmp_path / "videos" / "fake"
    folder.mkdir(parents=True)
    left = folder / "..p1.partial.mp4.k3x9.tmp"  # an encoder's file, its run killed
    other = folder / "..p11.partial.mp4.k3x9.tmp"  # another prompt's: not ours to clear
    left.write_bytes(b"half")
    other.write_bytes(b"half")
    generate_videos(FakeModel(), prompts(3), tmp_path)
    assert not left.exists()
    assert other.exists()


def test_a_second_process_on_the_same_shard_is_refused(tmp_path: Path) -> None:
    fcntl = pytest.importorskip("fcntl")
    lock = tmp_path / "parts" / "fake.0-of-1.lock"
    lock.parent.mkdir()
    with lock.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as another process generating into the folder
        with pytest.raises(GenerateError, match="another process is generating fake shard 0/1"):
            generate_videos(FakeModel(), prompts(2), tmp_path)
    assert generate_videos(FakeModel(), prompts(2), tmp_path).generated == 2
    assert not (tmp_path / "parts").exists()  # merged: parts, markers and locks gone


def test_a_crash_leaves_no_video_that_looks_finished(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="simulated"):
        generate_videos(FakeModel(fail_on="p1"), prompts(3), tmp_path)
    folder = tmp_path / "videos" / "fake"
    assert sorted(path.name for path in folder.iterdir()) == ["p0.mp4"]
    part = tmp_path / "parts" / "fake.0-of-1.jsonl"
    assert [v.id for v in read_jsonl(part, Video)] == ["fake/p0"]
    model = FakeModel()
    summary = generate_videos(model, prompts(3), tmp_path)
    assert model.calls == ["p1", "p2"]
    assert summary.skipped == 1
    assert not (tmp_path / "parts").exists()


def test_a_record_line_cut_by_a_crash_is_counted_and_its_video_redone(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="simulated"):
        generate_videos(FakeModel(fail_on="p2"), prompts(3), tmp_path)
    part = tmp_path / "parts" / "fake.0-of-1.jsonl"
    part.write_bytes(part.read_bytes()[:-40])  # the record of p1 lost its tail
    model = FakeModel()
    summary = generate_videos(model, prompts(3), tmp_path)
    assert summary.torn_lines == 1
    assert model.calls == ["p1", "p2"]
    assert [v.id for v in read_jsonl(tmp_path / "videos.jsonl", Video)] == [
        "fake/p0",
        "fake/p1",
        "fake/p2",
    ]


def test_records_and_videos_are_deterministic(tmp_path: Path) -> None:
    for run in ("a", "b"):
        generate_videos(FakeModel(), prompts(2), tmp_path / run, run_seed=9)
    for name in ("p0.mp4", "p1.mp4"):
        assert (tmp_path / "a/videos/fake" / name).read_bytes() == (
            tmp_path / "b/videos/fake" / name
        ).read_bytes()
    a, b = (read_jsonl(tmp_path / run / "videos.jsonl", Video) for run in ("a", "b"))
    clocks = ("generated_at", "wall_seconds")
    assert [
        {**v.model_dump(), "provenance": {k: x for k, x in v.provenance.items() if k not in clocks}}
        for v in a
    ] == [
        {**v.model_dump(), "provenance": {k: x for k, x in v.provenance.items() if k not in clocks}}
        for v in b
    ]
    assert (tmp_path / "a/manifest.json").read_bytes() == (
        tmp_path / "b/manifest.json"
    ).read_bytes()


def test_prompt_seeds_are_fixed_per_prompt_and_run() -> None:
    assert prompt_seed("scr-0001", 0) == 340660100
    assert prompt_seed("scr-0001", 1) != prompt_seed("scr-0001", 0)
    assert prompt_seed("scr-0002", 0) != prompt_seed("scr-0001", 0)
    assert 0 <= prompt_seed("x", 123) < 2**32


def test_file_names_encode_unsafe_prompt_ids() -> None:
    assert video_filename("scr-0001") == "scr-0001.mp4"
    assert video_filename("vis/0001 b") == "vis%2F0001%20b.mp4"
    assert video_filename(".hidden") == "%2Ehidden.mp4"
    with pytest.raises(GenerateError, match="too long"):
        video_filename("x" * 300)


# -- refusals -------------------------------------------------------------------------------


def test_another_model_or_run_seed_in_the_folder_is_refused_unless_forced(
    tmp_path: Path,
) -> None:
    generate_videos(FakeModel("alpha"), prompts(2), tmp_path)
    with pytest.raises(GenerateError, match=r"2 video\(s\) of model 'alpha'.*--force"):
        generate_videos(FakeModel("beta"), prompts(2), tmp_path)
    with pytest.raises(GenerateError, match=r"from another run \(run seed 0.*this run: seed 1"):
        generate_videos(FakeModel("alpha"), prompts(2), tmp_path, run_seed=1)
    changed = FakeModel("alpha")
    changed.settings = {"flavour": "striped"}
    with pytest.raises(GenerateError, match="other settings"):
        generate_videos(changed, prompts(2), tmp_path)

    beside = generate_videos(FakeModel("beta"), prompts(2), tmp_path, force=True)
    assert beside.merged is not None
    assert beside.merged.models == {"alpha": 2, "beta": 2}
    replaced = generate_videos(FakeModel("alpha"), prompts(2), tmp_path, run_seed=1, force=True)
    assert (replaced.replaced, replaced.generated) == (2, 2)
    assert replaced.merged is not None
    assert replaced.merged.superseded == 2
    records = read_jsonl(tmp_path / "videos.jsonl", Video)
    assert [(v.id, v.provenance["run_seed"]) for v in records] == [
        ("alpha/p0", 1),
        ("alpha/p1", 1),
        ("beta/p0", 0),
        ("beta/p1", 0),
    ]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["models"]["alpha"]["run_seeds"] == [1]
    assert manifest["models"]["beta"]["settings"] == [{"flavour": "flat"}]


def test_bad_requests_fail_before_any_model_is_loaded(tmp_path: Path) -> None:
    with pytest.raises(GenerateError, match=r"unknown model 'wan3'; known models: wan2.1-1.3b"):
        load_model("wan3")
    with pytest.raises(GenerateError, match=r"weights folder .*nowhere does not exist"):
        load_model("wan2.1-1.3b", weights=tmp_path / "nowhere", device="cpu")
    with pytest.raises(GenerateError, match=r"no model_index.json"):
        load_model("wan2.1-1.3b", weights=tmp_path, device="cpu")
    with pytest.raises(GenerateError, match="dtype 'fp8'"):
        load_model("mochi", dtype="fp8", device="cpu")
    with pytest.raises(GenerateError, match="WanPipeline takes no parameter 'num_frame'"):
        load_model("wan2.1-1.3b", params={"num_frame": 33}, device="cpu")
    with pytest.raises(GenerateError, match="'generator' is set by scine"):
        load_model("wan2.1-1.3b", params={"generator": 1}, device="cpu")
    with pytest.raises(GenerateError, match="device 'gpu'"):
        load_model("wan2.1-1.3b", device="gpu")
    with pytest.raises(GenerateError, match="only apply to diffusers models"):
        load_model("synth-good", weights=tmp_path)
    with pytest.raises(GenerateError, match="shard 2/2"):
        generate_videos(FakeModel(), prompts(1), tmp_path, shard=(2, 2))
    with pytest.raises(GenerateError, match="params apply to registry names"):
        generate_videos(FakeModel(), prompts(1), tmp_path, params={"num_frames": 9})
    with pytest.raises(GenerateError, match="model name 'a/b'"):
        generate_videos(FakeModel("a/b"), prompts(1), tmp_path)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_asked_without_cuda_says_so() -> None:
    with pytest.raises(GenerateError, match="CUDA is not available here"):
        load_model("wan2.1-1.3b", device="cuda")


def test_prompt_file_errors_name_the_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match=r"missing.jsonl: cannot read"):
        generate_videos(FakeModel(), tmp_path / "missing.jsonl", tmp_path / "out")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(GenerateError, match=r"empty.jsonl: no prompts"):
        generate_videos(FakeModel(), empty, tmp_path / "out")
    broken = tmp_path / "broken.jsonl"
    broken.write_text(prompts(1)[0].model_dump_json() + '\n{"id": "p1"}\n')
    with pytest.raises(RecordError, match=r"broken.jsonl:2: Prompt field 'text'"):
        generate_videos(FakeModel(), broken, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# -- several processes ----------------------------------------------------------------------


def test_explicit_shards_cover_every_prompt_once_then_merge(tmp_path: Path) -> None:
    suite = prompts(7)
    calls = []
    with pytest.raises(RuntimeError, match="simulated"):
        generate_videos(FakeModel(fail_on="p4"), suite, tmp_path, shard=(1, 3))
    with pytest.raises(GenerateError) as refused:
        merge_records(tmp_path)
    assert "fake 0/3: not run; fake 1/3: 1 video(s) so far, running or stopped" in str(
        refused.value
    )
    assert (tmp_path / "parts" / "fake.1-of-3.jsonl").is_file()  # nothing merged, nothing lost
    for index in range(3):
        model = FakeModel()
        summary = generate_videos(model, suite, tmp_path, shard=(index, 3))
        assert summary.merged is None
        assert summary.part.name == f"fake.{index}-of-3.jsonl"
        calls.append(model.calls)
    assert calls == [["p0", "p3", "p6"], ["p4"], ["p2", "p5"]]
    merged = merge_records(tmp_path)
    assert (merged.videos, merged.parts, merged.superseded) == (7, 3, 0)
    assert [v.id for v in read_jsonl(tmp_path / "videos.jsonl", Video)] == [
        f"fake/p{i}" for i in range(7)
    ]
    assert not (tmp_path / "parts").exists()


ACCELERATE_SCRIPT = """
import json, sys
from pathlib import Path
import numpy as np
from scine.records import Prompt, Video
from scine.video._adapters import write_mp4
from scine.video.generate import generate_videos

class Flat:
    name = "flat"
    def generate(self, prompt, seed, path):
        write_mp4(np.full((2, 16, 16, 3), seed % 256, dtype=np.uint8), path, 8)
        return Video(id="flat/" + prompt.id, prompt_id=prompt.id, model="flat", seed=seed,
                     path=str(path), fps=8, frames=2, width=16, height=16)

suite = [Prompt(id=f"p{i}", text="a shot", split="custom") for i in range(5)]
summary = generate_videos(Flat(), suite, Path(sys.argv[1]), device="cpu")
merged = summary.merged.videos if summary.merged else None
print("RESULT", json.dumps([summary.shard, summary.assigned, merged]), flush=True)
"""


def test_accelerate_launch_splits_prompts_and_the_main_process_merges(tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(ACCELERATE_SCRIPT))
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("accelerate")),
        "launch",
        "--multi_gpu",
        "--num_processes=2",
        "--num_machines=1",
        "--mixed_precision=no",
        "--dynamo_backend=no",
        f"--main_process_port={port}",
        str(script),
        str(tmp_path / "out"),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = sorted(
        json.loads(line.removeprefix("RESULT "))
        for line in done.stdout.splitlines()
        if "RESULT" in line
    )
    assert results == [[[0, 2], 3, 5], [[1, 2], 2, None]]
    assert len(read_jsonl(tmp_path / "out" / "videos.jsonl", Video)) == 5


# -- the synthetic renderer through the protocol --------------------------------------------


def test_synth_names_go_to_the_synthetic_renderer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[tuple[str, float, int]] = []

    class SyntheticModel:
        def __init__(self, name: str, fidelity: float, seed: int) -> None:
            made.append((name, fidelity, seed))
            self.inner = FakeModel(name)

        def render_prompt(self, prompt: Prompt, path: Path) -> Video:
            return self.inner.generate(prompt, made[-1][2], path)

    fake = types.ModuleType("scine.video.synth")
    fake.SyntheticModel = SyntheticModel
    fake.SYNTHETIC_MODELS = {"synth-good": 0.95, "synth-poor": 0.35}
    monkeypatch.setitem(sys.modules, "scine.video.synth", fake)
    with pytest.raises(
        GenerateError, match="unknown synthetic model 'synth-fine'; known: synth-good"
    ):
        load_model("synth-fine")
    summary = generate_videos("synth-good", prompts(2), tmp_path, run_seed=4)
    assert summary.generated == 2
    assert made == [("synth-good", 0.95, prompt_seed(f"p{i}", 4)) for i in range(2)]
    [first, _] = read_jsonl(tmp_path / "videos.jsonl", Video)
    assert first.provenance["settings"] == {"renderer": "scine.video.synth", "fidelity": 0.95}
    assert first.path == "videos/synth-good/p0.mp4"


def test_the_synthetic_renderer_runs_through_the_harness(tmp_path: Path) -> None:
    pan = Control(node="camera.trajectory.movement", value="pan_left")
    suite = [Prompt(id="pan", text="The camera pans left.", split="custom", controls=(pan,))]
    first = generate_videos("synth-good", suite, tmp_path, run_seed=2)
    [video] = read_jsonl(tmp_path / "videos.jsonl", Video)
    assert (first.generated, video.id, video.seed) == (1, "synth-good/pan", prompt_seed("pan", 2))
    assert decoded(tmp_path / video.path)[:3] == (video.frames, video.width, video.height)
    assert video.provenance["settings"] == {"renderer": "scine.video.synth", "fidelity": 0.95}
    again = generate_videos("synth-good", suite, tmp_path, run_seed=2)
    assert (again.generated, again.skipped) == (0, 1)

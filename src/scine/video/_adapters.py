"""Text-to-video models through diffusers: the registry, lazy loading, and the adapter.

The registry is data: one ``ModelSpec`` per name, with the Hugging Face id, the diffusers
pipeline class and the sampling parameters. Those parameters are the defaults of the
pipeline's ``__call__`` in diffusers (``tests/video/test_generate.py`` checks them against
the installed diffusers); where the signature says ``None`` the value the pipeline then
uses is written out and the note says where it comes from. They are passed to the pipeline
explicitly, so what is recorded is what ran. Nothing is imported or loaded until a video is
asked for.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import JsonValue

from scine.records import Prompt, Video

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "DTYPES",
    "ENCODER",
    "MODELS",
    "DiffusersModel",
    "ModelSpec",
    "check_parameters",
    "write_mp4",
]

DTYPES = ("float32", "float16", "bfloat16")
# libx264 at a visually lossless quality. The same frames give the same bytes only with one
# encoder thread (with 4, a busy machine now and then changed x264's frame decisions) and
# the macroblock tree off (it too varied now and then); see the synthetic renderer's CODECS.
ENCODER: dict[str, JsonValue] = {
    "codec": "libx264",
    "crf": 17,
    "preset": "medium",
    "pix_fmt": "yuv420p",
    "threads": 1,
    "x264-params": "mbtree=0",
}
# Arguments the adapter itself passes; a parameter override may not set them.
_RESERVED = frozenset(
    {"prompt", "generator", "output_type", "return_dict", "callback_on_step_end", "latents"}
)


@dataclass(frozen=True)
class ModelSpec:
    """One registered model: where its weights are and how it samples by default."""

    name: str
    hf_id: str
    pipeline: str
    fps: float
    height: int
    width: int
    frames: int
    steps: int
    guidance: float
    dtype: str
    notes: str
    component_dtypes: Mapping[str, str] = field(default_factory=dict)
    variant: str | None = None
    fps_argument: str | None = None
    vae_tiling: bool = False

    def parameters(self) -> dict[str, JsonValue]:
        """The keyword arguments given to the pipeline (besides prompt and generator)."""
        parameters: dict[str, JsonValue] = {
            "height": self.height,
            "width": self.width,
            "num_frames": self.frames,
            "num_inference_steps": self.steps,
            "guidance_scale": self.guidance,
        }
        if self.fps_argument is not None:
            parameters[self.fps_argument] = _plain_number(self.fps)
        return parameters


_WAN_NOTES = (
    "Pipeline defaults. 16 fps as in the Wan examples. VAE in float32 as diffusers recommends; "
    "the scheduler is the repository's (UniPC, flow shift 3.0, meant for 480p). The Wan "
    "examples pass a long negative prompt; the pipeline default is none and so is ours "
    "(add one with params negative_prompt=...)."
)

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="wan2.1-1.3b",
            hf_id="Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
            pipeline="WanPipeline",
            fps=16,
            height=480,
            width=832,
            frames=81,
            steps=50,
            guidance=5.0,
            dtype="bfloat16",
            component_dtypes={"vae": "float32"},
            notes=_WAN_NOTES,
        ),
        ModelSpec(
            name="wan2.1-14b",
            hf_id="Wan-AI/Wan2.1-T2V-14B-Diffusers",
            pipeline="WanPipeline",
            fps=16,
            height=480,
            width=832,
            frames=81,
            steps=50,
            guidance=5.0,
            dtype="bfloat16",
            component_dtypes={"vae": "float32"},
            notes=_WAN_NOTES + " The 14B examples render 720x1280 with flow shift 5.0; the "
            "pipeline default 480x832 is kept.",
        ),
        ModelSpec(
            name="cogvideox-5b",
            hf_id="THUDM/CogVideoX-5b",
            pipeline="CogVideoXPipeline",
            fps=8,
            height=480,
            width=720,
            frames=49,
            steps=50,
            guidance=6.0,
            dtype="bfloat16",
            notes="height, width and num_frames are None in the pipeline signature and come "
            "from the transformer config (60x90 latents x 8 = 480x720, 49 frames); 8 fps "
            "(6 s + 1 frame) as the CogVideoX example writes.",
        ),
        ModelSpec(
            name="ltx-video",
            hf_id="Lightricks/LTX-Video",
            pipeline="LTXPipeline",
            fps=25,
            height=512,
            width=704,
            frames=161,
            steps=50,
            guidance=3.0,
            dtype="bfloat16",
            fps_argument="frame_rate",
            notes="Pipeline defaults. The frame rate is a pipeline argument (frame_rate=25, "
            "the model is conditioned on it) and the video is written at that rate; the "
            "diffusers example renders 480x704 and writes 24 fps.",
        ),
        ModelSpec(
            name="hunyuanvideo",
            hf_id="hunyuanvideo-community/HunyuanVideo",
            pipeline="HunyuanVideoPipeline",
            fps=24,
            height=720,
            width=1280,
            frames=129,
            steps=50,
            guidance=6.0,
            dtype="float16",
            component_dtypes={"transformer": "bfloat16"},
            vae_tiling=True,
            notes="Pipeline defaults; guidance_scale is the distilled (embedded) guidance and "
            "true CFG stays off (true_cfg_scale=1.0). Transformer bfloat16, text encoders and "
            "VAE float16 as diffusers recommends; VAE tiling on. 24 fps as Tencent's "
            "sample_video.py writes (the diffusers example writes 15).",
        ),
        ModelSpec(
            name="mochi",
            hf_id="genmo/mochi-1-preview",
            pipeline="MochiPipeline",
            fps=30,
            height=480,
            width=848,
            frames=19,
            steps=64,
            guidance=4.5,
            dtype="bfloat16",
            variant="bf16",
            vae_tiling=True,
            notes="Pipeline defaults: height and width are None in the signature and come "
            "from the pipeline (480x848); num_frames=19 is only 0.6 s at Mochi's 30 fps. "
            "Genmo's examples use 85 frames: pass params num_frames=85 for that. bf16 weight "
            "variant; VAE tiling on.",
        ),
    )
}


class DiffusersModel:
    """A diffusers text-to-video pipeline as a ``VideoModel``.

    Build it from the registry with ``from_spec`` (loaded on the first ``generate``) or
    around a pipeline you already have with ``from_pipeline``. Frames are rendered with a
    CPU ``torch.Generator`` seeded per video, so the starting noise does not depend on the
    GPU, and written as H.264 with ``ENCODER``.
    """

    def __init__(
        self,
        name: str,
        load: Callable[[], tuple[Any, dict[str, JsonValue]]],
        *,
        parameters: Mapping[str, JsonValue],
        fps: float,
        settings: Mapping[str, JsonValue],
    ) -> None:
        self.name = name
        self.parameters: dict[str, JsonValue] = dict(parameters)
        self.fps = float(fps)
        self.settings: dict[str, JsonValue] = {
            **settings,
            "parameters": self.parameters,
            "fps": _plain_number(self.fps),
            "encoder": ENCODER,
        }
        self._load = load
        self._pipeline: Any = None
        self._loaded: dict[str, JsonValue] = {}

    @classmethod
    def from_pipeline(
        cls,
        pipeline: Any,
        *,
        name: str,
        fps: float,
        parameters: Mapping[str, JsonValue] | None = None,
        model_id: str | None = None,
    ) -> DiffusersModel:
        """Wrap a pipeline object; ``parameters`` are passed to every call."""
        check_parameters(type(pipeline), parameters or {}, source=name)
        settings: dict[str, JsonValue] = {
            "model_id": model_id,
            "pipeline": type(pipeline).__name__,
            "dtype": str(getattr(pipeline, "dtype", "")).removeprefix("torch.") or None,
        }
        return cls(
            name,
            lambda: (pipeline, {}),
            parameters=parameters or {},
            fps=fps,
            settings=settings,
        )

    @classmethod
    def from_spec(
        cls,
        spec: ModelSpec,
        *,
        device: str,
        weights: Path | None = None,
        revision: str | None = None,
        dtype: str | None = None,
        parameters: Mapping[str, JsonValue] | None = None,
        fps: float | None = None,
    ) -> DiffusersModel:
        """A registered model; nothing is downloaded or loaded until the first video."""
        pipeline_class = _pipeline_class(spec.pipeline)
        check_parameters(pipeline_class, parameters or {}, source=spec.name)
        dtypes = {"default": dtype or spec.dtype, **spec.component_dtypes}
        merged = {**spec.parameters(), **(parameters or {})}
        fps = spec.fps if fps is None else fps
        if spec.fps_argument is not None and spec.fps_argument not in (parameters or {}):
            merged[spec.fps_argument] = _plain_number(fps)
        settings: dict[str, JsonValue] = {
            "model_id": str(weights.resolve()) if weights is not None else spec.hf_id,
            "revision": revision,
            "pipeline": spec.pipeline,
            "dtype": dtypes["default"],
            "component_dtypes": dict(spec.component_dtypes),
            "variant": spec.variant,
            "vae_tiling": spec.vae_tiling,
        }

        def load() -> tuple[Any, dict[str, JsonValue]]:
            return _load_pipeline(spec, pipeline_class, weights, revision, dtypes, device)

        return cls(spec.name, load, parameters=merged, fps=fps, settings=settings)

    def pipeline(self) -> Any:
        """The pipeline, loaded on first use, its networks in eval mode (no dropout)."""
        if self._pipeline is None:
            import torch

            pipeline, self._loaded = self._load()
            for component in getattr(pipeline, "components", {}).values():
                if isinstance(component, torch.nn.Module):
                    component.eval()
            self._pipeline = pipeline
        return self._pipeline

    def generate(self, prompt: Prompt, seed: int, path: Path) -> Video:
        """Render one video for ``prompt`` into ``path`` (an .mp4) and describe it."""
        import numpy as np
        import torch

        pipeline = self.pipeline()
        steps: list[float] = []

        def on_step(_pipe: Any, _step: int, _timestep: Any, tensors: dict[str, Any]) -> Any:
            steps.append(time.perf_counter())
            return tensors

        generator = torch.Generator(device="cpu").manual_seed(seed)
        start = time.perf_counter()
        output = pipeline(
            prompt=prompt.text,
            generator=generator,
            output_type="np",
            callback_on_step_end=on_step,
            **self.parameters,
        )
        seconds = time.perf_counter() - start
        video = np.asarray(output.frames[0], dtype=np.float32)
        if video.ndim != 4 or video.shape[-1] != 3:
            raise RuntimeError(
                f"{self.name}: expected frames shaped (frames, height, width, 3), "
                f"got {video.shape} for prompt {prompt.id!r}"
            )
        if not np.isfinite(video).all():
            raise RuntimeError(
                f"{self.name}: the pipeline returned NaN or infinite pixels for prompt "
                f"{prompt.id!r} (try another dtype, e.g. float32 or bfloat16)"
            )
        frames = np.clip(np.rint(video * 255.0), 0, 255).astype(np.uint8)
        write_mp4(frames, path, self.fps)
        count, height, width = frames.shape[:3]
        return Video(
            id=f"{self.name}/{prompt.id}",
            prompt_id=prompt.id,
            model=self.name,
            seed=seed,
            path=str(path),
            fps=self.fps,
            frames=count,
            width=width,
            height=height,
            provenance={
                **self._loaded,
                "scheduler": _scheduler(pipeline),
                "generator": "torch.Generator('cpu').manual_seed(seed)",
                "device": _device(pipeline),
                "seconds": round(seconds, 3),
                "denoise_seconds": round(steps[-1] - start, 3) if steps else None,
                "steps_run": len(steps),
                "versions": _versions(),
            },
        )


def check_parameters(
    pipeline_class: type[Any], parameters: Mapping[str, JsonValue], *, source: str
) -> None:
    """Refuse parameter overrides the pipeline's ``__call__`` does not take."""
    accepted = inspect.signature(pipeline_class.__call__).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
    for key in parameters:
        if key in _RESERVED:
            raise ValueError(f"{source}: parameter {key!r} is set by scine and cannot be given")
        if key not in accepted and not takes_any:
            known = ", ".join(sorted(set(accepted) - _RESERVED - {"self"}))
            raise ValueError(
                f"{source}: {pipeline_class.__name__} takes no parameter {key!r}; it takes: {known}"
            )


def write_mp4(frames: NDArray[np.uint8], path: Path, fps: float) -> None:
    """Encode RGB frames (frames, height, width, 3) as H.264 in an MP4 at ``fps``."""
    import av

    count, height, width = frames.shape[:3]
    if count == 0:
        raise ValueError(f"{path}: no frames to write")
    if height % 2 or width % 2:
        raise ValueError(f"{path}: H.264 (yuv420p) needs an even size, got {width}x{height}")
    options = {key: str(ENCODER[key]) for key in ("crf", "preset", "threads", "x264-params")}
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream(
            "libx264", rate=Fraction(fps).limit_denominator(1001), options=options
        )
        stream.width = width
        stream.height = height
        stream.pix_fmt = str(ENCODER["pix_fmt"])
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode(None))


def _pipeline_class(name: str) -> type[Any]:
    import diffusers

    pipeline_class: type[Any] | None = getattr(diffusers, name, None)
    if pipeline_class is None:
        raise ValueError(
            f"diffusers {diffusers.__version__} has no {name}; upgrade diffusers "
            f"(pip install -U 'diffusers>=0.32')"
        )
    return pipeline_class


def _load_pipeline(
    spec: ModelSpec,
    pipeline_class: type[Any],
    weights: Path | None,
    revision: str | None,
    dtypes: Mapping[str, str],
    device: str,
) -> tuple[Any, dict[str, JsonValue]]:
    import torch

    start = time.perf_counter()
    variant = spec.variant
    if weights is None:
        folder = Path(pipeline_class.download(spec.hf_id, revision=revision, variant=variant))
    else:
        folder = weights
        if variant is not None and not any(folder.rglob(f"*.{variant}.safetensors")):
            variant = None  # a local copy without the variant files: load the full weights
    torch_dtypes = {key: getattr(torch, value) for key, value in dtypes.items()}
    dtype: Any = torch_dtypes if len(torch_dtypes) > 1 else torch_dtypes["default"]
    keyword = "dtype" if _takes_dtype_keyword() else "torch_dtype"
    options: dict[str, Any] = {keyword: dtype}
    if variant is not None:
        options["variant"] = variant
    pipeline = pipeline_class.from_pretrained(str(folder), **options)
    if spec.vae_tiling:
        pipeline.vae.enable_tiling()
    pipeline.to(device)
    return pipeline, {
        "commit": _commit(folder),
        "loaded_variant": variant,
        "load_seconds": round(time.perf_counter() - start, 1),
    }


def _takes_dtype_keyword() -> bool:
    """diffusers renamed ``torch_dtype`` to ``dtype`` (PR 14205); older releases need the old."""
    from diffusers.utils import deprecation_utils

    return hasattr(deprecation_utils, "_resolve_dtype")


def _commit(folder: Path) -> str | None:
    """The Hub commit of a cached snapshot folder (``.../snapshots/<commit>``), else None."""
    resolved = folder.resolve()
    name = resolved.name
    if resolved.parent.name == "snapshots" and len(name) == 40:
        return name
    return None


def _scheduler(pipeline: Any) -> dict[str, JsonValue]:
    scheduler = getattr(pipeline, "scheduler", None)
    if scheduler is None:
        return {}
    config = {key: value for key, value in dict(scheduler.config).items() if key[0] != "_"}
    return {"class": type(scheduler).__name__, "config": _jsonable(config)}


def _device(pipeline: Any) -> str:
    import torch

    device = getattr(pipeline, "device", None)
    if device is None:
        return "unknown"
    text = str(device)
    if getattr(device, "type", None) == "cuda":
        text += f" ({torch.cuda.get_device_name(device)})"
    return text


def _versions() -> dict[str, JsonValue]:
    import diffusers
    import torch
    import transformers

    try:  # Wan cleans prompts with ftfy when it is installed
        ftfy: str | None = metadata.version("ftfy")
    except metadata.PackageNotFoundError:
        ftfy = None
    return {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "diffusers": diffusers.__version__,
        "transformers": transformers.__version__,
        "ftfy": ftfy,
    }


def _jsonable(value: Any) -> JsonValue:
    """A JSON-safe copy: tuples become lists, anything else unknown becomes its text."""
    return json.loads(json.dumps(value, default=str))  # type: ignore[no-any-return]


def _plain_number(value: float) -> JsonValue:
    return int(value) if float(value).is_integer() else float(value)

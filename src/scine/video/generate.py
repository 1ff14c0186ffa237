"""Generate a prompt suite's videos with a text-to-video model: seeded, resumable, sharded.

An output folder ``DIR`` holds:

- ``DIR/videos/<model>/<prompt id>.mp4``: one video per prompt. It is written to a hidden
  ``.<name>.partial.mp4`` beside it and renamed when complete, so a file under its final
  name is always finished. Characters of the prompt id other than letters, digits and
  ``-_.~`` are percent-encoded in the file name (``/`` becomes ``%2F``).
- ``DIR/parts/<model>.<i>-of-<n>.jsonl``: the ``Video`` records that process ``i`` of ``n``
  appends (and flushes) after each video, while it runs; ``.done`` beside it once it has
  gone through all its prompts. ``merge_records`` refuses while a shard has not.
- ``DIR/videos.jsonl``: every record, merged and sorted by id, once the run ends (or by
  ``merge_records``); ``path`` is relative to ``DIR``.
- ``DIR/manifest.json``: models, run seeds, settings and counts, derived from the records.

Each video's seed comes from its prompt id and the run seed (``prompt_seed``), so it does
not depend on the order, the sharding or what was generated before. A rerun skips every
prompt whose video file and record (same model, run seed and settings) exist. A folder
holding records of another model, or of this model with another run seed or settings, is
refused unless forced; forced, the other models' records stay, this model's are redone for
the prompts given (records of prompts not given stay as they were: the manifest then lists
both run seeds).

Several GPUs: ``accelerate launch --multi_gpu --num_processes N -m scine.cli videos
generate ...`` (or any launcher that sets ``WORLD_SIZE``/``RANK``, e.g. ``torchrun``):
process ``i`` takes every ``N``-th prompt from the ``i``-th on and renders on
``cuda:<local rank>``; the main process waits for all (up to 7 days) and merges.
Independent jobs (e.g. a SLURM array) pass ``shard=(i, n)`` instead and run
``merge_records`` once all have finished.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable
from urllib.parse import quote

from pydantic import JsonValue, ValidationError

from scine import __version__
from scine.records import (
    Prompt,
    RecordError,
    Video,
    file_sha256,
    read_jsonl,
    read_records,
    write_jsonl,
)
from scine.video._adapters import DTYPES, MODELS, DiffusersModel

if TYPE_CHECKING:
    from accelerate import PartialState

__all__ = [
    "GenerateError",
    "GenerateSummary",
    "MergeSummary",
    "Progress",
    "VideoModel",
    "generate_videos",
    "known_models",
    "load_model",
    "merge_records",
    "prompt_seed",
    "video_filename",
]

SYNTH_PREFIX = "synth-"
RECORDS = "videos.jsonl"
MANIFEST = "manifest.json"
PARTS = "parts"
_SHARD = re.compile(r"(?P<model>.+)\.\d+-of-(?P<count>\d+)\.(?:jsonl|done|lock)")
VIDEOS = "videos"
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_DEVICE = re.compile(r"cpu|cuda(:\d+)?")
_MAX_FILENAME = 200
_WAIT = timedelta(days=7)


class GenerateError(ValueError):
    """A generation request that cannot run; the message says what was expected."""


@runtime_checkable
class VideoModel(Protocol):
    """Anything that renders one prompt into a video file.

    ``generate`` writes an .mp4 at ``path`` and returns its ``Video`` record (id
    ``f"{name}/{prompt.id}"``). A model may also have a ``settings`` mapping (JSON values)
    naming everything that changes its pixels; it is recorded, and a rerun with different
    settings does not reuse the earlier videos.
    """

    @property
    def name(self) -> str: ...

    def generate(self, prompt: Prompt, seed: int, path: Path) -> Video: ...


@dataclass(frozen=True)
class Progress:
    """One prompt handled by this process: ``done`` of ``total`` so far."""

    done: int
    total: int
    prompt_id: str
    status: Literal["generated", "skipped"]
    seconds: float


@dataclass(frozen=True)
class MergeSummary:
    """What ``merge_records`` wrote: records kept, superseded and part files folded in."""

    records: Path
    videos: int
    superseded: int
    parts: int
    torn_lines: int
    models: dict[str, int]


@dataclass(frozen=True)
class GenerateSummary:
    """What one process did. ``merged`` is None where this process did not merge."""

    model: str
    out: Path
    shard: tuple[int, int]
    prompts: int
    assigned: int
    generated: int
    skipped: int
    replaced: int
    torn_lines: int
    part: Path
    merged: MergeSummary | None


# -- seeds and names ------------------------------------------------------------------------


def prompt_seed(prompt_id: str, run_seed: int) -> int:
    """The seed of one video: the first 4 bytes of sha256("scine-video:<run>:<id>")."""
    digest = hashlib.sha256(f"scine-video:{run_seed}:{prompt_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def video_filename(prompt_id: str) -> str:
    """The file name of a prompt's video: the id percent-encoded, plus ``.mp4``."""
    name = quote(prompt_id, safe="")
    if name.startswith("."):
        name = "%2E" + name[1:]
    if len(name) > _MAX_FILENAME:
        raise GenerateError(
            f"prompt id {prompt_id[:40]!r}... is too long for a file name "
            f"({len(name)} characters encoded; at most {_MAX_FILENAME})"
        )
    return name + ".mp4"


def known_models() -> list[str]:
    """Registered diffusers models, then the synthetic renderers."""
    from scine.video.synth import SYNTHETIC_MODELS

    return [*MODELS, *sorted(SYNTHETIC_MODELS)]


# -- models ---------------------------------------------------------------------------------


def load_model(
    name: str,
    *,
    weights: str | Path | None = None,
    revision: str | None = None,
    device: str = "cuda",
    dtype: str | None = None,
    params: Mapping[str, JsonValue] | None = None,
    fps: float | None = None,
) -> VideoModel:
    """A model by registry name; checks everything it can without loading any weights.

    Names starting with ``synth-`` are the synthetic renderers of ``scine.video.synth``;
    the others are diffusers pipelines (see ``scine.video._adapters.MODELS``), loaded from
    the Hub (``revision`` pins a commit) or from a local ``weights`` folder on the first
    video. ``params`` override pipeline arguments, ``fps`` the frame rate written.
    """
    if name.startswith(SYNTH_PREFIX):
        extras = {"weights": weights, "revision": revision, "dtype": dtype, "params": params}
        given = [key for key, value in extras.items() if value] + (["fps"] if fps else [])
        if given:
            raise GenerateError(f"{name}: {', '.join(given)} only apply to diffusers models")
        return _load_synth(name)
    spec = MODELS.get(name)
    if spec is None:
        raise GenerateError(f"unknown model {name!r}; known models: {', '.join(known_models())}")
    folder = _check_weights(weights) if weights is not None else None
    if dtype is not None and dtype not in DTYPES:
        raise GenerateError(f"dtype {dtype!r}: expected one of {', '.join(DTYPES)}")
    if fps is not None and not fps > 0:
        raise GenerateError(f"fps {fps!r}: expected a positive number")
    _check_device(device)
    try:
        return DiffusersModel.from_spec(
            spec,
            device=device,
            weights=folder,
            revision=revision,
            dtype=dtype,
            parameters=params,
            fps=fps,
        )
    except ValueError as exc:  # an unknown parameter, or a diffusers without the pipeline
        raise GenerateError(str(exc)) from None


class _SynthModel:
    """A synthetic renderer of ``scine.video.synth`` seen through ``VideoModel``."""

    def __init__(self, name: str, fidelity: float) -> None:
        self.name = name
        self.settings: dict[str, JsonValue] = {
            "renderer": "scine.video.synth",
            "fidelity": fidelity,
        }
        self._fidelity = fidelity

    def generate(self, prompt: Prompt, seed: int, path: Path) -> Video:
        from scine.video.synth import SyntheticModel

        return SyntheticModel(self.name, self._fidelity, seed).render_prompt(prompt, path)


def _load_synth(name: str) -> VideoModel:
    from scine.video.synth import SYNTHETIC_MODELS

    if name not in SYNTHETIC_MODELS:
        raise GenerateError(
            f"unknown synthetic model {name!r}; known: {', '.join(sorted(SYNTHETIC_MODELS))}"
        )
    return _SynthModel(name, SYNTHETIC_MODELS[name])


def _check_weights(weights: str | Path) -> Path:
    folder = Path(weights).expanduser()
    if not folder.exists():
        raise GenerateError(f"weights folder {folder} does not exist")
    if not (folder / "model_index.json").is_file():
        raise GenerateError(
            f"weights folder {folder} has no model_index.json: expected a diffusers pipeline "
            f"folder (as saved by save_pretrained or downloaded from the Hub)"
        )
    return folder


def _check_device(device: str) -> None:
    if not _DEVICE.fullmatch(device):
        raise GenerateError(f"device {device!r}: expected cpu, cuda or cuda:N")
    if device == "cpu":
        return
    import torch

    if not torch.cuda.is_available():
        raise GenerateError(
            f"device {device!r} was asked for but CUDA is not available here (torch "
            f"{torch.__version__}, built for CUDA {torch.version.cuda or 'none'}); run on a "
            f"machine with an NVIDIA GPU, or pass --device cpu (only for tiny models)"
        )
    index = int(device.partition(":")[2] or 0)
    if index >= torch.cuda.device_count():
        raise GenerateError(
            f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)"
        )


# -- the run --------------------------------------------------------------------------------


def generate_videos(
    model: str | VideoModel,
    prompts: str | Path | Sequence[Prompt],
    out: str | Path,
    *,
    run_seed: int = 0,
    weights: str | Path | None = None,
    revision: str | None = None,
    device: str = "cuda",
    dtype: str | None = None,
    params: Mapping[str, JsonValue] | None = None,
    fps: float | None = None,
    force: bool = False,
    shard: tuple[int, int] | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> GenerateSummary:
    """Render every prompt (this process's share of them) into ``out``; see the module doc.

    ``model`` is a registry name (see ``load_model`` for ``weights`` ... ``fps``) or a
    ``VideoModel``. Refuses, before any model is loaded, an ``out`` folder holding records
    of another model or of this model with another run seed or settings, unless ``force``:
    then other models' records stay, and this model's are regenerated and superseded.
    """
    suite = _read_prompts(prompts)
    index, count, state = _shard(shard, cpu=device == "cpu")
    if not isinstance(model, str):
        _check_model_name(model.name)
        options = {"weights": weights, "revision": revision, "dtype": dtype, "params": params}
        given = [key for key, value in options.items() if value] + (["fps"] if fps else [])
        if given:
            raise GenerateError(
                f"{model.name}: {', '.join(given)} apply to registry names; this model is an "
                f"object, configure it directly"
            )
    elif state is not None and device == "cuda":
        device = f"cuda:{state.local_process_index}"
    video_model = (
        load_model(
            model,
            weights=weights,
            revision=revision,
            device=device,
            dtype=dtype,
            params=params,
            fps=fps,
        )
        if isinstance(model, str)
        else model
    )
    name = video_model.name
    settings = _settings(video_model)
    out = Path(out)
    existing, torn = _current_records(out)
    replaced = _check_out_folder(out, existing, name, run_seed, settings, force)

    part = out / PARTS / f"{name}.{index}-of-{count}.jsonl"
    with _shard_running(part, f"{name} shard {index}/{count}"):
        _trim_torn_tail(part)  # a torn line there was counted when reading
        assigned = suite[index::count]
        generated = skipped = 0
        (out / VIDEOS / name).mkdir(parents=True, exist_ok=True)
        for done, prompt in enumerate(assigned, start=1):
            start = time.perf_counter()
            final = out / VIDEOS / name / video_filename(prompt.id)
            record = existing.get(f"{name}/{prompt.id}")
            if record is not None and _made_before(record, final, run_seed, settings):
                skipped += 1
                status: Literal["generated", "skipped"] = "skipped"
            else:
                seed = prompt_seed(prompt.id, run_seed)
                video = _render(video_model, prompt, seed, final)
                wall = time.perf_counter() - start
                made = _finish(video, prompt, seed, name, out, final, run_seed, settings, wall)
                _append(part, made)
                generated += 1
                status = "generated"
            if progress is not None:
                elapsed = time.perf_counter() - start
                progress(Progress(done, len(assigned), prompt.id, status, elapsed))

    merged = None
    if state is not None:
        state.wait_for_everyone()
        if state.is_main_process:
            merged = merge_records(out)
    elif count == 1:
        merged = merge_records(out)
    return GenerateSummary(
        model=name,
        out=out,
        shard=(index, count),
        prompts=len(suite),
        assigned=len(assigned),
        generated=generated,
        skipped=skipped,
        replaced=replaced,
        torn_lines=torn,
        part=part,
        merged=merged,
    )


def _shard(shard: tuple[int, int] | None, cpu: bool) -> tuple[int, int, PartialState | None]:
    if shard is not None:
        index, count = shard
        if not 0 <= index < count:
            raise GenerateError(f"shard {index}/{count}: expected 0 <= index < count")
        return index, count, None
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        import torch
        from accelerate import PartialState

        # Without cpu=True accelerate sets up no process group when there is no GPU, and
        # every process would think it is alone. The main process waits at the end for the
        # slowest one, which may be hours behind: hence the long timeout.
        state = PartialState(cpu=cpu or not torch.cuda.is_available(), timeout=_WAIT)
        if state.num_processes != world:
            raise GenerateError(
                f"WORLD_SIZE is {world} but accelerate set up {state.num_processes} process(es)"
            )
        return state.process_index, state.num_processes, state
    return 0, 1, None


def _read_prompts(prompts: str | Path | Sequence[Prompt]) -> list[Prompt]:
    if isinstance(prompts, str | Path):
        suite = read_records(prompts, Prompt)
        if not suite:
            raise GenerateError(f"{prompts}: no prompts in the file")
        return suite
    suite = list(prompts)
    if not suite:
        raise GenerateError("no prompts given")
    seen = Counter(prompt.id for prompt in suite)
    duplicates = sorted(prompt_id for prompt_id, n in seen.items() if n > 1)
    if duplicates:
        raise GenerateError(f"duplicate prompt id(s): {', '.join(duplicates[:5])}")
    return suite


def _check_model_name(name: str) -> None:
    if not _MODEL_NAME.fullmatch(name):
        raise GenerateError(
            f"model name {name!r}: expected letters, digits, '.', '_' or '-' "
            f"(it names a folder and prefixes video ids)"
        )


def _settings(model: VideoModel) -> dict[str, JsonValue]:
    settings = getattr(model, "settings", None)
    return dict(settings) if isinstance(settings, Mapping) else {}


def _settings_key(settings: Any) -> str:
    return json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)


def _made_before(
    record: Video, final: Path, run_seed: int, settings: Mapping[str, JsonValue]
) -> bool:
    """Whether the record's video is finished for this run: same run seed and settings, and
    its file still the one the record hashed (a record without a hash, from an older scine,
    trusts the file if it is there)."""
    if not _same_run(record, run_seed, settings) or not final.is_file():
        return False
    digest = record.provenance.get("sha256")
    return digest is None or file_sha256(final) == digest


def _same_run(record: Video, run_seed: int, settings: Mapping[str, JsonValue]) -> bool:
    provenance = record.provenance
    return provenance.get("run_seed") == run_seed and _settings_key(
        provenance.get("settings", {})
    ) == _settings_key(settings)


def _check_out_folder(
    out: Path,
    existing: Mapping[str, Video],
    name: str,
    run_seed: int,
    settings: Mapping[str, JsonValue],
    force: bool,
) -> int:
    """Refuse (unless ``force``) records of other models or runs; returns how many differ."""
    others = Counter(r.model for r in existing.values() if r.model != name)
    stale = [r for r in existing.values() if r.model == name]
    stale = [r for r in stale if not _same_run(r, run_seed, settings)]
    if (others or stale) and not force:
        found = [f"{n} video(s) of model {model!r}" for model, n in sorted(others.items())]
        if stale:
            seeds = sorted({str(r.provenance.get("run_seed")) for r in stale})
            found.append(
                f"{len(stale)} video(s) of {name!r} from another run (run seed "
                f"{', '.join(seeds)}, or other settings; this run: seed {run_seed})"
            )
        raise GenerateError(
            f"{out} already holds {'; '.join(found)}. Use another output folder, or force "
            f"(--force) to write beside them: videos of {name!r} from another run are then "
            f"regenerated and their records superseded"
        )
    return len(stale)


@contextmanager
def _shard_running(part: Path, what: str) -> Iterator[None]:
    """While this process writes ``what`` (its records into ``part``): not marked done, and
    locked, so that a second process doing the same into the same folder is refused (their
    partial files would collide; POSIX only, elsewhere nothing is locked). Marked done when
    the work ends without an error."""
    done = part.with_suffix(".done")
    lock = part.with_suffix(".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        _lock_alone(handle, f"{part.parent.parent}: another process is generating {what} here")
        done.unlink(missing_ok=True)
        yield
        done.write_text("done\n", encoding="utf-8")


def _lock_alone(handle: IO[str], refusal: str) -> None:
    """Lock the open file for this process alone, or refuse with ``refusal``."""
    try:
        import fcntl
    except ImportError:  # not POSIX: nothing to lock with
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise GenerateError(
            f"{refusal}; wait for it, or give each process its own --shard"
        ) from None


def _render(model: VideoModel, prompt: Prompt, seed: int, final: Path) -> Video:
    """Render into a hidden partial file and rename it: no half video under the final name.

    Temporary files a killed run left for this prompt go first (only this prompt's: shards
    share the folder)."""
    partial = final.with_name(f".{final.stem}.partial.mp4")
    for leftover in final.parent.glob(glob.escape(f".{partial.name}.") + "*.tmp"):
        leftover.unlink(missing_ok=True)
    try:
        video = model.generate(prompt, seed, partial)
        if not partial.is_file() or partial.stat().st_size == 0:
            raise GenerateError(f"{model.name}: wrote no video for prompt {prompt.id!r}")
        os.replace(partial, final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return video


def _finish(
    video: Video,
    prompt: Prompt,
    seed: int,
    name: str,
    out: Path,
    final: Path,
    run_seed: int,
    settings: Mapping[str, JsonValue],
    wall: float,
) -> Video:
    expected = f"{name}/{prompt.id}"
    if (video.id, video.prompt_id, video.model) != (expected, prompt.id, name):
        raise GenerateError(
            f"{name}: returned a record for id {video.id!r} (prompt {video.prompt_id!r}, "
            f"model {video.model!r}); expected id {expected!r}"
        )
    provenance: dict[str, JsonValue] = {
        **video.provenance,
        "run_seed": run_seed,
        "settings": dict(settings),
        "wall_seconds": round(wall, 3),
        "generated_at": datetime.now(UTC).isoformat(timespec="microseconds"),
        "sha256": file_sha256(final),
    }
    return video.model_copy(
        update={
            "path": final.relative_to(out).as_posix(),
            "seed": seed,
            "provenance": provenance,
        }
    )


def _append(part: Path, video: Video) -> None:
    part.parent.mkdir(parents=True, exist_ok=True)
    with part.open("ab") as handle:
        handle.write(video.model_dump_json().encode("utf-8") + b"\n")
        handle.flush()
        os.fsync(handle.fileno())


# -- records --------------------------------------------------------------------------------


def merge_records(out: str | Path) -> MergeSummary:
    """Fold ``out/parts/*.jsonl`` into ``out/videos.jsonl`` and write ``manifest.json``.

    Per id the newest record (``provenance.generated_at``) wins; the others are counted as
    superseded. Every shard ``i`` of ``n`` of a model with parts here must have finished (its
    ``.done`` marker); otherwise nothing is merged and the error names the shards missing.
    """
    out = Path(out)
    unfinished = _unfinished_shards(out)
    if unfinished:
        raise GenerateError(
            f"{out}: not every shard has finished ({'; '.join(unfinished)}); run them to the "
            "end (finished videos are kept), then merge: nothing was merged"
        )
    entries, parts, torn = _all_records(out)
    current = _newest(entries)
    videos = sorted(current.values(), key=lambda video: video.id)
    write_jsonl(out / RECORDS, videos)
    models = dict(sorted(Counter(video.model for video in videos).items()))
    manifest = _manifest(videos, models)
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (out / MANIFEST).write_text(text, encoding="utf-8")
    folder = out / PARTS
    markers = [*folder.glob("*.done"), *folder.glob("*.lock")] if folder.is_dir() else []
    for finished in [*parts, *markers]:
        finished.unlink()
    if (parts or markers) and not any(folder.iterdir()):
        folder.rmdir()
    return MergeSummary(
        records=out / RECORDS,
        videos=len(videos),
        superseded=len(entries) - len(videos),
        parts=len(parts),
        torn_lines=torn,
        models=models,
    )


def _manifest(videos: Sequence[Video], models: Mapping[str, int]) -> dict[str, Any]:
    described: dict[str, Any] = {}
    for model, count in models.items():
        own = [video for video in videos if video.model == model]
        settings = {_settings_key(v.provenance.get("settings", {})): v for v in own}
        described[model] = {
            "videos": count,
            "run_seeds": sorted({seed for v in own if (seed := _run_seed(v)) is not None}),
            "settings": [settings[key].provenance.get("settings") for key in sorted(settings)],
        }
    return {
        "kind": "scine generated videos",
        "scine_version": __version__,
        "records": RECORDS,
        "videos": len(videos),
        "models": described,
        "seeds": "per video: first 4 bytes (big-endian) of sha256('scine-video:<run seed>:"
        "<prompt id>')",
    }


def _unfinished_shards(out: Path) -> list[str]:
    """Each shard ``i/n`` of a model seen in ``out/parts`` that has no ``.done`` marker, said
    with what its part file holds."""
    folder = out / PARTS
    if not folder.is_dir():
        return []
    shards = {_SHARD.fullmatch(path.name) for path in folder.iterdir()}
    counts = {(found["model"], int(found["count"])) for found in shards if found is not None}
    said = []
    for model, count in sorted(counts):
        for index in range(count):
            stem = f"{model}.{index}-of-{count}"
            if (folder / f"{stem}.done").is_file():
                continue
            part = folder / f"{stem}.jsonl"
            if part.is_file():
                state = f"{len(_read_part(part)[0])} video(s) so far, running or stopped"
            elif (folder / f"{stem}.lock").is_file():
                state = "started, no video yet"
            else:
                state = "not run"
            said.append(f"{model} {index}/{count}: {state}")
    return said


def _run_seed(video: Video) -> int | None:
    seed = video.provenance.get("run_seed")
    return seed if isinstance(seed, int) else None


def _current_records(out: Path) -> tuple[dict[str, Video], int]:
    entries, _, torn = _all_records(out)
    return _newest(entries), torn


def _all_records(out: Path) -> tuple[list[tuple[Video, int]], list[Path], int]:
    """Records of ``videos.jsonl`` then of each part file, with their order of reading."""
    entries: list[tuple[Video, int]] = []
    if (out / RECORDS).is_file():
        entries.extend((video, 0) for video in read_jsonl(out / RECORDS, Video))
    parts = sorted((out / PARTS).glob("*.jsonl")) if (out / PARTS).is_dir() else []
    torn = 0
    for part in parts:
        videos, part_torn = _read_part(part)
        torn += part_torn
        entries.extend((video, len(entries)) for video in videos)
    return entries, parts, torn


def _newest(entries: Sequence[tuple[Video, int]]) -> dict[str, Video]:
    def when(entry: tuple[Video, int]) -> tuple[str, int]:
        stamp = entry[0].provenance.get("generated_at")
        return (stamp if isinstance(stamp, str) else "", entry[1])

    current: dict[str, Video] = {}
    for video, _ in sorted(entries, key=when):
        current[video.id] = video
    return current


def _read_part(path: Path) -> tuple[list[Video], int]:
    """A part file's records; a last line cut off by a crash (no newline) is counted, not read."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    torn = 0
    if lines and lines[-1].strip():
        lines.pop()
        torn = 1
    videos = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            videos.append(Video.model_validate_json(line))
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            field = ".".join(str(part) for part in error["loc"]) or "(record)"
            raise RecordError(f"{path}:{number}: Video field '{field}': {error['msg']}") from None
    return videos, torn


def _trim_torn_tail(part: Path) -> int:
    """Cut this process's own part file back to its last full line before appending."""
    if not part.is_file():
        return 0
    data = part.read_bytes()
    if not data or data.endswith(b"\n"):
        return 0
    with part.open("r+b") as handle:
        handle.truncate(data.rfind(b"\n") + 1)
    return 1

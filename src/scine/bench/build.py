"""Build a SCINE suite: SCINE-Scripts, SCINE-Visuals and their questions.

Scripts: a seed script plus sampled Events controls, written by a writer (composer or LLM).
Visuals: structured upsampling of a script with sampled controls of the role's axes. Every
prompt is checked against the shot rules (``constraints``); violators are rewritten (a new
attempt, and after ``RESAMPLE_AFTER`` attempts newly sampled controls) and every rejection is
counted by reason. Every random choice is keyed by the build seed and the prompt id, so the
same configuration gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scine import __version__
from scine.llm.composer import packaged_on_screen_texts
from scine.records import Control, Difficulty, Prompt, Question, Role, write_jsonl
from scine.taxonomy import Taxonomy

from .constraints import MAX_SECONDS, SECONDS_PER_BEAT, check_shot, estimate_seconds
from .questions import questions_for
from .seeds import Seed
from .writers import Draft, ScriptJob, VisualJob, Writer

ROLE_AXES: dict[str, tuple[str, ...]] = {
    "screenwriter": ("events",),
    "cinematographer": ("camera", "lighting"),
    "production_designer": ("setup",),
    "director": ("setup", "events", "lighting", "camera"),
}
VISUAL_ROLES = ("cinematographer", "production_designer", "director")
ALL_ROLES: tuple[Role, ...] = ("screenwriter", *VISUAL_ROLES)  # type: ignore[assignment]
TEXT_CONTENT = "setup.text.content"
CAST_LEAVES = frozenset({"setup.subjects.type", "setup.subjects.count", "setup.subjects.age"})
"""Who is in the shot is the seed's cast: upsampling never changes it (a retired teacher
does not become a child), so these leaves are not injected into Visuals prompts."""
RESAMPLE_AFTER = 2
"""Attempts with the same controls before a violating prompt gets newly sampled controls."""

ProgressFactory = Callable[[str, int], Callable[[int], None]]


class BuildConfig(BaseModel):
    """Everything that decides a suite; saved in its manifest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = 0
    scripts: int = Field(1133, ge=0)
    visuals: int = Field(956, ge=0)
    roles: tuple[Role, ...] = ALL_ROLES
    advanced_share: float = Field(0.5, ge=0, le=1)
    script_basic: tuple[int, int] = (1, 2)
    script_advanced: tuple[int, int] = (3, 5)
    visual_basic_max: int = Field(3, ge=1)
    visual_advanced: tuple[int, int] = (5, 10)
    max_attempts: int = Field(6, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> BuildConfig:
        for name in ("script_basic", "script_advanced", "visual_advanced"):
            low, high = getattr(self, name)
            if not 1 <= low <= high:
                raise ValueError(f"{name} must be a range (low, high) with 1 <= low <= high")
        if self.visuals and not set(self.roles) & set(VISUAL_ROLES):
            raise ValueError("visuals need at least one of the roles " + ", ".join(VISUAL_ROLES))
        if self.visuals and not self.scripts:
            raise ValueError("visuals are upsampled from scripts: --scripts must be > 0")
        return self


@dataclass
class Suite:
    """A built suite: prompts, their questions, and the manifest describing the build."""

    prompts: list[Prompt]
    questions: list[Question]
    manifest: dict[str, Any]


@dataclass
class _Tally:
    rejections: Counter[str] = field(default_factory=Counter)
    failures: list[dict[str, Any]] = field(default_factory=list)


Job = TypeVar("Job", ScriptJob, VisualJob)


def build_suite(
    config: BuildConfig,
    writer: Writer,
    taxonomy: Taxonomy,
    seeds: Sequence[Seed],
    progress: ProgressFactory | None = None,
) -> Suite:
    """Build the suite the configuration describes."""
    if not seeds:
        raise ValueError("no seed scripts to build from")
    tally = _Tally()
    scripts, seed_of = _build_scripts(config, writer, taxonomy, seeds, tally, progress)
    visuals = _build_visuals(config, writer, taxonomy, scripts, seed_of, tally, progress)
    used_parents = {prompt.parent_id for prompt in visuals}
    if "screenwriter" not in config.roles:
        scripts = [prompt for prompt in scripts if prompt.id in used_parents]
    prompts = scripts + visuals
    questions = [q for prompt in prompts for q in questions_for(prompt, taxonomy)]
    manifest = _manifest(config, writer, taxonomy, seeds, prompts, questions, tally)
    return Suite(prompts, questions, manifest)


def write_suite(suite: Suite, out: Path) -> None:
    """Write ``prompts.jsonl``, ``questions.jsonl`` and ``manifest.json`` into ``out``.

    The manifest is removed first and written last, so a folder with a manifest holds a
    whole suite even if writing was cut short.
    """
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").unlink(missing_ok=True)
    write_jsonl(out / "prompts.jsonl", suite.prompts)
    write_jsonl(out / "questions.jsonl", suite.questions)
    text = json.dumps(suite.manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (out / "manifest.json").write_text(text, encoding="utf-8")


# -- scripts ---------------------------------------------------------------------------------


def _build_scripts(
    config: BuildConfig,
    writer: Writer,
    taxonomy: Taxonomy,
    seeds: Sequence[Seed],
    tally: _Tally,
    progress: ProgressFactory | None,
) -> tuple[list[Prompt], dict[str, Seed]]:
    order = list(seeds)
    random.Random(f"{config.seed}:seed-order").shuffle(order)
    plans: dict[str, tuple[Difficulty, int]] = {}
    jobs = []
    for index in range(config.scripts):
        prompt_id = f"scr-{index + 1:04d}"
        rng = _rng(config, prompt_id, 0)
        difficulty: Difficulty = "advanced" if rng.random() < config.advanced_share else "basic"
        low, high = config.script_advanced if difficulty == "advanced" else config.script_basic
        k = rng.randint(low, high)
        plans[prompt_id] = (difficulty, k)
        seed = order[index % len(order)]
        jobs.append(
            ScriptJob(prompt_id, seed, _sample(taxonomy, k, rng, ("events",), seed.controls))
        )

    def resample(job: ScriptJob) -> ScriptJob:
        # A script that keeps running long gets one control fewer per attempt, down to the
        # least its difficulty allows.
        difficulty, k = plans[job.prompt_id]
        low = (config.script_advanced if difficulty == "advanced" else config.script_basic)[0]
        k = max(low, k - (job.attempt + 1 - RESAMPLE_AFTER))
        rng = _rng(config, job.prompt_id, job.attempt + 1)
        controls = _sample(taxonomy, k, rng, ("events",), job.seed.controls)
        return replace(job, controls=controls, attempt=job.attempt + 1)

    def check(job: ScriptJob, text: str) -> list[str]:
        return check_shot(text).reasons

    written = _write_all(
        jobs, writer.scripts, check, resample, config.max_attempts, tally, progress, "scripts"
    )
    prompts = [
        Prompt(
            id=job.prompt_id,
            text=text,
            split="scripts",
            role="screenwriter",
            difficulty=plans[job.prompt_id][0],
            genre=job.seed.genre,
            controls=(*job.seed.controls, *job.controls),
            provenance={
                "writer": writer.name,
                "seed_script": job.seed.id,
                "sampled": [c.node for c in job.controls],
                "attempts": job.attempt + 1,
            },
        )
        for job, text in written
    ]
    return prompts, {job.prompt_id: job.seed for job, _ in written}


# -- visuals ---------------------------------------------------------------------------------


def _build_visuals(
    config: BuildConfig,
    writer: Writer,
    taxonomy: Taxonomy,
    scripts: Sequence[Prompt],
    seed_of: dict[str, Seed],
    tally: _Tally,
    progress: ProgressFactory | None,
) -> list[Prompt]:
    roles = [role for role in VISUAL_ROLES if role in config.roles]
    if not config.visuals or not scripts:
        return []
    plans: dict[str, tuple[Role, Difficulty, int, Prompt]] = {}
    jobs = []
    for index in range(config.visuals):
        prompt_id = f"vis-{index + 1:04d}"
        rng = _rng(config, prompt_id, 0)
        role: Role = roles[index % len(roles)]
        difficulty: Difficulty = "advanced" if rng.random() < config.advanced_share else "basic"
        if difficulty == "advanced":
            k = rng.randint(*config.visual_advanced)
        else:
            k = rng.randint(1, config.visual_basic_max)
        parent = rng.choice(scripts)
        plans[prompt_id] = (role, difficulty, k, parent)
        injected = _sample(taxonomy, k, rng, _visual_axes(role, parent), _carried(parent))
        jobs.append(VisualJob(prompt_id, seed_of[parent.id], parent.text, injected))

    def resample(job: VisualJob) -> VisualJob:
        role, _, k, parent = plans[job.prompt_id]
        rng = _rng(config, job.prompt_id, job.attempt + 1)
        injected = _sample(taxonomy, k, rng, _visual_axes(role, parent), _carried(parent))
        return replace(job, controls=injected, attempt=job.attempt + 1)

    def check(job: VisualJob, text: str) -> list[str]:
        return check_visual(text, job.script, job.controls)

    written = _write_all(
        jobs, writer.visuals, check, resample, config.max_attempts, tally, progress, "visuals"
    )
    prompts = []
    for job, text in written:
        role, difficulty, _, parent = plans[job.prompt_id]
        prompts.append(
            Prompt(
                id=job.prompt_id,
                text=text,
                split="visuals",
                role=role,
                difficulty=difficulty,
                genre=parent.genre,
                controls=(*parent.controls, *job.controls),
                parent_id=parent.id,
                provenance={
                    "writer": writer.name,
                    "seed_script": job.seed.id,
                    "injected": [c.node for c in job.controls],
                    "attempts": job.attempt + 1,
                },
            )
        )
    return prompts


def _visual_axes(role: str, parent: Prompt) -> tuple[str, ...]:
    """The role's axes; events only while the script has time left for another beat."""
    budget = MAX_SECONDS - estimate_seconds(parent.text)
    return tuple(a for a in ROLE_AXES[role] if a != "events" or budget >= SECONDS_PER_BEAT)


def _carried(parent: Prompt) -> list[Control]:
    """Leaves a Visuals prompt must not inject: its script's, and the cast's."""
    return [*parent.controls, *(Control(node=leaf) for leaf in sorted(CAST_LEAVES))]


def check_visual(text: str, script: str, injected: Sequence[Control]) -> list[str]:
    """Shot rules for an upsampled prompt: added events count as beats of the script."""
    reasons = [reason for reason in check_shot(text).reasons if not reason.startswith("too long")]
    events = sum(control.node.startswith("events.") for control in injected)
    seconds = estimate_seconds(script) + SECONDS_PER_BEAT * events
    if seconds > MAX_SECONDS:
        reasons.append(f"too long: about {seconds:.1f} s > {MAX_SECONDS:.0f} s")
    return reasons


# -- shared ----------------------------------------------------------------------------------


def _rng(config: BuildConfig, prompt_id: str, attempt: int) -> random.Random:
    return random.Random(f"{config.seed}:{prompt_id}:{attempt}")


def _sample(
    taxonomy: Taxonomy,
    k: int,
    rng: random.Random,
    axes: Sequence[str],
    carried: Sequence[Control],
) -> tuple[Control, ...]:
    """Sample k new controls (fewer if the axes run out), never a leaf already carried."""
    exclude = {control.node for control in carried}
    available = sum(1 for leaf in taxonomy.leaves() if leaf.axis in axes and leaf.id not in exclude)
    controls = taxonomy.sample(min(k, available), rng, axes=axes, exclude=exclude)
    texts = packaged_on_screen_texts()
    return tuple(
        Control(node=c.node, value=rng.choice(texts)) if c.node == TEXT_CONTENT else c
        for c in controls
    )


def _write_all(
    jobs: list[Job],
    write: Callable[[Sequence[Job]], list[Draft]],
    check: Callable[[Job, str], list[str]],
    resample: Callable[[Job], Job],
    max_attempts: int,
    tally: _Tally,
    progress: ProgressFactory | None,
    label: str,
) -> list[tuple[Job, str]]:
    """Write every job, rewriting violators; returns accepted (job, text) in job order."""
    advance = progress(label, len(jobs)) if progress is not None else None
    accepted: dict[str, tuple[Job, str]] = {}
    settled = 0
    pending = jobs
    while pending:
        retry: list[Job] = []
        for job, draft in zip(pending, write(pending), strict=True):
            reasons = (
                [f"writer error: {draft.error}"] if draft.text is None else check(job, draft.text)
            )
            if not reasons and draft.text is not None:
                accepted[job.prompt_id] = (job, draft.text)
            else:
                tally.rejections.update(reason.split(":", 1)[0] for reason in reasons)
                if job.attempt + 1 < max_attempts:
                    retry.append(
                        resample(job)
                        if job.attempt + 1 >= RESAMPLE_AFTER
                        else replace(job, attempt=job.attempt + 1)
                    )
                    continue
                tally.failures.append({"prompt": job.prompt_id, "reasons": reasons})
            settled += 1
            if advance is not None:
                advance(settled)
        pending = retry
    return [accepted[job.prompt_id] for job in jobs if job.prompt_id in accepted]


def _manifest(
    config: BuildConfig,
    writer: Writer,
    taxonomy: Taxonomy,
    seeds: Sequence[Seed],
    prompts: Sequence[Prompt],
    questions: Sequence[Question],
    tally: _Tally,
) -> dict[str, Any]:
    per_prompt = Counter(question.prompt_id for question in questions)
    by_split: dict[str, list[int]] = {}
    for prompt in prompts:
        by_split.setdefault(prompt.split, []).append(per_prompt[prompt.id])
    return {
        "kind": "scine benchmark suite",
        "scine_version": __version__,
        "taxonomy_version": taxonomy.version,
        "writer": writer.name,
        "config": config.model_dump(mode="json"),
        "data": {
            "seed_scripts": len(seeds),
            "seed_scripts_hash": _hash(seed.model_dump_json() for seed in seeds),
            "genres": sorted({seed.genre for seed in seeds}),
            "package_data_hash": package_data_hash(),
        },
        "counts": {
            "prompts": len(prompts),
            "questions": len(questions),
            "by_split": dict(sorted(Counter(p.split for p in prompts).items())),
            "by_role": dict(sorted(Counter(str(p.role) for p in prompts).items())),
            "by_difficulty": dict(sorted(Counter(str(p.difficulty) for p in prompts).items())),
            "by_role_and_difficulty": dict(
                sorted(Counter(f"{p.role}/{p.difficulty}" for p in prompts).items())
            ),
            "by_genre": dict(sorted(Counter(str(p.genre) for p in prompts).items())),
            "controls_by_axis": dict(
                sorted(
                    Counter(c.node.split(".", 1)[0] for p in prompts for c in p.controls).items()
                )
            ),
            "questions_per_prompt": {
                split: round(sum(counts) / len(counts), 3)
                for split, counts in sorted(by_split.items())
            },
        },
        "rejections": dict(sorted(tally.rejections.items())),
        "failures": tally.failures,
    }


def _hash(parts: Any) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8") if isinstance(part, str) else part)
    return digest.hexdigest()[:16]


def package_data_hash() -> str:
    """Hash of the composer's phrase data and the templates: what else decides the text."""
    roots = [
        resources.files("scine.llm.composer") / "data",
        resources.files("scine.bench") / "templates",
    ]
    files: list[Path] = []
    for root in roots:
        files += sorted(Path(str(root)).rglob("*.*"))
    return _hash(path.read_bytes() for path in files)

"""Who writes the prompts: the offline composer (default) or an LLM, behind one interface."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from pydantic import BaseModel, Field

from scine.llm import JsonLLM, JsonTask, Message
from scine.llm.composer import Composer, CompositionError, packaged_realizations
from scine.records import Control
from scine.taxonomy import Taxonomy

from .seeds import Seed
from .templates import describe_controls, render

Progress = Callable[[int], None]
Job = TypeVar("Job", "ScriptJob", "VisualJob")


@dataclass(frozen=True)
class ScriptJob:
    """Write a script for ``seed`` stating ``controls`` (events controls)."""

    prompt_id: str
    seed: Seed
    controls: tuple[Control, ...]
    attempt: int = 0


@dataclass(frozen=True)
class VisualJob:
    """Upsample ``script`` (written from ``seed``) with the injected ``controls``."""

    prompt_id: str
    seed: Seed
    script: str
    controls: tuple[Control, ...]
    attempt: int = 0


@dataclass(frozen=True)
class Draft:
    """A written prompt, or why none could be written."""

    text: str | None
    error: str | None = None


class Writer(Protocol):
    """Writes scripts and upsampled prompts, in the order of the jobs."""

    name: str

    def scripts(self, jobs: Sequence[ScriptJob], progress: Progress | None = None) -> list[Draft]:
        """One draft per job."""
        ...

    def visuals(self, jobs: Sequence[VisualJob], progress: Progress | None = None) -> list[Draft]:
        """One draft per job."""
        ...


class OfflineWriter:
    """The composer: no model, deterministic for a given seed, job id and attempt."""

    name = "offline"

    def __init__(self, taxonomy: Taxonomy, seed: int) -> None:
        self.composer = Composer(taxonomy, packaged_realizations())
        self.seed = seed

    def _rng(self, kind: str, prompt_id: str, attempt: int) -> random.Random:
        return random.Random(f"{self.seed}:{kind}:{prompt_id}:{attempt}")

    def scripts(self, jobs: Sequence[ScriptJob], progress: Progress | None = None) -> list[Draft]:
        """Compose each script."""
        return _each(
            jobs,
            lambda job: self.composer.script(
                job.seed.cast, job.controls, self._rng("script", job.prompt_id, job.attempt)
            ),
            progress,
        )

    def visuals(self, jobs: Sequence[VisualJob], progress: Progress | None = None) -> list[Draft]:
        """Compose each upsampled prompt."""
        return _each(
            jobs,
            lambda job: self.composer.visual(
                job.script,
                job.seed.cast,
                job.controls,
                self._rng("visual", job.prompt_id, job.attempt),
            ),
            progress,
        )


def _each(
    jobs: Sequence[Job], write: Callable[[Job], str], progress: Progress | None
) -> list[Draft]:
    drafts = []
    for done, job in enumerate(jobs, start=1):
        try:
            drafts.append(Draft(write(job)))
        except CompositionError as exc:
            drafts.append(Draft(None, str(exc)))
        if progress is not None:
            progress(done)
    return drafts


class ScriptReply(BaseModel):
    """What the LLM returns for a script."""

    script: str = Field(min_length=1)

    @property
    def text(self) -> str:
        """The written prompt."""
        return self.script


class VisualReply(BaseModel):
    """What the LLM returns for an upsampled prompt."""

    prompt: str = Field(min_length=1)

    @property
    def text(self) -> str:
        """The written prompt."""
        return self.prompt


class LLMWriter:
    """An LLM writes from the packaged templates; the attempt number varies the request seed."""

    def __init__(self, llm: JsonLLM, taxonomy: Taxonomy, temperature: float = 0.8) -> None:
        self.llm = llm
        self.taxonomy = taxonomy
        self.temperature = temperature
        self.name = llm.name

    def scripts(self, jobs: Sequence[ScriptJob], progress: Progress | None = None) -> list[Draft]:
        """Ask the LLM for each script (stating the seed's controls and the sampled ones)."""
        requests = [
            (
                render(
                    "script",
                    genre=job.seed.genre.replace("_", " "),
                    seed=job.seed.text,
                    controls=describe_controls(self.taxonomy, (*job.seed.controls, *job.controls)),
                ),
                job.attempt,
            )
            for job in jobs
        ]
        return self._ask(requests, ScriptReply, progress)

    def visuals(self, jobs: Sequence[VisualJob], progress: Progress | None = None) -> list[Draft]:
        """Ask the LLM for each upsampled prompt."""
        requests = [
            (
                render(
                    "visual",
                    script=job.script,
                    controls=describe_controls(self.taxonomy, job.controls),
                ),
                job.attempt,
            )
            for job in jobs
        ]
        return self._ask(requests, VisualReply, progress)

    def _ask(
        self,
        requests: Sequence[tuple[tuple[Message, ...], int]],
        output: type[ScriptReply] | type[VisualReply],
        progress: Progress | None,
    ) -> list[Draft]:
        tasks = [
            JsonTask(messages=messages, output=output, temperature=self.temperature, seed=attempt)
            for messages, attempt in requests
        ]
        outcomes = self.llm.run(tasks, progress)
        return [
            Draft(o.value.text.strip(), None) if o.value else Draft(None, o.error) for o in outcomes
        ]


def make_writer(
    llm: str,
    taxonomy: Taxonomy,
    *,
    base_url: str | None = None,
    cache_dir: Path | None = None,
    concurrency: int = 16,
    seed: int = 0,
) -> Writer:
    """The writer ``llm`` names: ``offline`` (the composer, seeded) or ``openai:MODEL``."""
    from scine.llm import make_llm

    model = make_llm(llm, base_url=base_url, cache_dir=cache_dir, concurrency=concurrency)
    return OfflineWriter(taxonomy, seed) if model is None else LLMWriter(model, taxonomy)

"""Seed scripts: short one-shot narratives written by people, with parts for the composer.

Each seed has the prompt as its author wrote it (``text``, what an LLM backend receives) and
the same content broken into parts (subject, place, actions, a line of dialogue, ...) from
which the offline composer writes variations. ``controls`` lists the taxonomy controls the
parts state; the check ``seed_problems`` proves the parts state exactly those.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scine.llm.composer import Cast
from scine.records import Control
from scine.taxonomy import Taxonomy

from .constraints import check_shot

GENRES = (
    "drama",
    "comedy",
    "thriller",
    "horror",
    "romance",
    "action",
    "science_fiction",
    "fantasy",
    "western",
    "crime",
    "war",
    "biography",
    "musical",
    "mystery",
)

Text = Annotated[str, Field(min_length=1)]


class SeedError(ValueError):
    """The seed file is malformed; the message names the file and the seed."""


class Seed(BaseModel):
    """One seed script and its parts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    genre: Literal[GENRES]  # type: ignore[valid-type]
    text: Text
    subject: Text
    subject_intro: Text
    pronoun: Literal["he", "she", "they"]
    partner: str | None = None
    partner_intro: str | None = None
    where: Text
    place: Text
    object: Text
    actions: Annotated[tuple[Text, ...], Field(min_length=3)]
    event: Text
    line: Text
    controls: tuple[Control, ...] = ()

    @property
    def cast(self) -> Cast:
        """The parts as the composer's cast."""
        return Cast(
            subject=self.subject,
            subject_intro=self.subject_intro,
            pronoun=self.pronoun,
            where=self.where,
            place=self.place,
            object=self.object,
            actions=self.actions,
            event=self.event,
            line=self.line,
            partner=self.partner,
            partner_intro=self.partner_intro,
        )

    @property
    def parts(self) -> dict[str, str]:
        """The composable parts by slot name (absent partner omitted)."""
        parts = {
            "subject": self.subject,
            "subject_intro": self.subject_intro,
            "where": self.where,
            "place": self.place,
            "object": self.object,
            "event": self.event,
            "line": self.line,
        }
        if self.partner and self.partner_intro:
            parts["partner"] = self.partner
            parts["partner_intro"] = self.partner_intro
        return parts


def load_seeds(path: Path | None = None) -> list[Seed]:
    """Load seed scripts (default: the packaged library); errors name file and seed."""
    path = path or Path(str(resources.files("scine.bench") / "data" / "seeds.yaml"))
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise SeedError(f"{path}: expected a list of seeds")
    seeds = []
    for index, item in enumerate(raw, start=1):
        name = item.get("id", f"#{index}") if isinstance(item, dict) else f"#{index}"
        try:
            seeds.append(Seed.model_validate(item))
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(part) for part in error["loc"])
            raise SeedError(f"{path}: seed {name}: field '{field}': {error['msg']}") from None
    ids = [seed.id for seed in seeds]
    duplicates = sorted({seed_id for seed_id in ids if ids.count(seed_id) > 1})
    if duplicates:
        raise SeedError(f"{path}: duplicate seed id(s): {', '.join(duplicates)}")
    return seeds


@cache
def packaged_seeds() -> tuple[Seed, ...]:
    """The packaged seed library (cached)."""
    return tuple(load_seeds())


def seed_problems(seed: Seed, taxonomy: Taxonomy) -> list[str]:
    """What is wrong with a seed: rules broken, or parts stating other controls than listed."""
    problems = [f"text: {reason}" for reason in check_shot(seed.text).reasons]
    listed_nodes = {(control.node, control.value) for control in seed.controls}
    for spot in taxonomy.spot(seed.text):
        if not set(spot.targets) & listed_nodes:
            problems.append(f"text: {spot.phrase!r} states {spot.targets}, not listed")
    if (seed.partner is None) != (seed.partner_intro is None):
        problems.append("partner and partner_intro go together")
    listed = {(control.node, control.value) for control in seed.controls}
    for control in seed.controls:
        try:
            taxonomy.check_control(control.node, control.value)
        except KeyError as exc:
            problems.append(f"controls: {exc.args[0]}")
    rendered = {"where", "subject_intro"}  # every composed script contains these two parts
    stated: set[tuple[str, str | None]] = set()
    pieces: Sequence[tuple[str, str]] = [
        *seed.parts.items(),
        *((f"actions[{i}]", action) for i, action in enumerate(seed.actions)),
    ]
    for name, piece in pieces:
        for spot in taxonomy.spot(piece):
            hits = set(spot.targets) & listed
            if not hits:
                problems.append(f"{name}: {spot.phrase!r} states {spot.targets}, not listed")
            elif name in rendered:
                stated |= hits
    for node, value in sorted(listed - stated, key=str):
        problems.append(f"controls: {node}={value} is listed but not stated in where/subject_intro")
    for name, action in (("actions", a) for a in seed.actions):
        if not action.split()[0].endswith("s"):
            problems.append(f"{name}: {action!r} should start with a present-tense verb")
    return problems

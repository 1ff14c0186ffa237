"""The node types of the taxonomy tree: axes, groups, leaves (controls) and their values."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Provenance = Literal["paper", "designed"]

VALUE_SLOT = "{value}"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Value(_Frozen):
    """One choice a leaf control can take, e.g. ``dutch`` for the camera angle."""

    id: str
    name: str
    definition: str
    synonyms: tuple[str, ...] = ()
    phrase: str | None = None
    provenance: Provenance = "designed"

    @property
    def text(self) -> str:
        """The words that stand for this value inside a question."""
        return self.phrase if self.phrase is not None else self.name.lower()


class Question(_Frozen):
    """Question templates of a leaf: one with a ``{value}`` slot, one for an unnamed value."""

    value: str
    unspecified: str


class Leaf(_Frozen):
    """A leaf control node: the finest control a professional sets, rated on its own."""

    kind: Literal["leaf"] = "leaf"
    id: str
    name: str
    definition: str
    values: tuple[Value, ...] = ()
    free_form: bool = False
    synonyms: tuple[str, ...] = ()
    question: Question
    dependent_on: str | None = None
    provenance: Provenance = "designed"

    @property
    def axis(self) -> str:
        """Id of the axis this leaf belongs to."""
        return self.id.split(".", 1)[0]

    def value(self, value_id: str) -> Value:
        """The value with this id; ``KeyError`` naming the valid ids otherwise."""
        for value in self.values:
            if value.id == value_id:
                return value
        valid = ", ".join(v.id for v in self.values) or "(free-form leaf: any text)"
        raise KeyError(f"{self.id} has no value {value_id!r}; valid values: {valid}")

    def check(self, value: str | None) -> None:
        """Raise ``KeyError`` unless ``value`` is a valid choice here (``None`` always is)."""
        if value is None:
            return
        if self.free_form:
            if not value.strip():
                raise KeyError(f"{self.id} is free-form: its value must be non-empty text")
            return
        self.value(value)

    def render_question(self, value: str | None = None) -> str:
        """The question checking this control, for a value id (or free text) or none."""
        if value is None:
            return self.question.unspecified
        text = value if self.free_form else self.value(value).text
        return self.question.value.replace(VALUE_SLOT, text)


class Group(_Frozen):
    """An inner node grouping related controls, e.g. Camera → Extrinsics."""

    kind: Literal["group"] = "group"
    id: str
    name: str
    definition: str
    children: tuple[Group | Leaf, ...]
    provenance: Provenance = "designed"


class Axis(_Frozen):
    """One of the four top-level axes: Setup, Events, Lighting, Camera."""

    kind: Literal["axis"] = "axis"
    id: str
    name: str
    definition: str
    children: tuple[Group | Leaf, ...]
    provenance: Provenance = "paper"


Node = Axis | Group | Leaf

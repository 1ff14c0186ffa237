"""Writing scripts and upsampled prompts from a cast, controls and clause data.

The composer states every control with one clause of its value (see ``_realizations``), so
the controls recorded for a prompt are exactly what its text says. All choices come from the
``random.Random`` passed in: the same cast, controls and generator state give the same text.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scine.records import Control
from scine.taxonomy import Taxonomy

from ._realizations import FREE_FORM_KEY, Realizations, fill, slots_of

TEMPORAL = "events.portrayal.temporal"
CONTEXTUAL = "events.portrayal.contextual"
DIALOGUE = "events.types.dialogue.structure"
DELIVERY = "events.types.dialogue.delivery"
TEXT_CONTENT = "setup.text.content"
_ACTION_SLOTS = ("action", "action2")
_PRONOUNS = {"he": ("his", "him"), "she": ("her", "her"), "they": ("their", "them")}
_QUOTE_END = re.compile(r"[\"”]$")


@dataclass(frozen=True)
class Cast:
    """The people, place and business of one shot, from which scripts are written."""

    subject: str
    subject_intro: str
    pronoun: str
    where: str
    place: str
    object: str
    actions: tuple[str, ...]
    event: str
    line: str
    partner: str | None = None
    partner_intro: str | None = None


class CompositionError(ValueError):
    """A control cannot be stated for this cast (e.g. every clause needs a partner)."""


class Composer:
    """Writes prompt text that states exactly the given controls."""

    def __init__(self, taxonomy: Taxonomy, realizations: Realizations) -> None:
        self.taxonomy = taxonomy
        self.realizations = realizations
        self._order = {leaf.id: index for index, leaf in enumerate(taxonomy.leaves())}

    def script(self, cast: Cast, controls: Sequence[Control], rng: random.Random) -> str:
        """A one-shot script: the cast in its place, stating each control once."""
        writer = _Writer(cast, rng)
        by_node = {control.node: control for control in controls}
        lead = by_node.get(TEMPORAL) or by_node.get(CONTEXTUAL)
        if lead is None:
            body = "{subject} {action}"
            opening = (
                f"{body} {cast.where}" if rng.random() < 0.4 else f"{_cap(cast.where)}, {body}"
            )
        else:
            opening = f"{_cap(cast.where)}, {self._pick(lead, cast, rng)}"
        rest = [c for c in controls if c is not lead and c.node != DELIVERY]
        clauses = [opening, *self._clauses(self._arrange(rest, rng), by_node, cast, rng)]
        return writer.sentences(clauses)

    def visual(
        self, script: str, cast: Cast, controls: Sequence[Control], rng: random.Random
    ) -> str:
        """Structured upsampling: the script plus one clause per injected control.

        Clauses about the look of the shot (no character in them) may lead; clauses that
        name a character follow the script, which introduces them.
        """
        by_node = {control.node: control for control in controls}
        axes = sorted({c.node.split(".", 1)[0] for c in controls})
        rng.shuffle(axes)
        ordered = sorted(
            controls, key=lambda c: (axes.index(c.node.split(".", 1)[0]), self._order[c.node])
        )
        clauses = self._clauses(
            self._arrange([c for c in ordered if c.node != DELIVERY], None), by_node, cast, rng
        )
        lead: list[str] = []
        if rng.random() < 0.35:
            lead = [c for c in clauses if not slots_of(c) & {"subject", "partner"}]
        writer = _Writer(cast, rng, subject_known=True)
        before = writer.sentences(lead)
        after = writer.sentences([c for c in clauses if c not in lead])
        return " ".join(part for part in (before, script, after) if part)

    def _arrange(self, controls: Sequence[Control], rng: random.Random | None) -> list[Control]:
        """Shuffle (when given a generator), then put dependents after parents, dialogue last."""
        ordered = list(controls)
        if rng is not None:
            rng.shuffle(ordered)
        parents = [c for c in ordered if self.taxonomy.leaf(c.node).dependent_on is None]
        arranged: list[Control] = []
        for control in sorted(parents, key=lambda c: c.node == DIALOGUE):
            arranged.append(control)
            arranged += [
                c for c in ordered if self.taxonomy.leaf(c.node).dependent_on == control.node
            ]
        arranged += [c for c in ordered if c not in arranged]
        return arranged

    def _clauses(
        self,
        controls: Sequence[Control],
        by_node: Mapping[str, Control],
        cast: Cast,
        rng: random.Random,
    ) -> list[str]:
        clauses = []
        for control in controls:
            clause = self._pick(control, cast, rng)
            if control.node == DIALOGUE and DELIVERY in by_node:
                delivery = self._pick(by_node[DELIVERY], cast, rng)
                clause = clause.replace("{delivery}", f" {delivery}")
            if control.node == TEXT_CONTENT:
                clause = clause.replace("{text}", str(control.value))
            clauses.append(clause)
        return clauses

    def _pick(self, control: Control, cast: Cast, rng: random.Random) -> str:
        value = FREE_FORM_KEY if self.taxonomy.leaf(control.node).free_form else control.value
        clauses = self.realizations.for_value(control.node, value)
        usable = [c for c in clauses if cast.partner or "partner" not in slots_of(c)]
        if not usable:
            raise CompositionError(f"{control.node}={control.value} needs a partner in the cast")
        return rng.choice(usable)


class _Writer:
    """Fills clauses for one prompt, introducing subject and partner on first mention."""

    def __init__(self, cast: Cast, rng: random.Random, subject_known: bool = False) -> None:
        their, them = _PRONOUNS[cast.pronoun]
        self.actions = list(cast.actions)
        rng.shuffle(self.actions)
        self.next_action = 0
        line = cast.line if cast.line.endswith((".", "!", "?", "…")) else f"{cast.line}."
        self.cast = cast
        self.slots = {
            "subject": cast.subject,
            "partner": cast.partner or "",
            "object": cast.object,
            "place": cast.place,
            "their": their,
            "them": them,
            "event": cast.event,
            "line": line,
            "delivery": "",
        }
        self.subject_known = subject_known
        self.partner_known = False

    def sentences(self, clauses: Sequence[str]) -> str:
        """Each clause as a sentence: slots filled, capitalised, punctuated."""
        sentences = []
        for clause in clauses:
            text = _cap(fill(self._introduce(clause), self.slots))
            sentences.append(text if _QUOTE_END.search(text) else f"{text}.")
        return " ".join(sentences)

    def _introduce(self, clause: str) -> str:
        """Fresh seed actions for the clause's action slots; intro forms on first mention."""
        used = slots_of(clause)
        for slot in sorted(used & set(_ACTION_SLOTS)):
            action = self.actions[self.next_action % len(self.actions)]
            self.next_action += 1
            clause = clause.replace(f"{{{slot}}}", action)
        if "subject" in used and not self.subject_known:
            clause = clause.replace("{subject}", self.cast.subject_intro, 1)
            self.subject_known = True
        if "partner" in used and not self.partner_known and self.cast.partner_intro:
            clause = clause.replace("{partner}", self.cast.partner_intro, 1)
            self.partner_known = True
        return clause


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]

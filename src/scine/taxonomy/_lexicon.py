"""Matching text against the names people use for taxonomy nodes and values."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from ._nodes import Leaf, Node

Field = Literal["id", "name", "synonym", "value_id", "value_name", "value_synonym"]

_SEPARATORS = re.compile(r"[\s\-_/.,;:!?()\[\]\"'`’‘“”]+")
FUZZY_CUTOFF = 0.85
_FIELD_RANK: dict[str, int] = {
    "id": 0,
    "value_id": 1,
    "name": 2,
    "value_name": 2,
    "synonym": 3,
    "value_synonym": 3,
}


def normalize(text: str) -> str:
    """Lower-case, Unicode-folded text with punctuation and separators collapsed to spaces."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(part for part in _SEPARATORS.split(folded) if part)


@dataclass(frozen=True)
class Match:
    """A taxonomy node (and value, if one matched) found for a piece of text."""

    node: str
    value: str | None
    score: float
    matched: str
    field: Field

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


@dataclass(frozen=True)
class Spot:
    """A phrase of the lexicon found in a text, with every (leaf, value) it can stand for.

    ``start`` and ``end`` index the normalized tokens of the text (``normalize(text).split()``).
    """

    phrase: str
    start: int
    end: int
    targets: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class _Entry:
    phrase: str
    display: str
    node: str
    value: str | None
    field: Field
    is_leaf: bool


class Lexicon:
    """Every id, name and synonym of the taxonomy, normalized for matching."""

    def __init__(self, entries: Iterable[_Entry]) -> None:
        self.entries = tuple(entries)
        self._by_phrase: dict[str, list[_Entry]] = {}
        for entry in self.entries:
            self._by_phrase.setdefault(entry.phrase, []).append(entry)
        self._spottable: dict[str, list[tuple[str, ...]]] = {}
        for phrase, entries in self._by_phrase.items():
            if any(entry.is_leaf and entry.field not in ("id", "value_id") for entry in entries):
                tokens = tuple(phrase.split())
                self._spottable.setdefault(tokens[0], []).append(tokens)
        for candidates in self._spottable.values():
            candidates.sort(key=len, reverse=True)

    @classmethod
    def from_nodes(cls, nodes: Iterable[Node]) -> Lexicon:
        """Index the ids, names and synonyms of nodes and of their values."""
        return cls(entry for node in nodes for entry in _entries(node))

    def exact(self, text: str) -> list[Match]:
        """Entries whose id, name or synonym equals the text, ignoring case and punctuation."""
        found = [_match(entry, 1.0) for entry in self._by_phrase.get(normalize(text), [])]
        return _best_per_target(found, limit=None)

    def spot(self, text: str) -> list[Spot]:
        """Every leaf or value name or synonym written in the text, in order of position.

        Matching is on whole normalized tokens, so "pans left" is found in "The camera pans
        left slowly" but "pan" is not found in "panorama". A phrase lying inside a longer one
        found ("camera moves" in "camera moves slowly") is not reported. Phrases that overlap
        otherwise are both reported when they name different leaves ("handheld camera" and
        "camera follows" in "handheld camera follows"); when they name the same leaf they are
        one mention, and the one naming a value stands, else the first ("comes into focus",
        not "focus out", in "comes into focus out of a blur").
        """
        tokens = normalize(text).split()
        spots: list[Spot] = []
        reach = 0
        for index, token in enumerate(tokens):
            for candidate in self._spottable.get(token, ()):
                end = index + len(candidate)
                if tuple(tokens[index:end]) == candidate:
                    if end > reach:
                        phrase = " ".join(candidate)
                        _add_spot(spots, Spot(phrase, index, end, self._targets(phrase)))
                        reach = end
                    break
        return spots

    def _targets(self, phrase: str) -> tuple[tuple[str, str | None], ...]:
        targets = {
            (entry.node, entry.value)
            for entry in self._by_phrase[phrase]
            if entry.is_leaf and entry.field not in ("id", "value_id")
        }
        return tuple(sorted(targets, key=lambda target: (target[0], target[1] or "")))

    def search(self, text: str, limit: int | None = 10, leaves_only: bool = True) -> list[Match]:
        """Leaf (and value) matches for free text, best first.

        Scores: 1.0 for an exact match; a close spelling of the whole text (a typo) 0.9 times
        its similarity; a phrase found whole inside the text 0.5-0.9 by how much of the text
        it covers; the text found inside a longer phrase 0.3-0.7. Each (node, value) appears
        once, with its best score.
        """
        query = normalize(text)
        if not query:
            return []
        padded_query = f" {query} "
        found: list[Match] = []
        for entry in self.entries:
            if leaves_only and not entry.is_leaf:
                continue
            score = _score(query, padded_query, entry.phrase)
            if score > 0:
                found.append(_match(entry, score))
        return _best_per_target(found, limit)


def _add_spot(spots: list[Spot], spot: Spot) -> None:
    """Append a spot, or let it replace (or yield to) an overlapping one of the same leaf."""
    for position in range(len(spots) - 1, -1, -1):
        held = spots[position]
        if held.end <= spot.start:
            break
        shared = _leaves(held) & _leaves(spot)
        if shared:
            if any(_names_value(spot, leaf) and not _names_value(held, leaf) for leaf in shared):
                del spots[position]
                spots.append(spot)
            return
    spots.append(spot)


def _leaves(spot: Spot) -> set[str]:
    return {node for node, _ in spot.targets}


def _names_value(spot: Spot, leaf: str) -> bool:
    return any(node == leaf and value is not None for node, value in spot.targets)


def _entries(node: Node) -> Iterable[_Entry]:
    is_leaf = isinstance(node, Leaf)
    named: list[tuple[str, Field, str | None]] = [(node.id, "id", None), (node.name, "name", None)]
    if isinstance(node, Leaf):
        named += [(synonym, "synonym", None) for synonym in node.synonyms]
        for value in node.values:
            named.append((f"{node.id}.{value.id}", "value_id", value.id))
            named.append((value.name, "value_name", value.id))
            named += [(synonym, "value_synonym", value.id) for synonym in value.synonyms]
    for text, field, value_id in named:
        phrase = normalize(text)
        if phrase:
            yield _Entry(phrase, text, node.id, value_id, field, is_leaf)


def _score(query: str, padded_query: str, phrase: str) -> float:
    if phrase == query:
        return 1.0
    if f" {phrase} " in padded_query:
        return 0.5 + 0.4 * len(phrase) / len(query)
    if f" {query} " in f" {phrase} ":
        return 0.3 + 0.4 * len(query) / len(phrase)
    ratio = difflib.SequenceMatcher(None, query, phrase, autojunk=False).ratio()
    return 0.9 * ratio if ratio >= FUZZY_CUTOFF else 0.0


def _match(entry: _Entry, score: float) -> Match:
    return Match(entry.node, entry.value, round(score, 4), entry.display, entry.field)


def _best_per_target(matches: list[Match], limit: int | None) -> list[Match]:
    best: dict[tuple[str, str | None], Match] = {}
    for match in matches:
        key = (match.node, match.value)
        held = best.get(key)
        if held is None or _rank(match) < _rank(held):
            best[key] = match
    ranked = sorted(best.values(), key=_rank)
    return ranked if limit is None else ranked[:limit]


def _rank(match: Match) -> tuple[float, int, int, str, str]:
    specificity = 0 if match.value is not None else 1
    return (-match.score, specificity, _FIELD_RANK[match.field], match.node, match.value or "")

"""Turn any prompt into taxonomy categories (leaf, value), each with one targeted question.

Two categorizers share one interface:

- ``OfflineCategorizer``: finds the names and synonyms of leaves and values written in the
  prompt (``Taxonomy.spot``); when a phrase can stand for several controls, the sentence
  embedding of its clause picks the closest; optionally, clauses that name no control are
  matched to values by embedding similarity (catching paraphrases such as "the view swings
  to the left").
- ``LLMCategorizer`` (in ``llm_categorize``): an LLM reads the taxonomy and the prompt; every
  id it returns is validated and invalid ones are re-asked, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol

from scine.taxonomy import Taxonomy

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from .semantic import Embedder

Source = Literal["lexicon", "semantic", "llm"]
Progress = Callable[[int], None]

SEMANTIC_THRESHOLD = 0.725
"""Least cosine similarity for a clause to count as naming a value it does not spell out
(chosen with benchmarks/semantic_threshold.py; see docs/benchmarks.md)."""

_QUOTED = re.compile(r"[\"“][^\"”]*[\"”]")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")
_CLAUSE_BREAK = re.compile(r"[.!?;:,]+(?:\s+|$)")


@dataclass(frozen=True)
class Category:
    """One control a prompt specifies, with the question that checks it."""

    node: str
    value: str | None
    question: str
    source: Source
    evidence: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


class Categorizer(Protocol):
    """Anything that maps prompts to categories."""

    name: str

    def categorize(
        self, texts: Sequence[str], progress: Progress | None = None
    ) -> list[list[Category]]:
        """Categories of each text, in taxonomy order, at most one per leaf."""
        ...


def sentences(text: str) -> list[str]:
    """The sentences of a prompt, spoken lines removed (their words are not directions).

    A period ends a sentence only before white space, so "f/1.4" and "1.85:1" stay whole.
    """
    parts = _SENTENCE_BREAK.split(_QUOTED.sub("\n", text))
    return [part.strip() for part in parts if part.strip()]


def clauses(sentence: str) -> list[str]:
    """The clauses of a sentence: split at commas, semicolons and colons before a space."""
    return [part.strip() for part in _CLAUSE_BREAK.split(sentence) if part.strip()]


class OfflineCategorizer:
    """Lexicon spotting, with embeddings to resolve ambiguity and catch paraphrases."""

    def __init__(
        self,
        taxonomy: Taxonomy,
        embedder: Embedder | None = None,
        semantic: bool = True,
        threshold: float = SEMANTIC_THRESHOLD,
    ) -> None:
        self.taxonomy = taxonomy
        self.embedder = embedder
        self.semantic = semantic and embedder is not None
        self.threshold = threshold
        self.name = f"offline+{embedder.name}" if embedder is not None else "offline"
        self._order = {leaf.id: index for index, leaf in enumerate(taxonomy.leaves())}
        self._targets: list[tuple[str, str]] = []
        self._target_vectors: npt.NDArray[np.float32] | None = None
        if embedder is not None:
            self._index(embedder)

    def _index(self, embedder: Embedder) -> None:
        """Embed every value's name and synonyms (with its leaf's name) and its definition."""
        texts: list[str] = []
        for leaf in self.taxonomy.leaves():
            for value in leaf.values:
                named = [f"{text} ({leaf.name.lower()})" for text in (value.name, *value.synonyms)]
                for text in (*named, value.definition):
                    self._targets.append((leaf.id, value.id))
                    texts.append(text)
        self._target_vectors = embedder.encode(texts)

    def categorize(
        self, texts: Sequence[str], progress: Progress | None = None
    ) -> list[list[Category]]:
        """Categories of each text (see the module docstring).

        Names and synonyms are found per sentence (the sentence's embedding resolves a phrase
        that can stand for several controls); embeddings match per clause.
        """
        split = [[(sentence, clauses(sentence)) for sentence in sentences(text)] for text in texts]
        units = [unit for parts in split for sentence, part in parts for unit in (sentence, *part)]
        similarity = self._similarities(units) if self.embedder is not None else None
        unit = iter(range(len(units)))
        results = []
        for done, (text, parts) in enumerate(zip(texts, split, strict=True), start=1):
            found: dict[str, Category] = {}
            for sentence, sentence_clauses in parts:
                scores = None if similarity is None else similarity[next(unit)]
                for category in self._spot(sentence, scores):
                    self._keep(found, category)
                for clause in sentence_clauses:
                    scores = None if similarity is None else similarity[next(unit)]
                    if self.semantic and scores is not None:
                        for category in self._match(clause, scores):
                            self._keep(found, category)
            categories = [self._with_quoted_text(text, c) for c in found.values()]
            results.append(sorted(categories, key=lambda c: self._order[c.node]))
            if progress is not None:
                progress(done)
        return results

    def _with_quoted_text(self, text: str, category: Category) -> Category:
        """A free-form leaf (on-screen words) takes the quoted text that follows its phrase."""
        if category.value is not None or not self.taxonomy.leaf(category.node).free_form:
            return category
        words = [re.escape(word) for word in category.evidence.split()]
        phrase = re.search(r"\W+".join(words), text, re.IGNORECASE) if words else None
        quoted = _QUOTED.search(text, phrase.end()) if phrase else None
        if quoted is None or phrase is None or quoted.start() - phrase.end() > 3:
            return category
        value = quoted.group(0)[1:-1].strip()
        if not value:
            return category
        question = self.taxonomy.leaf(category.node).render_question(value)
        return replace(category, value=value, question=question)

    def _similarities(self, units: list[str]) -> npt.NDArray[np.float32]:
        import numpy as np

        assert self.embedder is not None
        assert self._target_vectors is not None
        if not units:
            return np.zeros((0, len(self._targets)), dtype=np.float32)
        scores: npt.NDArray[np.float32] = self.embedder.encode(units) @ self._target_vectors.T
        return scores

    def _spot(self, clause: str, scores: npt.NDArray[np.float32] | None) -> list[Category]:
        found = []
        for spot in self.taxonomy.spot(clause):
            node, value = self._resolve(spot.targets, scores)
            score = 1.0 if len(spot.targets) == 1 else 0.5
            found.append(self._category(node, value, "lexicon", spot.phrase, score))
        return found

    def _resolve(
        self, targets: Sequence[tuple[str, str | None]], scores: npt.NDArray[np.float32] | None
    ) -> tuple[str, str | None]:
        if len(targets) == 1 or scores is None:
            return min(targets, key=lambda t: (t[1] is None, self._order[t[0]]))
        best = dict.fromkeys(targets, -1.0)
        for index, target in enumerate(self._targets):
            if target in best:
                best[target] = max(best[target], float(scores[index]))
        return max(targets, key=lambda t: (best.get(t, -1.0), t[1] is not None))

    def _match(self, clause: str, scores: npt.NDArray[np.float32]) -> list[Category]:
        index = int(scores.argmax())
        if float(scores[index]) < self.threshold:
            return []
        node, value = self._targets[index]
        return [self._category(node, value, "semantic", clause, float(scores[index]))]

    def _category(
        self, node: str, value: str | None, source: Source, evidence: str, score: float
    ) -> Category:
        question = self.taxonomy.leaf(node).render_question(value)
        return Category(node, value, question, source, evidence, round(score, 4))

    @staticmethod
    def _keep(found: dict[str, Category], category: Category) -> None:
        held = found.get(category.node)
        if held is None or (held.value is None and category.value is not None):
            found[category.node] = category

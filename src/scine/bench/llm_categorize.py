"""The LLM categorizer: the taxonomy in the prompt, every returned id validated and re-asked."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from scine.llm import JsonLLM, JsonTask
from scine.taxonomy import Taxonomy

from .categorize import Category, Progress
from .templates import describe_taxonomy, render


class LLMCategory(BaseModel):
    """One category as the LLM returns it."""

    node: str
    value: str | None = None
    question: str = Field(min_length=1)


class LLMCategories(BaseModel):
    """The LLM's reply for one prompt."""

    categories: list[LLMCategory]


class LLMCategorizer:
    """Categories and questions written by an LLM; unknown ids are re-asked, never dropped."""

    def __init__(self, llm: JsonLLM, taxonomy: Taxonomy) -> None:
        self.llm = llm
        self.taxonomy = taxonomy
        self.name = llm.name
        self._listing = describe_taxonomy(taxonomy)
        self._order = {leaf.id: index for index, leaf in enumerate(taxonomy.leaves())}

    def categorize(
        self, texts: Sequence[str], progress: Progress | None = None
    ) -> list[list[Category]]:
        """Categories of each text; a prompt whose reply stays invalid raises ``ValueError``."""
        tasks = [
            JsonTask(
                messages=render("categorize", taxonomy=self._listing, prompt=text),
                output=LLMCategories,
                check=self.problems,
            )
            for text in texts
        ]
        results = []
        for text, outcome in zip(texts, self.llm.run(tasks, progress), strict=True):
            if outcome.value is None:
                raise ValueError(
                    f"the LLM gave no valid categories for {text[:60]!r}: {outcome.error}"
                )
            found: dict[str, Category] = {}
            for item in outcome.value.categories:
                found.setdefault(
                    item.node, Category(item.node, item.value, item.question, "llm", text, 1.0)
                )
            results.append(sorted(found.values(), key=lambda c: self._order[c.node]))
        return results

    def problems(self, reply: LLMCategories) -> list[str]:
        """Every id in the reply that is not a leaf or not a value of its leaf."""
        problems = []
        for index, item in enumerate(reply.categories):
            try:
                self.taxonomy.check_control(item.node, item.value)
            except KeyError as exc:
                problems.append(f"categories[{index}]: {exc.args[0]}")
        return problems

"""One question per (prompt, leaf): about that control only, with its value when named."""

from __future__ import annotations

from collections.abc import Sequence

from scine.records import Control, Prompt, Question
from scine.taxonomy import Taxonomy


def question_id(prompt_id: str, node: str) -> str:
    """The stable id of the question about ``node`` for ``prompt_id``."""
    return f"{prompt_id}/{node}"


def questions_for(
    prompt: Prompt, taxonomy: Taxonomy, controls: Sequence[Control] | None = None
) -> list[Question]:
    """Questions for the prompt's controls (or the given ones), one per leaf, in order given.

    When a leaf appears twice, the first control decides its value.
    """
    questions: dict[str, Question] = {}
    for control in prompt.controls if controls is None else controls:
        if control.node in questions:
            continue
        leaf = taxonomy.leaf(control.node)
        questions[control.node] = Question(
            id=question_id(prompt.id, control.node),
            prompt_id=prompt.id,
            node=control.node,
            value=control.value,
            text=leaf.render_question(control.value),
        )
    return list(questions.values())

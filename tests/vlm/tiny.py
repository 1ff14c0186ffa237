"""A tiny random Qwen2.5-VL saved to a folder, with a tokenizer trained on our own texts."""

from __future__ import annotations

from pathlib import Path

from scine.judge.vlm import Ask, instruction, question_text
from scine.taxonomy import load_taxonomy
from scine.vlm.random_model import save_random_model


def corpus() -> list[str]:
    """The instruction and every leaf's question and definition: what the judge will say."""
    taxonomy = load_taxonomy()
    texts = [instruction(), question_text(Ask("a prompt", "a control", "a question"))]
    for leaf in taxonomy.leaves():
        texts += [leaf.definition, leaf.render_question()]
    return texts


def tiny_model_folder(folder: Path) -> Path:
    """Save the tiny model and its tokenizer under ``folder``."""
    return save_random_model(folder, corpus(), shape="tiny")

"""The offline composer: deterministic, seeded prompt writing from phrase data, no model.

``Composer.script`` writes a one-shot script from a cast (subject, place, actions, a line)
and sampled controls; ``Composer.visual`` upsamples a script with more controls. Each control
is stated by one clause of the packaged phrase data, so the text states exactly the controls
recorded for it.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from ._compose import Cast, Composer, CompositionError
from ._realizations import (
    RealizationError,
    Realizations,
    check_realizations,
    load_realizations,
    packaged_realizations,
)

__all__ = [
    "Cast",
    "Composer",
    "CompositionError",
    "RealizationError",
    "Realizations",
    "check_realizations",
    "load_realizations",
    "packaged_on_screen_texts",
    "packaged_realizations",
]


@cache
def packaged_on_screen_texts() -> tuple[str, ...]:
    """Short texts for signs, notes and title cards (the free-form on-screen text control)."""
    path = Path(str(resources.files("scine.llm.composer") / "data" / "on_screen_texts.yaml"))
    texts = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(str(text) for text in texts)

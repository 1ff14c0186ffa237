"""Seeded sampling of leaf controls with values, within axes and respecting dependencies."""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence

from ._nodes import Leaf


def sample_leaves(
    leaves: Sequence[Leaf], k: int, rng: random.Random, exclude: Collection[str] = ()
) -> list[Leaf]:
    """Pick ``k`` distinct leaves; a dependent leaf comes only together with its parent.

    The result keeps the order of ``leaves``. A dependent leaf whose parent is not among
    ``leaves`` (or is excluded) is never picked.
    """
    pool = [leaf for leaf in leaves if leaf.id not in exclude]
    pool_ids = {leaf.id for leaf in pool}
    eligible = [leaf for leaf in pool if leaf.dependent_on is None or leaf.dependent_on in pool_ids]
    if not 0 <= k <= len(eligible):
        raise ValueError(f"cannot sample {k} leaves from {len(eligible)} eligible leaves")
    order = list(eligible)
    rng.shuffle(order)
    chosen: set[str] = set()
    progress = True
    while len(chosen) < k and progress:
        progress = False
        for leaf in order:
            if len(chosen) == k:
                break
            if leaf.id in chosen:
                continue
            needed = {leaf.id}
            if leaf.dependent_on is not None:
                needed.add(leaf.dependent_on)
            if len(chosen | needed) <= k:
                chosen |= needed
                progress = True
    return [leaf for leaf in eligible if leaf.id in chosen]


def sample_value(leaf: Leaf, rng: random.Random) -> str | None:
    """A uniformly chosen value id of the leaf, or ``None`` for a free-form leaf."""
    return rng.choice(leaf.values).id if leaf.values else None

"""How varied a prompt set is: lexical diversity and a 2-D map of its embeddings.

- ``ttr``: type-token ratio of each prompt, averaged over prompts.
- ``distinct_1`` / ``distinct_2``: distinct unigrams / bigrams over all unigrams / bigrams of
  the set. They fall as a set grows, so sets are compared at the same size (``sample``);
  ``distinct_*_at_tokens`` count over the first ``budget`` words only, which also removes
  the effect of prompt length (long prompts make a set look less diverse per prompt).
- ``jaccard``: mean Jaccard similarity of the word sets of all pairs of prompts (lower is
  more diverse).
- ``embedding_map``: t-SNE of sentence embeddings of several sets together, as a PNG.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .semantic import Embedder

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def words(text: str) -> list[str]:
    """Lower-case word tokens."""
    return _WORD.findall(text.lower())


def sample(texts: Sequence[str], size: int, seed: int = 0) -> list[str]:
    """A seeded random subset of ``size`` texts (all of them when there are fewer)."""
    if len(texts) <= size:
        return list(texts)
    return random.Random(seed).sample(list(texts), size)


def lexical_diversity(texts: Sequence[str], budget: int | None = None) -> dict[str, float]:
    """Type-token ratio, distinct-1/2 and mean pairwise Jaccard of a set of prompts."""
    import numpy as np
    from scipy import sparse

    tokenized = [words(text) for text in texts]
    tokenized = [tokens for tokens in tokenized if tokens]
    if len(tokenized) < 2:
        raise ValueError("diversity needs at least 2 non-empty prompts")
    unigrams = [token for tokens in tokenized for token in tokens]
    bigrams = [pair for tokens in tokenized for pair in pairwise(tokens)]
    vocabulary: dict[str, int] = {}
    rows, cols = [], []
    for row, tokens in enumerate(tokenized):
        for token in set(tokens):
            rows.append(row)
            cols.append(vocabulary.setdefault(token, len(vocabulary)))
    matrix = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)),
        shape=(len(tokenized), len(vocabulary)),
    )
    shared = (matrix @ matrix.T).toarray()
    sizes = np.asarray(matrix.sum(axis=1)).ravel()
    union = sizes[:, None] + sizes[None, :] - shared
    upper = np.triu_indices(len(tokenized), k=1)
    report = {
        "prompts": float(len(tokenized)),
        "mean_words": round(len(unigrams) / len(tokenized), 2),
        "ttr": round(float(np.mean([len(set(t)) / len(t) for t in tokenized])), 4),
        "distinct_1": round(len(set(unigrams)) / len(unigrams), 4),
        "distinct_2": round(len(set(bigrams)) / max(len(bigrams), 1), 4),
        "jaccard": round(float(np.mean(shared[upper] / union[upper])), 4),
    }
    if budget is not None:
        report["tokens"] = float(budget)
        report.update(_distinct_within(tokenized, budget))
    return report


def _distinct_within(tokenized: Sequence[list[str]], budget: int) -> dict[str, float]:
    """Distinct-1/2 over the first ``budget`` words (whole prompts, the last one cut)."""
    unigrams: list[str] = []
    bigrams: list[tuple[str, str]] = []
    for tokens in tokenized:
        take = tokens[: budget - len(unigrams)]
        unigrams += take
        bigrams += pairwise(take)
        if len(unigrams) >= budget:
            break
    return {
        "distinct_1_at_tokens": round(len(set(unigrams)) / len(unigrams), 4),
        "distinct_2_at_tokens": round(len(set(bigrams)) / max(len(bigrams), 1), 4),
    }


def embedding_map(
    sets: Mapping[str, Sequence[str]], embedder: Embedder, out: Path, seed: int = 0
) -> dict[str, Any]:
    """Embed every set, project them together with t-SNE, and save a scatter plot as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from sklearn.manifold import TSNE

    names = [name for name, texts in sets.items() for _ in texts]
    texts = [text for group in sets.values() for text in group]
    if len(texts) < 5:
        raise ValueError("an embedding map needs at least 5 prompts")
    vectors = embedder.encode(texts)
    perplexity = float(min(30, max(2, (len(texts) - 1) // 3)))
    points = TSNE(
        n_components=2, perplexity=perplexity, init="pca", random_state=seed
    ).fit_transform(vectors)
    figure, axes = plt.subplots(figsize=(8, 7), dpi=120)
    for name in sets:
        mask = np.array([label == name for label in names])
        axes.scatter(
            points[mask, 0], points[mask, 1], s=6, alpha=0.6, label=f"{name} ({mask.sum()})"
        )
    axes.set_title("Prompt embeddings (all-MiniLM-L6-v2, t-SNE)")
    axes.set_xticks([])
    axes.set_yticks([])
    axes.legend(markerscale=3, fontsize=8, loc="best")
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    plt.close(figure)
    return {"path": str(out), "points": len(texts), "perplexity": perplexity, "seed": seed}

"""Choose the offline categorizer's semantic threshold on hand-written paraphrases.

    .venv/bin/python benchmarks/semantic_threshold.py

benchmarks/data/paraphrases.jsonl holds sentences we wrote that state one intended control in
everyday words (mostly avoiding the taxonomy's names and synonyms) and plain sentences with
no intended control. Only the intended control is annotated (a sentence may rightly name
others, e.g. "a kitchen"), so the script reports, per threshold: the recall of the intended
controls, and how many categories the embeddings add that were not intended (an upper bound
on their false positives). The external prompt sets are not used here: they are kept for
measurement only.
"""

from __future__ import annotations

import json
from pathlib import Path

from scine.bench.categorize import OfflineCategorizer
from scine.bench.semantic import Embedder
from scine.taxonomy import load_taxonomy

DATA = Path(__file__).parent / "data" / "paraphrases.jsonl"
THRESHOLDS = [round(0.55 + 0.025 * step, 3) for step in range(13)]


def main() -> None:
    """Print precision/recall per threshold as JSON lines."""
    items = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    texts = [item["text"] for item in items]
    truth = [{node for node, _ in item["controls"]} for item in items]
    categorizer = OfflineCategorizer(load_taxonomy(), Embedder())
    for threshold in [*THRESHOLDS, None]:
        categorizer.semantic = threshold is not None
        categorizer.threshold = threshold or 1.0
        found = categorizer.categorize(texts)
        hits = total = added = 0
        for expected, categories in zip(truth, found, strict=True):
            guessed = {c.node for c in categories}
            hits += len(expected & guessed)
            total += len(expected)
            added += sum(c.source == "semantic" and c.node not in expected for c in categories)
        row = {
            "threshold": threshold if threshold is not None else "lexicon only",
            "intended_recall": round(hits / total, 3),
            "unintended_from_embeddings": added,
            "sentences": len(items),
        }
        print(json.dumps(row))


if __name__ == "__main__":
    main()

"""Check clause files: ``python -m scine.llm.composer.check FILE [FILE ...]``."""

from __future__ import annotations

import sys
from pathlib import Path

from scine.taxonomy import load_taxonomy

from ._realizations import check_realizations, load_realizations


def main(argv: list[str]) -> int:
    """Print every problem in the given clause files; exit 1 if there are any."""
    paths = [Path(arg) for arg in argv]
    realizations = load_realizations(paths)
    axes = {leaf.split(".", 1)[0] for leaf, _ in realizations.clauses}
    problems = check_realizations(realizations, load_taxonomy(), axes)
    for problem in problems:
        print(problem)
    print(f"{len(realizations.clauses)} values, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

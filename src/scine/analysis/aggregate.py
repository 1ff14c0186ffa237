"""Mean scores per model and category, with 95% intervals from a prompt-clustered bootstrap.

An item is one (video, question), scored by the mean of its votes. A category's score for a
model is the mean over its items. The bootstrap resamples *prompts* with replacement (every
item of a drawn prompt comes along, as often as the prompt is drawn), so items of one prompt,
which share its difficulty, are never treated as independent. All categories of one
resample use the same drawn prompts. Intervals are percentile intervals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

# scope -> the items column holding its key (None: one key, "all")
SCOPE_COLUMNS: dict[str, str | None] = {
    "overall": None,
    "axis": "axis",
    "group": "group",
    "leaf": "node",
    "value": "node_value",
    "genre": "genre",
    "difficulty": "difficulty",
    "role": "role",
    "temporal": "temporal",
    "split": "split",
}
CHUNK = 64
"""Bootstrap resamples computed at once (bounds memory: CHUNK x items floats)."""


def category_scores(
    items: pd.DataFrame, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> pd.DataFrame:
    """The ``scores`` frame of ``results.py`` (see there for the columns)."""
    import numpy as np
    import pandas as pd
    from scipy import sparse

    frame = items.assign(
        node_value=np.where(items["value"] != "", items["node"] + "=" + items["value"], "")
    )
    cells, members = _cells(frame)
    matrix = sparse.csr_matrix((np.ones(len(members[0])), members), shape=(len(frame), len(cells)))
    scores = frame["score"].to_numpy(dtype=float)
    totals = np.asarray(matrix.sum(axis=0)).ravel()
    means = (scores @ matrix) / totals
    prompt_codes, prompts = pd.factorize(frame["prompt_id"], sort=True)
    pairs = pd.DataFrame({"cell": members[1], "prompt": prompt_codes[members[0]]})
    prompt_counts = pairs.drop_duplicates().groupby("cell").size().reindex(range(len(cells)))
    low, high = _bootstrap(scores, matrix, prompt_codes, len(prompts), n_boot, seed, level)
    alone = (prompt_counts < 2).to_numpy()  # resampling one prompt shows no spread: no interval
    low, high = np.where(alone, np.nan, low), np.where(alone, np.nan, high)
    result = cells.assign(
        mean=means,
        ci_low=low,
        ci_high=high,
        items=totals.astype(int),
        prompts=prompt_counts.to_numpy(dtype=int),
    )
    for column in ("mean", "ci_low", "ci_high"):
        result[column.replace("mean", "mean01").replace("ci_", "ci01_")] = (result[column] - 1) / 4
    return result[
        [
            "scope",
            "key",
            "model",
            "mean",
            "ci_low",
            "ci_high",
            "mean01",
            "ci01_low",
            "ci01_high",
            "items",
            "prompts",
        ]
    ]


def _cells(
    frame: pd.DataFrame,
) -> tuple[pd.DataFrame, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """Every (scope, key, model) cell with items, and the (item row, cell) memberships."""
    import numpy as np
    import pandas as pd

    cell_frames = []
    rows: list[npt.NDArray[np.int64]] = []
    cols: list[npt.NDArray[np.int64]] = []
    offset = 0
    positions = np.arange(len(frame))
    for scope, column in SCOPE_COLUMNS.items():
        keys = frame[column] if column is not None else pd.Series("all", index=frame.index)
        present = (keys != "").to_numpy()
        labels = keys[present].astype(str) + "\x00" + frame.loc[present, "model"].astype(str)
        codes, uniques = pd.factorize(labels, sort=True)
        split = [label.split("\x00") for label in uniques]
        cell_frames.append(
            pd.DataFrame(
                {"scope": scope, "key": [s[0] for s in split], "model": [s[1] for s in split]}
            )
        )
        rows.append(positions[present])
        cols.append(codes.astype(np.int64) + offset)
        offset += len(uniques)
    return pd.concat(cell_frames, ignore_index=True), (np.concatenate(rows), np.concatenate(cols))


def _bootstrap(
    scores: npt.NDArray[np.float64],
    matrix: object,
    prompt_codes: npt.NDArray[np.int64],
    n_prompts: int,
    n_boot: int,
    seed: int,
    level: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    import numpy as np

    cells = matrix.shape[1]  # type: ignore[attr-defined]
    if n_boot <= 0:
        empty = np.full(cells, np.nan)
        return empty, empty.copy()
    rng = np.random.default_rng(seed)
    replicates = np.empty((n_boot, cells))
    for start in range(0, n_boot, CHUNK):
        size = min(CHUNK, n_boot - start)
        weights = rng.multinomial(n_prompts, np.full(n_prompts, 1.0 / n_prompts), size=size)
        item_weights = weights[:, prompt_codes].astype(float)
        numerator = (matrix.T @ (item_weights * scores).T).T  # type: ignore[attr-defined]
        denominator = (matrix.T @ item_weights.T).T  # type: ignore[attr-defined]
        with np.errstate(invalid="ignore", divide="ignore"):
            replicates[start : start + size] = numerator / denominator
    tail = (1 - level) / 2 * 100
    low = np.nanpercentile(replicates, tail, axis=0)
    high = np.nanpercentile(replicates, 100 - tail, axis=0)
    return low, high

"""Category scores: exact means, prompt-clustered bootstrap intervals."""

from __future__ import annotations

import pandas as pd
import pytest

from scine.analysis.aggregate import category_scores
from scine.analysis.table import group_of


def items(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    """(prompt, model, node, score) rows as an items frame."""
    frame = pd.DataFrame(rows, columns=["prompt_id", "model", "node", "score"])
    frame["axis"] = frame["node"].str.split(".").str[0]
    frame["group"] = frame["node"].map(group_of)
    frame["value"] = ["pan_left" if n.endswith("movement") else "" for n in frame["node"]]
    for column in ("genre", "role", "temporal"):
        frame[column] = ""
    frame["difficulty"] = "basic"
    frame["split"] = "visuals"
    frame["score01"] = (frame["score"] - 1) / 4
    return frame


TOY = items(
    [
        ("p1", "a", "camera.trajectory.movement", 5.0),
        ("p1", "a", "lighting.source.type", 3.0),
        ("p2", "a", "camera.trajectory.movement", 1.0),
        ("p1", "b", "camera.trajectory.movement", 2.0),
        ("p2", "b", "camera.trajectory.movement", 4.0),
    ]
)


def cell(scores: pd.DataFrame, scope: str, key: str, model: str) -> pd.Series:
    return scores.set_index(["scope", "key", "model"]).loc[(scope, key, model)]


def test_means_by_hand() -> None:
    scores = category_scores(TOY, n_boot=0)
    assert cell(scores, "overall", "all", "a")["mean"] == pytest.approx(3.0)
    assert cell(scores, "axis", "camera", "a")["mean"] == pytest.approx(3.0)
    assert cell(scores, "axis", "lighting", "a")["mean"] == pytest.approx(3.0)
    assert cell(scores, "value", "camera.trajectory.movement=pan_left", "b")[
        "mean"
    ] == pytest.approx(3.0)
    assert cell(scores, "leaf", "camera.trajectory.movement", "a")["items"] == 2
    assert cell(scores, "axis", "lighting", "a")["prompts"] == 1
    assert cell(scores, "overall", "all", "a")["mean01"] == pytest.approx(0.5)
    assert ("temporal", "", "a") not in set(
        zip(scores["scope"], scores["key"], scores["model"], strict=True)
    )
    assert pd.isna(cell(scores, "overall", "all", "a")["ci_low"])


def test_bootstrap_resamples_prompts_not_rows() -> None:
    # Model b: prompt p1 -> 2.0, p2 -> 4.0. Resampling the 2 prompts, a replicate mean is
    # 2, 3 or 4, so the interval spans [2, 4]; resampling rows would allow the same here,
    # but within prompt p1 model a's two items (5.0 and 3.0) always move together.
    scores = category_scores(TOY, n_boot=2000, seed=1)
    b = cell(scores, "overall", "all", "b")
    assert b["ci_low"] == pytest.approx(2.0)
    assert b["ci_high"] == pytest.approx(4.0)
    a = cell(scores, "overall", "all", "a")
    # a's replicates: p1 twice -> 4.0, p2 twice -> 1.0, once each -> 3.0
    assert a["ci_low"] == pytest.approx(1.0)
    assert a["ci_high"] == pytest.approx(4.0)


def test_a_category_of_one_prompt_has_no_interval() -> None:
    scores = category_scores(TOY, n_boot=200, seed=1)
    lighting = cell(scores, "axis", "lighting", "a")  # p1 only: nothing to resample
    assert lighting["prompts"] == 1
    assert pd.isna(lighting["ci_low"])
    assert pd.isna(lighting["ci_high"])
    assert not pd.isna(cell(scores, "axis", "camera", "a")["ci_low"])


def test_same_seed_same_intervals() -> None:
    first = category_scores(TOY, n_boot=200, seed=3)
    pd.testing.assert_frame_equal(first, category_scores(TOY, n_boot=200, seed=3))

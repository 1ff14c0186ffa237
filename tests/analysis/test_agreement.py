"""Pairwise agreement with the experts, on a study small enough to check by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from scine.analysis.agreement import AgreementError, agreement, model_scores
from scine.analysis.table import load_study, read_ratings
from scine.cli import app
from scine.records import Prompt, Question, Rating, Video, read_jsonl, write_jsonl

# Expert vote means per (prompt, model) and the rater's scores, as in the docstrings below.
EXPERTS = {"p1": {"A": 5.0, "B": 3.0, "C": 3.0}, "p2": {"A": 2.0, "B": 4.0, "C": 1.0}}
RATER = {"p1": {"A": 4.0, "B": 4.0, "C": 2.0}, "p2": {"A": 1.0, "B": 5.0, "C": 3.0}}
NODES = {
    "p1": ("camera.trajectory.movement", "pan_left"),
    "p2": ("lighting.conditions.key", "high"),
}


def video_id(prompt: str, model: str) -> str:
    return f"{model}/{prompt}"


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """Prompts p1 and p2 (different folds), one question each, models A, B, C, 3 experts
    whose votes average to ``EXPERTS``; the rater's scores in ``rater.jsonl``."""
    prompts = [Prompt(id=p, text=f"Shot {p}.", split="custom") for p in EXPERTS]
    questions = [
        Question(id=f"{p}-q", prompt_id=p, node=NODES[p][0], value=NODES[p][1], text="?")
        for p in EXPERTS
    ]
    form = {"fps": 24.0, "frames": 48, "width": 64, "height": 64}
    videos = [
        Video(id=video_id(p, m), prompt_id=p, model=m, path=f"{m}/{p}.mp4", **form)
        for p in EXPERTS
        for m in EXPERTS[p]
    ]
    votes = [
        Rating(
            video_id=video_id(p, m),
            question_id=f"{p}-q",
            rater=f"expert{r}",
            rater_kind="human",
            score=mean + offset,
        )
        for p, means in EXPERTS.items()
        for m, mean in means.items()
        for r, offset in enumerate((0.0, 0.0, 0.0) if mean in (1.0, 5.0) else (-1.0, 0.0, 1.0))
    ]
    rated = [
        Rating(
            video_id=video_id(p, m),
            question_id=f"{p}-q",
            rater="judge",
            rater_kind="model",
            score=score,
        )
        for p, scores in RATER.items()
        for m, score in scores.items()
    ]
    write_jsonl(tmp_path / "prompts.jsonl", prompts)
    write_jsonl(tmp_path / "questions.jsonl", questions)
    write_jsonl(tmp_path / "videos.jsonl", videos)
    write_jsonl(tmp_path / "ratings.jsonl", votes)
    write_jsonl(tmp_path / "rater.jsonl", rated)
    return tmp_path


def result(folder: Path) -> dict[str, object]:
    human = load_study(folder, rater_kind="human")
    return agreement(human, model_scores(read_ratings(folder / "rater.jsonl")))


def test_without_ties_by_hand(study: Path) -> None:
    # p1: A>B (rater ties: wrong), A>C (right), B=C (experts tie: dropped)
    # p2: B>A (right), A>C (rater says C: wrong), B>C (right)  -> 3 of 5
    figures = result(study)
    assert figures["pairs"] == 6
    assert figures["unscored_pairs"] == 0
    assert figures["without_ties"] == {
        "accuracy": 0.6,
        "pairs": 5,
        "expert_ties_dropped": 1,
        "rater_ties": 1,
    }
    assert figures["by_axis"] == {
        "camera": {"accuracy": 0.5, "pairs": 2},
        "lighting": {"accuracy": pytest.approx(2 / 3), "pairs": 3},
    }
    assert figures["by_node"]["lighting.conditions.key"]["pairs"] == 3  # type: ignore[index]
    assert figures["by_generator"] == {
        "A": {"accuracy": 0.5, "pairs": 4},
        "B": {"accuracy": pytest.approx(2 / 3), "pairs": 3},
        "C": {"accuracy": pytest.approx(2 / 3), "pairs": 3},
    }


def test_with_ties_threshold_comes_from_the_other_half(study: Path) -> None:
    # fitted on p2 (no expert ties): 0 is best; p1 at 0: AB tie (wrong), AC a (right),
    # BC a against an expert tie (wrong). Fitted on p1: 0 and 2 both get one right, the
    # smaller wins; p2 at 0: two right. 3 of 6.
    figures = result(study)["with_ties"]
    assert figures == {"accuracy": 0.5, "pairs": 6, "tie_thresholds": [0.0, 0.0]}


def test_pairs_without_a_rater_score_are_counted_not_scored(study: Path) -> None:
    kept = read_ratings(study / "rater.jsonl")
    kept = kept[kept["video_id"] != "C/p2"]
    figures = agreement(load_study(study, rater_kind="human"), model_scores(kept))
    assert figures["unscored_pairs"] == 2
    assert figures["without_ties"]["pairs"] == 3  # type: ignore[index]


def test_several_raters_need_a_choice(study: Path) -> None:
    ratings = read_ratings(study / "rater.jsonl")
    both = pd.concat([ratings, ratings.assign(rater="other")])
    with pytest.raises(AgreementError, match="several raters"):
        model_scores(both)
    assert len(model_scores(both, rater="other")) == 6
    with pytest.raises(AgreementError, match="no ratings by rater 'nobody'"):
        model_scores(both, rater="nobody")


def test_cli_agreement_json(study: Path) -> None:
    args = ["judge", "agreement", "--human", str(study), "--model", str(study / "rater.jsonl")]
    output = CliRunner().invoke(app, [*args, "--json"])
    assert output.exit_code == 0, output.output
    figures = json.loads(output.output)
    assert figures["without_ties"]["accuracy"] == 0.6


def test_cli_agreement_reports_the_negative_controls(study: Path) -> None:
    own = read_jsonl(study / "rater.jsonl", Rating)
    video = own[0].video_id
    swapped = [own[0].model_copy(update={"question_id": "elsewhere", "score": 1.0})]
    write_jsonl(study / "rater.swap.jsonl", swapped)
    args = ["judge", "agreement", "--human", str(study), "--model", str(study / "rater.jsonl")]
    output = CliRunner().invoke(app, [*args, "--controls", "--json"])
    assert output.exit_code == 0, output.output
    controls = json.loads(output.output)["controls"]
    mine = [r.score for r in own if r.video_id == video]
    assert controls["prompt_swap"]["videos"] == 1
    assert controls["prompt_swap"]["mean_own"] == pytest.approx(sum(mine) / len(mine), abs=1e-4)
    assert controls["prompt_swap"]["mean_swapped"] == 1.0
    assert controls["a_b_order"]["items_scored_differently"] == 0
    (study / "rater.swap.jsonl").unlink()
    missing = CliRunner().invoke(app, [*args, "--controls"])
    assert missing.exit_code == 1
    assert "--prompt-swap" in missing.output

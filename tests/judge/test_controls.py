"""Negative controls: which videos get swapped prompts, and how the figures are made."""

from __future__ import annotations

import pytest

from scine.judge.controls import (
    presentation_spread,
    prompt_swap_summary,
    prompt_swaps,
    swapped_pairs,
)
from scine.records import Question, Rating, Video

MOVE = "camera.trajectory.movement"


def video(n: int, prompt: str) -> Video:
    return Video(
        id=f"v{n}",
        prompt_id=prompt,
        model="m",
        path=f"v{n}.mp4",
        fps=24,
        frames=48,
        width=64,
        height=64,
    )


def question(prompt: str, value: str) -> Question:
    return Question(id=f"{prompt}/{value}", prompt_id=prompt, node=MOVE, value=value, text="?")


def rating(video_id: str, question_id: str, score: float) -> Rating:
    return Rating(
        video_id=video_id, question_id=question_id, rater="j", rater_kind="model", score=score
    )


def test_a_swap_asks_about_a_control_the_own_prompt_does_not_ask() -> None:
    videos = [video(0, "a"), video(1, "b"), video(2, "c")]
    questions = [question("a", "pan_left"), question("b", "pan_left"), question("c", "tilt_up")]
    swaps = prompt_swaps(videos, questions, count=3, seed=1)
    assert len(swaps) == 3
    for swap in swaps:
        original = next(v for v in videos if v.id == swap.video.id)
        assert swap.video.prompt_id == swap.question.prompt_id != original.prompt_id
        own = {q.value for q in questions if q.prompt_id == original.prompt_id}
        assert swap.question.value not in own
    assert swapped_pairs(swaps) == {(s.video.id, s.question.id) for s in swaps}
    assert prompt_swaps(videos, questions, count=3, seed=1) == swaps  # seeded


def test_a_video_with_no_other_control_to_ask_is_not_swapped() -> None:
    videos = [video(0, "a"), video(1, "b")]
    questions = [question("a", "pan_left"), question("b", "pan_left")]
    assert prompt_swaps(videos, questions, count=2) == []


def test_the_summary_sets_swapped_scores_beside_own_means() -> None:
    own = [rating("v0", "a/1", 5), rating("v0", "a/2", 3), rating("v1", "b/1", 2)]
    swapped = [rating("v0", "c/1", 1), rating("v1", "c/2", 4)]
    summary = prompt_swap_summary(own, swapped)
    assert summary["videos"] == 2
    assert summary["mean_own"] == pytest.approx((4 + 2) / 2)
    assert summary["mean_swapped"] == pytest.approx(2.5)
    assert summary["swapped_lower"] == 1
    assert summary["passed"] is True


def test_presentation_spread_finds_a_score_that_moves_with_the_side() -> None:
    steady = [rating("v0", "q", 4), rating("v0", "q", 4), rating("v1", "q", 2)]
    assert presentation_spread(steady)["items_scored_differently"] == 0
    moving = [*steady, rating("v1", "q", 3.5)]
    spread = presentation_spread(moving)
    assert spread["items_presented_more_than_once"] == 2
    assert spread["items_scored_differently"] == 1
    assert spread["max_spread"] == 1.5

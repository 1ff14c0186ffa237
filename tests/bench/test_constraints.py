"""The shot rules: one shot, under 10 seconds, nothing off screen."""

from __future__ import annotations

import pytest

from scine.bench.constraints import MAX_SECONDS, check_shot, estimate_seconds


def test_duration_counts_beats_and_spoken_words() -> None:
    # Beats: "She opens the door" | "steps inside" | "She says," -> 3 x 1.5 s;
    # spoken: 5 words / 2.5 words per second -> 2 s.
    text = 'She opens the door, then steps inside. She says, "I am home at last."'
    assert estimate_seconds(text) == pytest.approx(3 * 1.5 + 5 / 2.5)


def test_quoted_words_are_not_beats() -> None:
    assert estimate_seconds('He says, "Stop. Wait. Listen. Now."') == pytest.approx(1.5 + 4 / 2.5)


def test_a_short_shot_passes() -> None:
    check = check_shot("An old fisherman coils a rope on the jetty.")
    assert check.ok
    assert check.reasons == []


def test_too_long() -> None:
    text = ". ".join(["He runs"] * 8) + "."
    check = check_shot(text)
    assert check.seconds > MAX_SECONDS
    assert not check.ok
    assert check.reasons[0].startswith("too long: about 12.0 s")


@pytest.mark.parametrize(
    "text",
    ["She runs. CUT TO: the street.", "A montage of summers.", "The next morning, he wakes."],
)
def test_cuts(text: str) -> None:
    check = check_shot(text)
    assert check.cuts
    assert any(reason.startswith("more than one shot") for reason in check.reasons)


@pytest.mark.parametrize(
    "text",
    [
        "We hear a scream.",
        "A voice-over explains.",
        "Someone knocks off-screen.",
        "MOM (O.S.) Dinner!",
    ],
)
def test_off_screen(text: str) -> None:
    check = check_shot(text)
    assert check.offscreen
    assert any(reason.startswith("something off screen") for reason in check.reasons)


def test_markers_are_whole_words() -> None:
    # "fade" inside "faded", "cut" inside "cutaway" and "unseen" inside "unseemly" are fine.
    assert check_shot("A faded photo sits on a table; a cutaway view; an unseemly grin.").ok


def test_concurrency_wording_is_not_a_cut() -> None:
    assert check_shot("She reads; meanwhile, the kettle boils on the stove.").ok

"""The offline composer states exactly the controls it is given, deterministically."""

from __future__ import annotations

import random

import pytest

from scine.bench.seeds import packaged_seeds
from scine.llm.composer import (
    Cast,
    Composer,
    CompositionError,
    check_realizations,
    packaged_on_screen_texts,
    packaged_realizations,
)
from scine.records import Control
from scine.taxonomy import load_taxonomy

TAXONOMY = load_taxonomy()
COMPOSER = Composer(TAXONOMY, packaged_realizations())
SEEDS = packaged_seeds()


def stated(text: str) -> set[str]:
    return {target[0] for spot in TAXONOMY.spot(text) for target in spot.targets}


def test_packaged_clauses_are_clean() -> None:
    assert check_realizations(packaged_realizations(), TAXONOMY) == []


def test_on_screen_texts_name_no_control() -> None:
    for text in packaged_on_screen_texts():
        assert TAXONOMY.spot(text) == [], text


def resolve(controls: list[Control], rng: random.Random) -> list[Control]:
    texts = packaged_on_screen_texts()
    return [
        Control(node=c.node, value=rng.choice(texts)) if c.node == "setup.text.content" else c
        for c in controls
    ]


@pytest.mark.parametrize("trial", range(40))
def test_script_states_exactly_its_controls(trial: int) -> None:
    rng = random.Random(trial)
    seed = SEEDS[trial % len(SEEDS)]
    controls = TAXONOMY.sample(
        rng.randint(1, 5), rng, axes=["events"], exclude={c.node for c in seed.controls}
    )
    try:
        text = COMPOSER.script(seed.cast, controls, rng)
    except CompositionError:
        pytest.skip("this cast cannot carry a sampled control")
    expected = {c.node for c in (*seed.controls, *controls)}
    assert stated(text) == expected, text
    assert "{" not in text
    assert "  " not in text


@pytest.mark.parametrize("trial", range(40))
def test_visual_states_exactly_script_and_injected_controls(trial: int) -> None:
    rng = random.Random(1000 + trial)
    seed = SEEDS[(trial * 7) % len(SEEDS)]
    script = COMPOSER.script(seed.cast, [], rng)
    carried = {c.node for c in seed.controls}
    injected = resolve(TAXONOMY.sample(rng.randint(1, 10), rng, exclude=carried), rng)
    try:
        text = COMPOSER.visual(script, seed.cast, injected, rng)
    except CompositionError:
        pytest.skip("this cast cannot carry a sampled control")
    assert script in text
    assert stated(text) == carried | {c.node for c in injected}, text


def test_same_generator_state_same_text() -> None:
    seed = SEEDS[0]
    controls = TAXONOMY.sample(3, 1, axes=["events"])
    first = COMPOSER.script(seed.cast, controls, random.Random(9))
    assert COMPOSER.script(seed.cast, controls, random.Random(9)) == first
    assert any(COMPOSER.script(seed.cast, controls, random.Random(n)) != first for n in range(5))


def test_subject_introduced_once_then_named_definitely() -> None:
    seed = next(s for s in SEEDS if s.partner is None)
    controls = [
        Control(node="events.types.actions.eyeline", value="at_camera"),
        Control(node="events.types.emotions.explicit", value="joy"),
    ]
    text = COMPOSER.script(seed.cast, controls, random.Random(0))
    lowered = text.lower()
    assert lowered.count(seed.subject_intro.lower()) == 1
    assert seed.subject.lower() in lowered.replace(seed.subject_intro.lower(), "")


def test_dialogue_carries_its_delivery_and_line() -> None:
    seed = SEEDS[3]
    controls = [
        Control(node="events.types.dialogue.structure", value="single_line"),
        Control(node="events.types.dialogue.delivery", value="whispered"),
    ]
    text = COMPOSER.script(seed.cast, controls, random.Random(2))
    assert seed.line.rstrip(".!?") in text
    assert stated(text) >= {"events.types.dialogue.structure", "events.types.dialogue.delivery"}


def test_partner_clauses_need_a_partner() -> None:
    lonely = Cast(
        subject="the clerk",
        subject_intro="a night clerk",
        pronoun="she",
        where="in an office",
        place="the office",
        object="a ledger",
        actions=("counts the till", "stamps a form", "files a folder"),
        event="a phone buzzes",
        line="Closing time.",
    )
    for trial in range(30):
        rng = random.Random(trial)
        controls = TAXONOMY.sample(4, rng, axes=["events"])
        try:
            text = COMPOSER.script(lonely, controls, rng)
        except CompositionError as exc:
            failed = str(exc)
            assert "needs a partner" in failed
            continue
        assert "{partner}" not in text
        assert " , " not in text

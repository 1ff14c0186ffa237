"""Categorizing prompts: offline (lexicon, embeddings) and LLM (ids validated, re-asked)."""

from __future__ import annotations

import json

import pytest

from scine.bench.categorize import OfflineCategorizer, clauses, sentences
from scine.bench.llm_categorize import LLMCategorizer
from scine.llm import make_llm
from scine.taxonomy import load_taxonomy

from ..llm.chat_server import Reply, serve

TAXONOMY = load_taxonomy()
LEXICON = OfflineCategorizer(TAXONOMY)


def found(text: str, categorizer: OfflineCategorizer = LEXICON) -> dict[str, str | None]:
    return {c.node: c.value for c in categorizer.categorize([text])[0]}


def test_sentences_drop_spoken_lines_and_keep_numbers_whole() -> None:
    assert sentences('She whispers, "Zoom in, now!" The camera pans left. Shot at f/1.4.') == [
        "She whispers,",
        "The camera pans left.",
        "Shot at f/1.4.",
    ]
    assert clauses("A 2.39:1 frame, shot handheld; at an 8:1 ratio.") == [
        "A 2.39:1 frame",
        "shot handheld",
        "at an 8:1 ratio",
    ]


def test_phrases_with_numbers_and_commas_are_found() -> None:
    result = found("Shot at f/1.4 in 2.39:1, foreground, midground and background layers.")
    assert result["camera.intrinsics.aperture"] == "wide"
    assert result["camera.creative_intent.aspect_ratio"] == "scope"


def test_names_and_synonyms_with_their_values() -> None:
    result = found("Handheld, the camera pans left across a foggy harbour at dawn.")
    assert result["camera.trajectory.movement"] == "pan_left"
    assert result["camera.trajectory.rig"] == "handheld"
    assert result["setup.scene.set_design.environment.weather"] == "fog"
    assert result["setup.scene.set_design.environment.time_of_day"] == "dawn"


def test_phrases_of_different_leaves_may_share_words() -> None:
    result = found("Handheld camera follows the runner.")
    assert result["camera.trajectory.rig"] == "handheld"
    assert result["camera.trajectory.movement"] == "tracking"


def test_a_phrase_inside_a_longer_one_is_not_read() -> None:
    result = found("The camera moves slowly.")
    assert result == {"camera.trajectory.speed": "slow"}


def test_overlapping_phrases_of_one_leaf_are_one_mention() -> None:
    movement = "camera.trajectory.movement"
    assert found("The camera pans left across the room.")[movement] == "pan_left"
    assert found("The camera pans slowly across the valley.") == {movement: None}
    spots = TAXONOMY.spot("The skyline comes into focus out of a grey blur.")
    assert [(spot.phrase, spot.targets) for spot in spots] == [
        ("comes into focus", (("camera.intrinsics.focus_change", "focus_in"),))
    ]


def test_one_category_per_leaf_first_value_wins_and_questions_render() -> None:
    (categories,) = LEXICON.categorize(["The camera pans left, then pans right."])
    movement = [c for c in categories if c.node == "camera.trajectory.movement"]
    assert len(movement) == 1
    assert movement[0].value == "pan_left"
    assert movement[0].question == TAXONOMY.leaf(movement[0].node).render_question("pan_left")
    assert movement[0].source == "lexicon"


def test_on_screen_words_are_read_from_the_quotes() -> None:
    (categories,) = LEXICON.categorize(
        ['A sign with lettering that reads "NO VACANCY" hangs there.']
    )
    text = next(c for c in categories if c.node == "setup.text.content")
    assert text.value == "NO VACANCY"
    assert text.question == 'Does the on-screen text read "NO VACANCY"?'


def test_spoken_words_are_not_directions() -> None:
    assert "camera.trajectory.movement" not in found('He shouts, "Zoom in on that!"')


def test_results_are_in_taxonomy_order_and_deterministic() -> None:
    text = "A dolly in on a woman in a period costume, lit by candlelight."
    first = LEXICON.categorize([text])[0]
    order = [leaf.id for leaf in TAXONOMY.leaves()]
    assert [c.node for c in first] == sorted((c.node for c in first), key=order.index)
    assert LEXICON.categorize([text])[0] == first


def test_progress_reaches_the_end() -> None:
    seen: list[int] = []
    LEXICON.categorize(["a", "b", "c"], seen.append)
    assert seen == [1, 2, 3]


@pytest.fixture(scope="module")
def semantic() -> OfflineCategorizer:
    from scine.bench.semantic import Embedder

    return OfflineCategorizer(TAXONOMY, Embedder())


PARAPHRASE = "The picture is tilted so the horizon slants."


def test_embeddings_catch_a_close_paraphrase(semantic: OfflineCategorizer) -> None:
    assert "camera.extrinsics.angle" not in found(PARAPHRASE)
    matched = {c.node: c for c in semantic.categorize([PARAPHRASE])[0]}
    assert matched["camera.extrinsics.angle"].value == "dutch"
    assert matched["camera.extrinsics.angle"].source == "semantic"
    assert matched["camera.extrinsics.angle"].score >= semantic.threshold


def test_embeddings_leave_unrelated_text_alone(semantic: OfflineCategorizer) -> None:
    assert semantic.categorize(["Nothing much is going on today."]) == [[]]


def test_semantic_matching_can_be_turned_off(semantic: OfflineCategorizer) -> None:
    plain = OfflineCategorizer(TAXONOMY, semantic.embedder, semantic=False)
    assert "camera.extrinsics.angle" not in found(PARAPHRASE, plain)


def _categories(*items: tuple[str, str | None]) -> Reply:
    payload = {"categories": [{"node": n, "value": v, "question": "Q?"} for n, v in items]}
    return Reply(content=json.dumps(payload))


def test_llm_categorizer_re_asks_invalid_ids() -> None:
    with serve() as server:
        server.script(
            _categories(
                ("camera.trajectory.movment", "pan_left"), ("lighting.source.type", "tungsten")
            ),
            _categories(
                ("camera.trajectory.movement", "pan_left"), ("lighting.source.type", "tungsten")
            ),
        )
        llm = make_llm("openai:test", base_url=server.base_url, cache_dir=None)
        assert llm is not None
        (categories,) = LLMCategorizer(llm, TAXONOMY).categorize(["A pan left, tungsten lamps."])
    assert [(c.node, c.value) for c in categories] == [
        ("lighting.source.type", "tungsten"),
        ("camera.trajectory.movement", "pan_left"),
    ]
    reask = server.requests[1]["messages"][-1]["content"]
    assert "camera.trajectory.movment" in reask
    assert "did you mean camera.trajectory.movement" in reask
    assert "camera.extrinsics.angle" in server.requests[0]["messages"][0]["content"]


def test_llm_categorizer_never_drops_a_prompt_silently() -> None:
    with serve() as server:
        server.default = lambda body: _categories(("camera.nowhere", None))
        llm = make_llm("openai:test", base_url=server.base_url, cache_dir=None)
        assert llm is not None
        with pytest.raises(ValueError, match="no valid categories"):
            LLMCategorizer(llm, TAXONOMY).categorize(["A pan left."])

"""Every node, group and value the SCINE paper names is present, under the paper's axis,
marked ``provenance: paper``, and findable by the paper's own words."""

from __future__ import annotations

import pytest

from scine.taxonomy import Leaf, load_taxonomy

TAXONOMY = load_taxonomy()

# (node id, value id or None, the words the paper uses), from ../shared/paper/SCINE.md.
PAPER_ITEMS: list[tuple[str, str | None, str]] = [
    # Setup: Scene (Texture, Geometry, Set Design), Subjects, Text Generation
    ("setup.scene", None, "Scene"),
    ("setup.scene.texture", None, "Texture"),
    ("setup.scene.texture.contrast", None, "contrast"),
    ("setup.scene.texture.color_palette", None, "colour palette"),
    ("setup.scene.geometry", None, "Geometry"),
    ("setup.scene.geometry.dominant_shapes", None, "dominant shapes"),
    ("setup.scene.geometry.spatial_arrangement", None, "spatial arrangement"),
    ("setup.scene.geometry.balance", None, "symmetry"),
    ("setup.scene.set_design", None, "Set Design"),
    ("setup.scene.set_design.props", None, "Props"),
    ("setup.scene.set_design.props.material", None, "material"),
    ("setup.scene.set_design.props.pattern", None, "patterns"),
    ("setup.scene.set_design.props.attributes", None, "attributes"),
    ("setup.scene.set_design.backdrop", None, "Backdrop"),
    ("setup.scene.set_design.environment", None, "Environment"),
    ("setup.scene.set_design.environment.style", None, "style"),
    ("setup.scene.set_design.environment.background", None, "backgrounds"),
    ("setup.scene.set_design.environment.space", None, "space"),
    ("setup.scene.set_design.environment.time_of_day", None, "time of day"),
    ("setup.scene.set_design.environment.weather", None, "weather"),
    ("setup.scene.set_design.environment.weather", "fog", "fog"),
    ("setup.scene.set_design.environment.clutter", None, "organisation"),
    ("setup.subjects", None, "Subjects"),
    ("setup.subjects.wardrobe", None, "costume"),
    ("setup.subjects.accessories", None, "accessories"),
    ("setup.subjects.hair", None, "hair"),
    ("setup.subjects.makeup", None, "make-up"),
    ("setup.subjects.expression", None, "expression"),
    ("setup.subjects.personality", None, "personality"),
    ("setup.text", None, "Text Generation"),
    # Events: Types (Actions, Emotions, Dialogues, Change in Environment, Advanced Controls)
    # and Portrayed As (Temporal, Contextual)
    ("events.types", None, "Types"),
    ("events.types.actions", None, "Actions"),
    ("events.types.actions.standalone", None, "standalone"),
    ("events.types.actions.interactive", None, "interactive"),
    ("events.types.actions.interaction_type", None, "type of interaction"),
    ("events.types.emotions", None, "Emotions"),
    ("events.types.emotions.explicit", None, "explicit"),
    ("events.types.emotions.implicit", None, "implicit"),
    ("events.types.dialogue", None, "Dialogues"),
    ("events.types.dialogue.delivery", None, "way a line is delivered"),
    ("events.types.environment_change", None, "Change in Environment"),
    ("events.types.advanced", None, "Advanced Controls"),
    ("events.types.advanced.pacing", None, "pacing"),
    ("events.types.advanced.structure", None, "story structure"),
    ("events.types.advanced.structure", "turning_point", "turning point"),
    ("events.types.advanced.structure", "climax", "climax"),
    ("events.portrayal", None, "Portrayed As"),
    ("events.portrayal.temporal", None, "Temporal"),
    ("events.portrayal.temporal", "atomic", "atomic"),
    ("events.portrayal.temporal", "sequential", "sequential"),
    ("events.portrayal.temporal", "causal", "causal"),
    ("events.portrayal.temporal", "concurrent", "simultaneous"),
    ("events.portrayal.temporal", "concurrent", "concurrent"),
    ("events.portrayal.temporal", "overlapping", "overlapping"),
    ("events.portrayal.temporal", "cyclical", "cyclical"),
    ("events.portrayal.contextual", None, "Contextual"),
    ("events.portrayal.contextual", "foreground", "in the foreground"),
    ("events.portrayal.contextual", "background", "in the background"),
    # Lighting: Source, Color Temperature, Lighting Conditions, Effects, Position, Advanced
    ("lighting.source", None, "Source"),
    ("lighting.source.type", "sunlight", "Sunlight"),
    ("lighting.source.type", "strobe", "Strobes"),
    ("lighting.source.type", "firelight", "Firelight"),
    ("lighting.source.type", "hmi", "HMI"),
    ("lighting.source.type", "fluorescent", "Fluorescent"),
    ("lighting.source.type", "tungsten", "Tungsten"),
    ("lighting.color_temperature", None, "Color Temperature"),
    ("lighting.conditions", None, "Lighting Conditions"),
    ("lighting.effects", None, "Effects"),
    ("lighting.effects.shadows", "hard", "hard shadows"),
    ("lighting.effects.shadows", "soft", "soft shadows"),
    ("lighting.position", None, "Position"),
    ("lighting.position.direction", "key", "key light"),
    ("lighting.position.direction", "back", "backlight"),
    ("lighting.position.direction", "side", "side light"),
    ("lighting.position.direction", "top", "top light"),
    ("lighting.position.direction", "under", "underlight"),
    ("lighting.advanced", None, "Advanced Controls"),
    ("lighting.advanced.motion", "flicker", "flicker"),
    ("lighting.advanced.gel", None, "colour gels"),
    # Camera: Intrinsics, Extrinsics, Trajectory, Creative Intent
    ("camera.intrinsics", None, "Intrinsics"),
    ("camera.intrinsics.focal_length", None, "focal length"),
    ("camera.intrinsics.depth_of_field", None, "depth of field"),
    ("camera.intrinsics.aperture", None, "aperture"),
    ("camera.intrinsics.iso", None, "ISO"),
    ("camera.intrinsics.shutter", None, "shutter"),
    ("camera.extrinsics", None, "Extrinsics"),
    ("camera.extrinsics.angle", None, "angle"),
    ("camera.extrinsics.angle", "aerial", "Aerial"),
    ("camera.extrinsics.angle", "knee_level", "Knee-level"),
    ("camera.extrinsics.angle", "shoulder_level", "Shoulder-level"),
    ("camera.extrinsics.angle", "dutch", "Dutch"),
    ("camera.extrinsics.height", None, "height"),
    ("camera.trajectory", None, "Trajectory"),
    ("camera.trajectory.movement", "pan_left", "pan"),
    ("camera.trajectory.movement", "tilt_up", "tilt"),
    ("camera.trajectory.movement", "dolly_in", "dolly"),
    ("camera.trajectory.movement", "truck_left", "truck"),
    ("camera.trajectory.movement", "crane_up", "crane"),
    ("camera.trajectory.movement", "zoom_in", "zoom"),
    ("camera.trajectory.movement", "tracking", "tracking"),
    ("camera.trajectory.rig", "handheld", "handheld"),
    ("camera.trajectory.rig", "steadicam", "steadicam"),
    ("camera.creative_intent", None, "Creative Intent"),
    ("camera.creative_intent.shot_size", None, "shot size"),
    ("camera.creative_intent.shot_size", "extreme_close_up", "Extreme Close-Up"),
    ("camera.creative_intent.shot_size", "close_up", "Close-Up"),
    ("camera.creative_intent.shot_size", "full", "Full"),
    ("camera.creative_intent.shot_size", "medium_wide", "Medium-Wide"),
    ("camera.creative_intent.shot_size", "master", "Master"),
    ("camera.creative_intent.framing", None, "framing"),
    ("camera.creative_intent.framing", "insert", "insert"),
    ("camera.creative_intent.framing", "over_the_shoulder", "over-the-shoulder"),
]

PLUTCHIK = ["joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation"]


@pytest.mark.parametrize(("node_id", "value_id", "words"), PAPER_ITEMS)
def test_paper_item_is_present_and_marked(node_id: str, value_id: str | None, words: str) -> None:
    node = TAXONOMY.node(node_id)
    assert node.provenance == "paper", node_id
    if value_id is not None:
        assert isinstance(node, Leaf)
        assert node.value(value_id).provenance == "paper", (node_id, value_id)


@pytest.mark.parametrize(("node_id", "value_id", "words"), PAPER_ITEMS)
def test_paper_words_find_the_item(node_id: str, value_id: str | None, words: str) -> None:
    exact = {(match.node, match.value) for match in TAXONOMY.lookup(words)}
    if (node_id, value_id) in exact:
        return
    # The paper's word names a family (e.g. "pan"): the value must be among the best matches.
    ranked = [(match.node, match.value) for match in TAXONOMY.find(words, limit=5)]
    assert (node_id, value_id) in ranked, (words, exact, ranked)


@pytest.mark.parametrize(
    "leaf_id", ["events.types.emotions.explicit", "events.types.emotions.implicit"]
)
def test_emotions_are_plutchiks_eight(leaf_id: str) -> None:
    assert [value.id for value in TAXONOMY.leaf(leaf_id).values] == PLUTCHIK


def test_the_six_temporal_modes() -> None:
    values = [value.id for value in TAXONOMY.leaf("events.portrayal.temporal").values]
    assert values == ["atomic", "sequential", "causal", "concurrent", "overlapping", "cyclical"]

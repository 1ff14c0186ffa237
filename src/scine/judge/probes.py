"""Measured probes: a training-free evaluator for the controls that pixels can show.

Classical vision, no model weights: camera movement, rig and pace from sparse optical flow;
Dutch angle from the dominant line orientation; shot size from the largest face; lighting
key and contrast from luminance statistics; colour temperature from the estimated light's
chromaticity; light motion from mean luminance over time. Each probe returns a ``Reading``
per taxonomy leaf: the value it measured, its belief in every value it can tell apart, and
the raw measurements; it abstains, with a reason, where it cannot tell.

``probe_video(path)`` runs all of them on one sampling pass; ``score(reading, value)`` turns
a reading into the 1-5 answer to "does the video show ``value``?".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scine.video.sample import VideoSampling

from ._clip import PROBE_SAMPLING, load_clip
from ._probe_frame import probe_dutch, probe_shot_size
from ._probe_light import probe_exposure, probe_light_motion, probe_temperature
from ._probe_motion import probe_movement
from ._reading import BLACK_LUMA, Clip, Reading, abstain, is_black

__all__ = [
    "BLACK_LUMA",
    "LEAVES",
    "PROBES",
    "PROBE_SAMPLING",
    "PROBE_VERSION",
    "Clip",
    "Reading",
    "load_clip",
    "probe_clip",
    "probe_video",
    "score",
]

PROBE_VERSION = 1
"""Recorded with every probe rating; bumped whenever a change here changes a reading."""

Probe = Callable[[Clip], list[Reading]]

PROBES: dict[Probe, tuple[str, ...]] = {
    probe_movement: (
        "camera.trajectory.movement",
        "camera.trajectory.rig",
        "camera.trajectory.speed",
    ),
    probe_dutch: ("camera.extrinsics.angle",),
    probe_shot_size: ("camera.creative_intent.shot_size",),
    probe_exposure: ("lighting.conditions.key", "lighting.conditions.contrast"),
    probe_temperature: ("lighting.color_temperature",),
    probe_light_motion: ("lighting.advanced.motion",),
}
"""Every probe and the taxonomy leaves it reads."""

LEAVES: frozenset[str] = frozenset(leaf for leaves in PROBES.values() for leaf in leaves)
"""The leaves some probe reads; questions on any other leaf are abstained from."""


def probe_clip(clip: Clip) -> list[Reading]:
    """Every probe's readings of ``clip``, one per leaf of ``LEAVES``, in ``PROBES`` order."""
    if is_black(clip):
        reason = f"black frames (next to no pixel brighter than luma {BLACK_LUMA})"
        return [abstain(leaf, reason) for leaves in PROBES.values() for leaf in leaves]
    readings: list[Reading] = []
    for probe, leaves in PROBES.items():
        found = {reading.node: reading for reading in probe(clip)}
        readings.extend(
            found.get(leaf) or abstain(leaf, f"{probe.__name__} gave no reading") for leaf in leaves
        )
    return readings


def probe_video(path: str | Path, sampling: VideoSampling = PROBE_SAMPLING) -> list[Reading]:
    """Sample ``path`` once (``PROBE_SAMPLING`` by default) and read it with every probe.

    Raises ``scine.video.sample.SamplingError`` for a file that cannot be decoded.
    """
    return probe_clip(load_clip(path, sampling))


def score(reading: Reading, value: str | None) -> float | None:
    """The 1-5 answer a reading gives to "does the video show ``value`` of its leaf?".

    ``1 + 4 p``, where p is the probe's belief (``support``) in ``value``: 5 when it is
    sure the value is shown, 1 when it is sure it is not. None (an abstention) when the
    probe abstained, when the question names no value, or when the probe cannot tell that
    value apart from others (it is not in ``support``).
    """
    if value is None or value not in reading.support:
        return None
    belief = min(1.0, max(0.0, reading.support[value]))
    return round(1.0 + 4.0 * belief, 3)

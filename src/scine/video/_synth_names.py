"""Taxonomy ids of the controls synthetic shots carry."""

from __future__ import annotations

MOVEMENT = "camera.trajectory.movement"
SPEED = "camera.trajectory.speed"
RIG = "camera.trajectory.rig"
ANGLE = "camera.extrinsics.angle"
SHOT_SIZE = "camera.creative_intent.shot_size"
KEY = "lighting.conditions.key"
CONTRAST = "lighting.conditions.contrast"
TEMPERATURE = "lighting.color_temperature"
LIGHT_MOTION = "lighting.advanced.motion"
SCREEN_DIRECTION = "events.types.actions.screen_direction"

# Moves a camera makes from a fixed head: without shake, certainly filmed on a tripod.
TRIPOD_MOVES = frozenset(
    {"static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out"}
)

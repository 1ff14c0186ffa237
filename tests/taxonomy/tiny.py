"""A tiny, valid taxonomy document for loader and API tests, editable per test."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

TINY: dict[str, Any] = {
    "schema_version": 1,
    "name": "TINY",
    "axes": [
        {
            "id": "camera",
            "name": "Camera",
            "definition": "How the shot is filmed.",
            "children": [
                {
                    "id": "extrinsics",
                    "name": "Extrinsics",
                    "definition": "Camera placement.",
                    "children": [
                        {
                            "id": "angle",
                            "name": "Angle",
                            "definition": "The camera's viewpoint.",
                            "synonyms": ["camera angle"],
                            "question": {
                                "value": "Is the shot filmed from {value} angle?",
                                "unspecified": "Is the shot filmed from the described angle?",
                            },
                            "values": [
                                {
                                    "id": "low",
                                    "name": "Low",
                                    "phrase": "a low",
                                    "definition": "Looks up.",
                                    "synonyms": ["low-angle shot"],
                                },
                                {
                                    "id": "dutch",
                                    "name": "Dutch",
                                    "phrase": "a Dutch",
                                    "definition": "Rolled.",
                                    "synonyms": ["canted angle"],
                                },
                            ],
                        },
                        {
                            "id": "speed",
                            "name": "Speed",
                            "definition": "How fast the angle changes.",
                            "dependent_on": "camera.extrinsics.angle",
                            "question": {
                                "value": "Does the angle change {value}?",
                                "unspecified": "Does the angle change as described?",
                            },
                            "values": [
                                {"id": "slowly", "name": "Slowly", "definition": "Slow."},
                                {"id": "quickly", "name": "Quickly", "definition": "Fast."},
                            ],
                        },
                    ],
                }
            ],
        },
        {
            "id": "setup",
            "name": "Setup",
            "definition": "What is in the frame.",
            "children": [
                {
                    "id": "sign",
                    "name": "Sign text",
                    "definition": "Words on a sign.",
                    "free_form": True,
                    "question": {
                        "value": 'Does the sign read "{value}"?',
                        "unspecified": "Does the sign read as described?",
                    },
                }
            ],
        },
    ],
}


def tiny_document() -> dict[str, Any]:
    """A fresh deep copy of the tiny taxonomy document."""
    return copy.deepcopy(TINY)


def write_document(path: Path, document: Any) -> Path:
    """Write a document as YAML and return the path."""
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def angle_leaf(document: dict[str, Any]) -> dict[str, Any]:
    """The camera.extrinsics.angle mapping inside a document."""
    leaf: dict[str, Any] = document["axes"][0]["children"][0]["children"][0]
    return leaf

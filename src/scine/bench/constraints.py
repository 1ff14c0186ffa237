"""The rules every SCINE script obeys: one shot, under 10 seconds, nothing off screen.

The checks are transparent heuristics over the text, the same for scripts the composer writes
and scripts an LLM writes. Duration is estimated as ``SECONDS_PER_BEAT`` per action beat
(clauses split at sentence ends, semicolons and sequencing connectives) plus spoken words at
``WORDS_PER_SECOND``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_SECONDS = 10.0
SECONDS_PER_BEAT = 1.5
WORDS_PER_SECOND = 2.5

_CUT_MARKERS = (
    "cut to",
    "cuts to",
    "smash cut",
    "jump cut",
    "match cut",
    "dissolve to",
    "dissolves to",
    "fade to",
    "fade out",
    "fade in",
    "intercut",
    "montage",
    "flashback",
    "elsewhere",
    "later that",
    "hours later",
    "minutes later",
    "days later",
    "the next day",
    "the next morning",
    "new scene",
    "next shot",
    "scene changes",
)
_OFFSCREEN_MARKERS = (
    "off-screen",
    "offscreen",
    "off screen",
    "off-camera",
    "off camera",
    "(o.s.)",
    "o.s.",
    "(v.o.)",
    "v.o.",
    "voice-over",
    "voiceover",
    "voice over",
    "out of frame",
    "out of shot",
    "out of view",
    "unseen",
    "we hear",
    "can be heard",
    "is heard",
    "are heard",
)
_BEAT_SPLIT = re.compile(
    r"[.;!?]+\s+|[;:]\s*|,?\s+\b(?:and then|then|while|before|after|until|as soon as)\b\s+",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"[\"“]([^\"”]*)[\"”]")


@dataclass(frozen=True)
class ShotCheck:
    """What the rules found in one script; ``ok`` when nothing breaks them."""

    seconds: float
    cuts: tuple[str, ...]
    offscreen: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when the script is one shot, under the time limit, with nothing off screen."""
        return self.seconds <= MAX_SECONDS and not self.cuts and not self.offscreen

    @property
    def reasons(self) -> list[str]:
        """Why the script breaks the rules, one line per rule broken."""
        reasons = []
        if self.seconds > MAX_SECONDS:
            reasons.append(f"too long: about {self.seconds:.1f} s > {MAX_SECONDS:.0f} s")
        if self.cuts:
            reasons.append(f"more than one shot: {', '.join(self.cuts)}")
        if self.offscreen:
            reasons.append(f"something off screen: {', '.join(self.offscreen)}")
        return reasons


def estimate_seconds(text: str) -> float:
    """Estimated screen time of a script: action beats plus spoken words."""
    spoken = sum(len(quote.split()) for quote in _QUOTED.findall(text))
    action = _QUOTED.sub(" ", text)
    beats = [part for part in _BEAT_SPLIT.split(action) if re.search(r"[A-Za-z]{3}", part)]
    return round(SECONDS_PER_BEAT * len(beats) + spoken / WORDS_PER_SECOND, 2)


def check_shot(text: str) -> ShotCheck:
    """Check a script against the one-shot, duration and on-screen rules."""
    lowered = f" {text.lower()} "
    return ShotCheck(
        seconds=estimate_seconds(text),
        cuts=_markers(lowered, _CUT_MARKERS),
        offscreen=_markers(lowered, _OFFSCREEN_MARKERS),
    )


def _markers(lowered: str, markers: tuple[str, ...]) -> tuple[str, ...]:
    found = []
    for marker in markers:
        if re.search(rf"(?<![a-z]){re.escape(marker)}(?![a-z])", lowered):
            found.append(marker)
    return tuple(found)

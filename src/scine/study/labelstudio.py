"""Label Studio interop, for labs that already run it.

``labelstudio_project`` turns prompts, questions and videos into a labeling config (the
prompt, two videos side by side, and for each question a 1-5 rating of each video) and a
task list, one task per comparison of ``assign.comparisons``; set "annotations per task"
to the votes wanted in Label Studio. A config is one layout for every task, so it holds as
many question slots as the prompt with the most questions; a task fills the slots it needs
and leaves the rest empty. ``read_labelstudio_export`` reads Label Studio's JSON export
back into ratings; a rating it cannot place (unknown slot, empty slot, not 1-5) is
reported, never dropped in silence.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from scine.records import Prompt, Question, Rating, Video

from .assign import comparisons

__all__ = ["LabelStudioError", "labelstudio_project", "read_labelstudio_export"]

SIDES = {"a": "video_a", "b": "video_b"}


class LabelStudioError(ValueError):
    """A Label Studio file that cannot be read as a SCINE project; the message says why."""


def labelstudio_project(
    prompts: Sequence[Prompt],
    questions: Sequence[Question],
    videos: Sequence[Video],
    media_url: str,
) -> tuple[str, list[dict[str, Any]]]:
    """The labeling config (XML) and the tasks (JSON-ready) of a study; video URLs are
    ``media_url`` joined with each video's path."""
    text = {p.id: p.text for p in prompts}
    asked: dict[str, list[Question]] = defaultdict(list)
    for question in questions:
        asked[question.prompt_id].append(question)
    by_id = {v.id: v for v in videos}
    found, _ = comparisons(videos)
    slots = max((len(asked[c.prompt_id]) for c in found), default=0)
    base = media_url.rstrip("/")
    tasks = []
    for comparison in found:
        a, b = by_id[comparison.first], by_id[comparison.second]
        data: dict[str, Any] = {
            "prompt_id": comparison.prompt_id,
            "prompt": text[comparison.prompt_id],
            "video_a": f"{base}/{a.path}",
            "video_b": f"{base}/{b.path}",
            "video_a_id": a.id,
            "video_b_id": b.id,
            "rate_b": comparison.rated[1],
        }
        own = asked[comparison.prompt_id]
        for slot in range(1, slots + 1):
            data[f"q{slot}"] = own[slot - 1].text if slot <= len(own) else ""
            data[f"q{slot}_id"] = own[slot - 1].id if slot <= len(own) else ""
        tasks.append({"data": data})
    return _config(slots), tasks


def _config(slots: int) -> str:
    """The labeling interface: prompt, two synchronised videos, a rating pair per slot."""
    lines = ["<View>", '  <Header value="$prompt"/>', '  <View style="display: flex; gap: 1em">']
    for side, label in (("a", "Video A"), ("b", "Video B")):
        lines += [
            '    <View style="flex: 1">',
            f"      <Header value={quoteattr(label)}/>",
            f'      <Video name="video_{side}" value="$video_{side}" sync="pair"/>',
            "    </View>",
        ]
    lines.append("  </View>")
    for slot in range(1, slots + 1):
        lines.append(f'  <Header value="$q{slot}"/>')
        for side, label in (("a", "Video A"), ("b", "Video B")):
            lines.append(
                f'  <Rating name="q{slot}_{side}" toName="video_{side}" maxRating="5" '
                f"hint={quoteattr(label)}/>"
            )
    lines.append("</View>")
    return "\n".join(lines) + "\n"


def read_labelstudio_export(path: str | Path) -> tuple[list[Rating], list[str]]:
    """Ratings from a Label Studio JSON export of a ``labelstudio_project`` project, and a
    line per rating that could not be used."""
    path = Path(path)
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise LabelStudioError(f"{path}: not a Label Studio JSON export: {exc}") from exc
    if not isinstance(tasks, list):
        raise LabelStudioError(f"{path}: expected a list of tasks (Label Studio's JSON export)")
    ratings: list[Rating] = []
    problems: list[str] = []
    for number, task in enumerate(tasks, start=1):
        data = task.get("data", {})
        where = f"{path}: task {task.get('id', number)}"
        if "video_a_id" not in data:
            raise LabelStudioError(f"{where}: no video_a_id: not exported from a SCINE project")
        for annotation in task.get("annotations", []):
            if annotation.get("was_cancelled"):
                continue
            rater = _rater(annotation.get("completed_by"))
            for result in annotation.get("result", []):
                rating, problem = _rating(data, result, rater, f"ls-{task.get('id', number)}")
                if problem:
                    problems.append(f"{where}, annotation {annotation.get('id')}: {problem}")
                elif rating is not None:
                    ratings.append(rating)
    return ratings, problems


def _rater(completed_by: Any) -> str:
    """An annotator's name: the email of an expanded user, else ``ls-user-<id>``."""
    if isinstance(completed_by, dict):
        return str(completed_by.get("email") or f"ls-user-{completed_by.get('id')}")
    return f"ls-user-{completed_by}"


def _rating(
    data: dict[str, Any], result: dict[str, Any], rater: str, pair: str
) -> tuple[Rating | None, str | None]:
    """One rating result as a Rating, or why not (None, None for non-rating results)."""
    if result.get("type") != "rating":
        return None, None
    name = str(result.get("from_name", ""))
    slot, _, side = name.rpartition("_")
    if side not in SIDES or not slot.startswith("q") or f"{slot}_id" not in data:
        return None, f"unknown rating {name!r}"
    question = data[f"{slot}_id"]
    if not question:
        return None, f"rating {name!r} of an empty question slot"
    if side == "b" and not data.get("rate_b", True):
        return None, f"rating {name!r} of the reference video, which is not rated"
    score = result.get("value", {}).get("rating")
    if score not in (1, 2, 3, 4, 5):
        return None, f"rating {name!r} is {score!r}, not 1-5"
    video = data[f"{SIDES[side]}_id"]
    return Rating(
        video_id=video,
        question_id=question,
        rater=rater,
        rater_kind="human",
        score=float(score),
        pair_id=pair,
        meta={"side": "left" if side == "a" else "right", "source": "label-studio"},
    ), None

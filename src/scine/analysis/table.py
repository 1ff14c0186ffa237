"""The one long ratings table every analysis reads, human and model raters alike.

``load_study(folder)`` reads ``prompts.jsonl``, ``questions.jsonl``, ``videos.jsonl`` and
``ratings.parquet`` (or ``ratings.jsonl``) and returns a ``Study``:

- ``votes``: one row per rating, with the attributes of its video, question and prompt;
- ``items``: one row per (video, question): the mean of its votes (``score``, 1-5), its
  rescaled score (``score01``, 0-1) and the number of votes.

Columns of both (``ITEM_COLUMNS``): ``video_id, question_id, prompt_id, model, node, value,
axis, group, split, role, difficulty, genre, temporal`` (``group``: the node one level below
the axis that holds the leaf, see ``group_of``; ``temporal``: the prompt's temporal mode, or
empty), plus ``rater, rater_kind, score, pair_id`` for votes and ``score, score01, votes``
for items.

Bad rows never pass silently. A score outside 1-5, a missing field or a malformed file is an
error naming the file, row and field. Ratings that cannot be analysed (unknown video or
question, a question about another prompt than its video's, a repeated vote of one rater on
one video-question) are left out and counted by reason in ``Study.excluded``, or raise
``StudyError`` with ``strict=True``; models with videos but no ratings are counted too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from scine.records import Prompt, Question, Rating, RecordError, Video, read_jsonl, read_records
from scine.taxonomy import Taxonomy, load_taxonomy

if TYPE_CHECKING:
    import pandas as pd

TEMPORAL = "events.portrayal.temporal"
ITEM_COLUMNS = (
    "video_id",
    "question_id",
    "prompt_id",
    "model",
    "node",
    "value",
    "axis",
    "group",
    "split",
    "role",
    "difficulty",
    "genre",
    "temporal",
)
RaterKind = Literal["human", "model", "any"]


class StudyError(ValueError):
    """A study folder cannot be analysed as it is; the message says which file and why."""


def group_of(node: str) -> str:
    """The leaf's group: the node one level below its axis that holds it, with every leaf
    nested under it (``events.types.emotions.explicit`` -> ``events.types``); a leaf right
    under its axis (``lighting.color_temperature``) is a group of its own."""
    return ".".join(node.split(".")[:2])


@dataclass
class Study:
    """Votes and per-(video, question) scores with their attributes, and what was left out."""

    votes: pd.DataFrame
    items: pd.DataFrame
    excluded: dict[str, int] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def models(self) -> list[str]:
        """Models with at least one rated item, sorted."""
        return sorted(self.items["model"].unique())


def load_study(
    folder: str | Path,
    taxonomy: Taxonomy | None = None,
    rater_kind: RaterKind = "any",
    strict: bool = False,
    ratings: str | Path | None = None,
) -> Study:
    """Read a study folder into the long table (see the module docstring); ``ratings``
    names another ratings file than the folder's own."""

    folder = Path(folder)
    taxonomy = taxonomy or load_taxonomy()
    prompts = _read(folder / "prompts.jsonl", Prompt, taxonomy)
    questions = _read(folder / "questions.jsonl", Question, taxonomy)
    videos = _read(folder / "videos.jsonl", Video, None)
    ratings_path = _ratings_path(folder) if ratings is None else Path(ratings)
    votes = read_ratings(ratings_path)
    excluded: dict[str, int] = {}
    if rater_kind != "any":
        keep = votes["rater_kind"] == rater_kind
        _count(excluded, f"rater_kind is not {rater_kind}", int((~keep).sum()))
        votes = votes[keep]
    votes = _join(votes, prompts, questions, videos, taxonomy, excluded, strict)
    rated = set(votes["model"].unique())
    _count(excluded, "models with videos but no ratings", len({v.model for v in videos} - rated))
    items = _items(votes)
    sources = {"folder": str(folder), "ratings": ratings_path.name}
    return Study(votes.reset_index(drop=True), items, excluded, sources)


def read_ratings(path: Path) -> pd.DataFrame:
    """Ratings as a DataFrame, validated column-wise (errors name file, row and field)."""
    import pandas as pd

    if path.suffix.lower() != ".parquet":
        records = read_records(path, Rating)
        return pd.DataFrame([r.model_dump() for r in records], columns=list(Rating.model_fields))
    import pyarrow.parquet as pq

    try:
        frame: pd.DataFrame = pq.read_table(path).to_pandas()
    except Exception as exc:  # pyarrow raises several unrelated types for unreadable files
        raise RecordError(f"{path}: cannot read Parquet: {exc}") from exc
    required = [name for name, spec in Rating.model_fields.items() if spec.is_required()]
    missing = [name for name in required if name not in frame.columns]
    if missing:
        raise RecordError(f"{path}: missing column(s) for Rating: {', '.join(missing)}")
    for column in ("video_id", "question_id", "rater"):
        bad = frame[column].isna() | (frame[column].astype(str).str.strip() == "")
        _fail_rows(path, column, bad, frame[column], "must be a non-empty id")
    bad_kind = ~frame["rater_kind"].isin(["human", "model"])
    _fail_rows(path, "rater_kind", bad_kind, frame["rater_kind"], "must be 'human' or 'model'")
    scores = pd.to_numeric(frame["score"], errors="coerce")
    bad_score = scores.isna() | (scores < 1) | (scores > 5)
    _fail_rows(path, "score", bad_score, frame["score"], "must be a number from 1 to 5")
    frame["score"] = scores.astype(float)
    if "pair_id" not in frame.columns:
        frame["pair_id"] = None
    return frame


def _fail_rows(path: Path, column: str, bad: pd.Series, values: pd.Series, what: str) -> None:
    if not bool(bad.any()):
        return
    rows = [int(index) + 1 for index in bad[bad].index[:5]]
    shown = ", ".join(f"row {row} (got {_plain(values.iloc[row - 1])!r})" for row in rows)
    more = f" and {int(bad.sum()) - len(rows)} more" if int(bad.sum()) > len(rows) else ""
    raise RecordError(f"{path}: field '{column}' {what}: {shown}{more}")


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _read(path: Path, kind: Any, taxonomy: Taxonomy | None) -> list[Any]:
    if not path.exists():
        raise StudyError(
            f"{path.parent}: no {path.name} (a study folder needs prompts.jsonl, "
            "questions.jsonl, videos.jsonl and ratings.parquet or ratings.jsonl)"
        )
    return read_jsonl(path, kind, taxonomy)


def _ratings_path(folder: Path) -> Path:
    names = ("ratings.parquet", "ratings.jsonl")
    found = [folder / name for name in names if (folder / name).exists()]
    if not found:
        raise StudyError(f"{folder}: no ratings.parquet or ratings.jsonl")
    if len(found) > 1:
        raise StudyError(
            f"{folder}: both ratings.parquet and ratings.jsonl; keep only the one to analyse"
        )
    return found[0]


def _count(excluded: dict[str, int], reason: str, count: int) -> None:
    if count:
        excluded[reason] = excluded.get(reason, 0) + count


def _join(
    votes: pd.DataFrame,
    prompts: Sequence[Prompt],
    questions: Sequence[Question],
    videos: Sequence[Video],
    taxonomy: Taxonomy,
    excluded: dict[str, int],
    strict: bool,
) -> pd.DataFrame:
    import pandas as pd

    prompt_rows = {
        p.id: {
            "split": p.split,
            "role": p.role or "",
            "difficulty": p.difficulty or "",
            "genre": p.genre or "",
            "temporal": next((c.value or "" for c in p.controls if c.node == TEMPORAL), ""),
        }
        for p in prompts
    }
    question_frame = pd.DataFrame(
        [
            {
                "question_id": q.id,
                "question_prompt": q.prompt_id,
                "node": q.node,
                "value": q.value or "",
                "axis": q.node.split(".", 1)[0],
                "group": group_of(q.node),
            }
            for q in questions
        ]
    )
    video_frame = pd.DataFrame(
        [{"video_id": v.id, "prompt_id": v.prompt_id, "model": v.model} for v in videos]
    )
    unknown_prompts = sorted({v.prompt_id for v in videos} - set(prompt_rows))
    if unknown_prompts:
        raise StudyError(
            f"videos.jsonl: videos of unknown prompts: {', '.join(unknown_prompts[:5])}"
        )
    known_video = votes["video_id"].isin(video_frame["video_id"])
    votes = _keep(votes, known_video, "unknown video_id", excluded, strict)
    known_question = votes["question_id"].isin(question_frame["question_id"])
    votes = _keep(votes, known_question, "unknown question_id", excluded, strict)
    votes = votes.merge(video_frame, on="video_id", how="left")
    votes = votes.merge(question_frame, on="question_id", how="left")
    votes = _keep(
        votes,
        votes["question_prompt"] == votes["prompt_id"],
        "question is about another prompt than the video",
        excluded,
        strict,
    )
    duplicated = votes.duplicated(["rater", "video_id", "question_id"], keep="first")
    votes = _keep(
        votes, ~duplicated, "repeated vote (same rater, video, question)", excluded, strict
    )
    attributes = pd.DataFrame.from_dict(prompt_rows, orient="index")
    votes = votes.join(attributes, on="prompt_id")
    columns = [*ITEM_COLUMNS, "rater", "rater_kind", "score", "pair_id"]
    return votes[columns]


def _keep(
    votes: pd.DataFrame, keep: pd.Series, reason: str, excluded: dict[str, int], strict: bool
) -> pd.DataFrame:
    dropped = int((~keep).sum())
    if dropped and strict:
        example = votes[~keep].iloc[0]
        raise StudyError(
            f"{dropped} rating(s): {reason}, e.g. video {example['video_id']!r}, "
            f"question {example['question_id']!r}, rater {example['rater']!r}"
        )
    _count(excluded, reason, dropped)
    return votes[keep]


def _items(votes: pd.DataFrame) -> pd.DataFrame:
    grouped = votes.groupby(list(ITEM_COLUMNS), sort=True, observed=True, dropna=False)
    items = grouped["score"].agg(score="mean", votes="size").reset_index()
    items["score01"] = (items["score"] - 1.0) / 4.0
    return items

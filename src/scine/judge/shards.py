"""Rating in shards: N independent jobs (one per GPU or machine) each rate every N-th video,
and a merge checks that every shard finished and no (video, question) was rated twice."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scine.records import Rating, Video, read_jsonl

__all__ = ["MergedShards", "ShardError", "merge_shards", "report_path", "shard_of", "shard_path"]


class ShardError(ValueError):
    """Shards that cannot be merged; the message names the files."""


@dataclass(frozen=True)
class MergedShards:
    """The merged ratings and the shard files they came from."""

    ratings: list[Rating]
    shards: list[Path]
    unscored: dict[str, int]  # shard file name -> questions without a score, unreadable videos


def shard_of(videos: Sequence[Video], index: int, count: int) -> list[Video]:
    """Shard ``index`` of ``count``: every ``count``-th video by id from the ``index``-th, so
    the shards split the videos whatever order the file lists them in."""
    return sorted(videos, key=lambda video: video.id)[index::count]


def shard_path(out: Path, index: int, count: int) -> Path:
    """Where shard ``index`` of ``count`` writes the ratings meant for ``out``."""
    return out.with_name(f"{out.stem}.shard-{index}-of-{count}{out.suffix}")


def merge_shards(out: Path, *, allow_failures: bool = False) -> MergedShards:
    """The ratings of every shard of ``out``; refuses a missing shard, shards of different
    counts, shards whose reports name different judges, question files or sampling, a shard
    with questions left without a score (unless ``allow_failures``), and a (video, question)
    rated by the same rater in two shards."""
    pattern = re.compile(rf"{re.escape(out.stem)}\.shard-(\d+)-of-(\d+){re.escape(out.suffix)}")
    found = {}
    for path in sorted(out.parent.glob(f"{out.stem}.shard-*-of-*{out.suffix}")):
        match = pattern.fullmatch(path.name)
        if match:
            found[int(match[1]), int(match[2])] = path
    if not found:
        raise ShardError(f"no shard of {out} (expected {shard_path(out, 0, 2).name} and so on)")
    counts = sorted({count for _, count in found})
    if len(counts) > 1:
        raise ShardError(f"shards of {out} from runs of {' and '.join(map(str, counts))} shards")
    count = counts[0]
    missing = [str(shard_path(out, i, count)) for i in range(count) if (i, count) not in found]
    if missing:
        raise ShardError(f"missing shard(s) of {out}: {', '.join(missing)}")
    paths = [found[i, count] for i in range(count)]
    reports = {path: _report(path) for path in paths}
    for key in ("judge", "questions_sha256", "sampling"):
        kinds = {json.dumps(report.get(key), sort_keys=True) for report in reports.values()}
        if len(kinds) > 1:
            raise ShardError(
                f"the shards of {out} differ in their reports' {key!r}: {', '.join(sorted(kinds))}"
            )
    unscored = {path.name: _unscored(report) for path, report in reports.items()}
    if not allow_failures and any(unscored.values()):
        named = ", ".join(f"{name} ({n})" for name, n in unscored.items() if n)
        raise ShardError(
            f"shard(s) of {out} left questions without a score: {named}; rerun them (answers "
            "made are cached) or merge with --allow-failures"
        )
    ratings = [rating for path in paths for rating in read_jsonl(path, Rating)]
    seen = Counter((r.video_id, r.question_id, r.rater) for r in ratings)
    twice = sorted(key for key, n in seen.items() if n > 1)
    if twice:
        video, question, rater = twice[0]
        raise ShardError(
            f"{len(twice)} (video, question) rated twice across the shards of {out}, e.g. "
            f"{video} on {question} by {rater}"
        )
    return MergedShards(ratings, paths, unscored)


def report_path(out: Path) -> Path:
    """Where a run writing ``out`` writes its report."""
    return out.with_name(f"{out.stem}.report.json")


def _report(shard: Path) -> dict[str, Any]:
    path = report_path(shard)
    if not path.is_file():
        raise ShardError(f"{path}: no report of shard {shard.name}; rerun that shard")
    try:
        found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ShardError(
            f"{path}: not JSON ({exc.msg}, line {exc.lineno}); rerun that shard"
        ) from None
    return found


def _unscored(report: dict[str, Any]) -> int:
    """Questions a shard's run left without a score, and videos it could not read."""
    return len(report.get("failures") or []) + len(report.get("unreadable") or {})

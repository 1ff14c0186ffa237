"""Rating in shards: N independent jobs (one per GPU or machine) each rate every N-th video,
and a merge checks that every shard finished and no (video, question) was rated twice."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scine.records import Rating, Video, read_jsonl

__all__ = ["MergedShards", "ShardError", "merge_shards", "shard_of", "shard_path"]


class ShardError(ValueError):
    """Shards that cannot be merged; the message names the files."""


@dataclass(frozen=True)
class MergedShards:
    """The merged ratings and the shard files they came from."""

    ratings: list[Rating]
    shards: list[Path]


def shard_of(videos: Sequence[Video], index: int, count: int) -> list[Video]:
    """Shard ``index`` of ``count``: every ``count``-th video by id from the ``index``-th, so
    the shards split the videos whatever order the file lists them in."""
    return sorted(videos, key=lambda video: video.id)[index::count]


def shard_path(out: Path, index: int, count: int) -> Path:
    """Where shard ``index`` of ``count`` writes the ratings meant for ``out``."""
    return out.with_name(f"{out.stem}.shard-{index}-of-{count}{out.suffix}")


def merge_shards(out: Path) -> MergedShards:
    """The ratings of every shard of ``out``; refuses a missing shard, shards of different
    counts, and a (video, question) rated by the same rater in two shards."""
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
    ratings = [rating for path in paths for rating in read_jsonl(path, Rating)]
    seen = Counter((r.video_id, r.question_id, r.rater) for r in ratings)
    twice = sorted(key for key, n in seen.items() if n > 1)
    if twice:
        video, question, rater = twice[0]
        raise ShardError(
            f"{len(twice)} (video, question) rated twice across the shards of {out}, e.g. "
            f"{video} on {question} by {rater}"
        )
    return MergedShards(ratings, paths)

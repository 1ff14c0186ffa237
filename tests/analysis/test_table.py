"""Loading a study: the long table, validation errors, explicit exclusions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scine.analysis.simulate import SimulationConfig, simulate, write_simulation
from scine.analysis.table import ITEM_COLUMNS, StudyError, group_of, load_study
from scine.records import Rating, RecordError, read_parquet, write_jsonl, write_parquet


@pytest.fixture(scope="module")
def study_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("study")
    write_simulation(simulate(SimulationConfig(models=3, prompts=20, seed=4)), folder)
    return folder


def copy(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "study"
    shutil.copytree(folder, target)
    return target


def test_items_are_vote_means_with_attributes(study_folder: Path) -> None:
    study = load_study(study_folder)
    assert study.excluded == {}
    assert study.models == ["sim-01", "sim-02", "sim-03"]
    assert list(study.items.columns[: len(ITEM_COLUMNS)]) == list(ITEM_COLUMNS)
    means = study.votes.groupby(["video_id", "question_id"])["score"].mean()
    items = study.items.set_index(["video_id", "question_id"])
    assert (items["score"] - means).abs().max() < 1e-12
    assert (items["score01"] == (items["score"] - 1) / 4).all()
    first = study.items.iloc[0]
    assert first["axis"] == first["node"].split(".")[0]
    assert first["video_id"].startswith(first["model"] + "/")


def test_a_group_holds_every_leaf_nested_under_it() -> None:
    assert group_of("events.types.emotions.explicit") == "events.types"
    assert group_of("events.types.environment_change") == "events.types"
    assert group_of("camera.extrinsics.angle") == "camera.extrinsics"
    assert group_of("lighting.color_temperature") == "lighting.color_temperature"


def test_groups_of_a_study_are_the_axes_children(study_folder: Path) -> None:
    items = load_study(study_folder).items
    assert (items["group"] == items["node"].map(group_of)).all()
    assert not set(items["group"]) & {"setup", "events", "lighting", "camera"}


def test_ratings_jsonl_reads_like_parquet(study_folder: Path, tmp_path: Path) -> None:
    folder = copy(study_folder, tmp_path)
    write_jsonl(folder / "ratings.jsonl", read_parquet(folder / "ratings.parquet", Rating))
    (folder / "ratings.parquet").unlink()
    from_jsonl = load_study(folder).items
    pd.testing.assert_frame_equal(from_jsonl, load_study(study_folder).items)


def test_two_ratings_files_are_refused(study_folder: Path, tmp_path: Path) -> None:
    folder = copy(study_folder, tmp_path)
    write_jsonl(folder / "ratings.jsonl", read_parquet(folder / "ratings.parquet", Rating))
    with pytest.raises(StudyError, match=r"both ratings\.parquet and ratings\.jsonl"):
        load_study(folder)


def test_score_out_of_range_names_row_and_field(study_folder: Path, tmp_path: Path) -> None:
    folder = copy(study_folder, tmp_path)
    table = pq.read_table(folder / "ratings.parquet").to_pandas()
    table.loc[6, "score"] = 6.0
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), folder / "ratings.parquet")
    with pytest.raises(
        RecordError,
        match=r"ratings\.parquet: field 'score' must be a number from 1 to 5: row 7 \(got 6\.0\)",
    ):
        load_study(folder)


def test_missing_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(StudyError, match=r"no prompts\.jsonl"):
        load_study(tmp_path)


def test_unanalysable_ratings_are_counted_or_refused(study_folder: Path, tmp_path: Path) -> None:
    folder = copy(study_folder, tmp_path)
    ratings = read_parquet(folder / "ratings.parquet", Rating)
    first = ratings[0]
    other_prompt = next(
        r for r in ratings if r.video_id.split("/")[1] != first.video_id.split("/")[1]
    )
    extra = [
        first,  # the same rater again on the same video and question
        first.model_copy(update={"video_id": "ghost/scr-9999"}),
        first.model_copy(update={"question_id": "scr-9999/camera.extrinsics.angle"}),
        first.model_copy(update={"question_id": other_prompt.question_id, "rater": "someone"}),
    ]
    write_parquet(folder / "ratings.parquet", [*ratings, *extra], Rating)
    study = load_study(folder)
    assert study.excluded == {
        "unknown video_id": 1,
        "unknown question_id": 1,
        "question is about another prompt than the video": 1,
        "repeated vote (same rater, video, question)": 1,
    }
    assert len(study.votes) == len(ratings)
    with pytest.raises(StudyError, match=r"unknown video_id, e\.g\. video 'ghost/scr-9999'"):
        load_study(folder, strict=True)


def test_models_without_ratings_and_rater_kind_are_counted(
    study_folder: Path, tmp_path: Path
) -> None:
    folder = copy(study_folder, tmp_path)
    ratings = read_parquet(folder / "ratings.parquet", Rating)
    kept = [r for r in ratings if not r.video_id.startswith("sim-03/")]
    write_parquet(folder / "ratings.parquet", kept, Rating)
    study = load_study(folder)
    assert study.models == ["sim-01", "sim-02"]
    assert study.excluded == {"models with videos but no ratings": 1}
    machine = load_study(folder, rater_kind="model")
    assert machine.excluded["rater_kind is not model"] == len(kept)

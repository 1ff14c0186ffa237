"""Importing videos by CSV, JSONL and directory maps: every row imported or reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scine.records import Prompt
from scine.video.importer import (
    BadFile,
    ImportReport,
    VideoImportError,
    import_videos,
    write_import_report,
)
from tests.video.test_probe import cut, encode, encode_audio

PROMPTS = [Prompt(id=f"p{n}", text=f"Shot {n}.", split="custom") for n in (1, 2, 3)]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


CODECS = {".webm": "libvpx-vp9", ".avi": "mpeg4", ".gif": "gif"}


def video(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return encode(path, seed=seed, codec=CODECS.get(path.suffix.lower(), "libx264"))


def accounted(report: ImportReport) -> None:
    """Nothing dropped: every row is a video or a bad file."""
    assert report.rows == len(report.videos) + len(report.bad)


def by_line(report: ImportReport) -> dict[int | None, BadFile]:
    return {entry.line: entry for entry in report.bad}


def test_csv_map(tmp_path: Path) -> None:
    video(tmp_path / "a" / "one.mp4", seed=1)
    video(tmp_path / "a" / "two.mp4", seed=2)
    video(tmp_path / "b" / "one.mkv", seed=3)
    mapping = write(
        tmp_path / "map.csv",
        "prompt_id,model,path,seed\n"
        "p1,model-a,./a/one.mp4,7\n"
        "\n"
        "p2,model-a,a/sub/../two.mp4,\n"
        "p1,model-b,b/one.mkv,-3\n",
    )
    report = import_videos(PROMPTS, mapping)
    accounted(report)
    assert report.bad == []
    assert [(v.id, v.path, v.seed) for v in report.videos] == [
        ("model-a/p1", "a/one.mp4", 7),
        ("model-a/p2", "a/two.mp4", None),
        ("model-b/p1", "b/one.mkv", -3),
    ]
    first = report.videos[0]
    assert (first.fps, first.frames, first.width, first.height) == (24.0, 12, 64, 48)
    assert first.provenance == {
        "source": "import",
        "codec": "h264",
        "container": "mov,mp4,m4a,3gp,3g2,mj2",
        "duration": pytest.approx(0.5),
        "size_bytes": (tmp_path / "a" / "one.mp4").stat().st_size,
        "probe": "pyav",
    }
    assert report.models == ["model-a", "model-b"]
    assert report.missing == [("p3", "model-a"), ("p2", "model-b"), ("p3", "model-b")]
    assert report.root == tmp_path


def test_jsonl_map_with_absolute_paths_and_a_root(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    clip = video(videos / "m" / "x.webm")
    rows = [
        {"prompt_id": "p3", "model": "m", "path": str(clip), "seed": 5},
        {"prompt_id": "p2", "model": "m", "path": "m/x2.mp4"},
    ]
    video(videos / "m" / "x2.mp4", seed=1)
    mapping = write(tmp_path / "maps" / "map.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    report = import_videos(PROMPTS, mapping, root=videos)
    accounted(report)
    assert [(v.id, v.path, v.seed) for v in report.videos] == [
        ("m/p3", "m/x.webm", 5),
        ("m/p2", "m/x2.mp4", None),
    ]
    assert report.missing == [("p1", "m")]


def test_directory_map(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    video(root / "model-a" / "p1.mp4")
    video(root / "model-a" / "p2.MOV", seed=1)
    video(root / "model-b" / "p3.webm", seed=2)
    write(root / "model-a" / "notes.txt", "stray\n")
    write(root / "README.md", "stray\n")
    video(root / "model-b" / "extra" / "p1.mp4", seed=3)
    video(root / "model-b" / "model-a_p2_seed3_final.mp4", seed=4)
    report = import_videos(PROMPTS, root)
    accounted(report)
    assert [(v.id, v.path, v.seed) for v in report.videos] == [
        ("model-a/p1", "model-a/p1.mp4", None),
        ("model-a/p2", "model-a/p2.MOV", None),
        ("model-b/p3", "model-b/p3.webm", None),
    ]
    layout = [e.path for e in report.bad if e.kind == "not_in_layout"]
    assert layout == ["README.md", "model-a/notes.txt", "model-b/extra/p1.mp4"]
    assert all(
        e.reason.startswith(f"not in the layout {root}/<model>/<prompt_id>.mp4")
        for e in report.bad
        if e.kind == "not_in_layout"
    )
    # nothing is inferred from a long file name: its stem is an unknown prompt id
    assert [(e.path, e.prompt_id) for e in report.unknown_prompts] == [
        ("model-b/model-a_p2_seed3_final.mp4", "model-a_p2_seed3_final")
    ]
    assert report.missing == [("p3", "model-a"), ("p1", "model-b"), ("p2", "model-b")]


def test_every_bad_file_is_reported_with_its_line(tmp_path: Path) -> None:
    root = tmp_path / "root"
    good = video(root / "good.mp4")
    whole = video(root / "whole.mp4", seed=1)
    cut(whole, whole.stat().st_size // 2, "half.mp4")
    write(root / "zero.mp4", "")
    encode_audio(root / "audio.mp4")
    video(root / "clip.mp4", seed=2).rename(root / "clip.txt")
    write(root / "text.mp4", "hello\n")
    encode(root / "wide.mp4", width=8200, height=16, frames=2)
    outside = video(tmp_path / "outside.mp4", seed=3)
    (root / "link.mp4").symlink_to(outside)
    (root / "inner-link.mp4").symlink_to(good)
    lines = [
        "prompt_id,model,path",
        "p1,m,half.mp4",  # 2
        "p2,m,zero.mp4",  # 3
        "p3,m,audio.mp4",  # 4
        "p1,n,clip.txt",  # 5
        "p2,n,text.mp4",  # 6
        "p3,n,wide.mp4",  # 7
        "p1,o,../outside.mp4",  # 8
        f"p2,o,{outside}",  # 9
        "p3,o,link.mp4",  # 10
        "p9,m,good.mp4",  # 11
        "p1,q,good.mp4",  # 12
        "p1,q,whole.mp4",  # 13
        " p2,q,whole.mp4",  # 14
        "p2,a/b,whole.mp4",  # 15
        "p3,q,",  # 16
        "p1,r,good.mp4",  # 17
        "p2,r,inner-link.mp4",  # 18
        "p3,r,nowhere.mp4",  # 19
    ]
    report = import_videos(PROMPTS, write(root / "map.csv", "\n".join(lines) + "\n"))
    accounted(report)
    assert report.videos == []
    bad = by_line(report)
    expected = {
        2: ("video", "truncated: the file ends at byte"),
        3: ("video", "empty file (0 bytes)"),
        4: ("video", "no video stream (audio only)"),
        5: ("video", "extension .txt is not a video file type"),
        6: ("video", "not a video container FFmpeg can read"),
        7: ("video", "resolution 8200x16 over the limit of 8192 pixels per side"),
        8: ("outside_root", f"path escapes the root {root}"),
        9: ("outside_root", f"path escapes the root {root}"),
        10: ("outside_root", f"path escapes the root {root}"),
        11: ("unknown_prompt", "prompt_id 'p9' is not among the 3 prompts"),
        12: ("duplicate", "duplicate: prompt 'p1' and model 'q' are also on line 13"),
        13: ("duplicate", "duplicate: prompt 'p1' and model 'q' are also on line 12"),
        14: ("invalid", "prompt_id ' p2' is not a valid id"),
        15: ("invalid", "model 'a/b' contains '/'"),
        16: ("invalid", "path is empty"),
        17: ("same_file", "the same file is also mapped on line 18 (r/p2)"),
        18: ("same_file", "the same file is also mapped on line 17 (r/p1)"),
        19: ("video", "file not found"),
    }
    assert {line: (e.kind, e.reason[: len(expected[line][1])]) for line, e in bad.items()} == (
        expected
    )
    assert [(e.line, e.path, e.prompt_id, e.model) for e in report.unknown_prompts] == [
        (11, "good.mp4", "p9", "m")
    ]
    assert [e.line for e in report.duplicates] == [12, 13]
    # q has rows, so all its prompts are missing; a/b is not a valid model, so it has none
    assert report.models == ["m", "n", "o", "q", "r"]
    assert len(report.missing) == 15


def test_a_symlink_inside_the_root_is_fine(tmp_path: Path) -> None:
    clip = video(tmp_path / "store" / "clip.mp4")
    (tmp_path / "link.mp4").symlink_to(clip)
    mapping = write(tmp_path / "map.csv", "prompt_id,model,path\np1,m,link.mp4\n")
    report = import_videos(PROMPTS, mapping)
    assert [v.path for v in report.videos] == ["link.mp4"]


def test_a_directory_map_with_a_link_out(tmp_path: Path) -> None:
    outside = video(tmp_path / "elsewhere" / "p1.mp4")
    (tmp_path / "dir" / "m").mkdir(parents=True)
    (tmp_path / "dir" / "m" / "p1.mp4").symlink_to(outside)
    report = import_videos(PROMPTS, tmp_path / "dir")
    assert [(e.path, e.kind) for e in report.bad] == [("m/p1.mp4", "outside_root")]
    assert report.missing == [("p1", "m"), ("p2", "m"), ("p3", "m")]


def test_duplicates_in_a_directory_map(tmp_path: Path) -> None:
    video(tmp_path / "m" / "p1.mp4")
    video(tmp_path / "m" / "p1.mkv", seed=1)
    report = import_videos(PROMPTS, tmp_path)
    assert [(e.path, e.reason) for e in report.duplicates] == [
        ("m/p1.mkv", "duplicate: prompt 'p1' and model 'm' are also on m/p1.mp4"),
        ("m/p1.mp4", "duplicate: prompt 'p1' and model 'm' are also on m/p1.mkv"),
    ]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("m.csv", "prompt_id,path\np1,a.mp4\n", r"m\.csv:1: header: field 'model' is missing"),
        ("m.csv", "prompt_id,model,path\np1,m\n", r"m\.csv:2: field 'path' is missing"),
        ("m.csv", "prompt_id,model,path\np1,m,a,b\n", r"m\.csv:2: 4 cells, the header has 3"),
        ("m.csv", "prompt_id,model,path,sed\n", r"m\.csv:1: header: unknown field\(s\) 'sed'"),
        ("m.csv", "prompt_id,model,path,seed\np1,m,a,x\n", r"m\.csv:2: field 'seed': expected"),
        ("m.csv", "", r"m\.csv: empty file, expected the header prompt_id,model,path"),
        ("m.jsonl", '{"prompt_id": "p1", "path": "a"}\n', r"m\.jsonl:1: field 'model' is missing"),
        ("m.jsonl", '\n{"prompt_id": "p1",\n', r"m\.jsonl:2: invalid JSON: .* \(column \d+\)"),
        ("m.jsonl", '["p1", "m", "a"]\n', r"m\.jsonl:1: expected a JSON object"),
        (
            "m.jsonl",
            '{"prompt_id": 1, "model": "m", "path": "a"}\n',
            r"'prompt_id': expected a str",
        ),
        ("m.jsonl", '{"prompt_id": "p", "model": "m", "path": "a", "seed": true}\n', r"'seed'"),
        ("m.txt", "p1 m a.mp4\n", r"m\.txt: unknown map type '\.txt'"),
    ],
)
def test_a_malformed_map_is_an_error(tmp_path: Path, name: str, text: str, message: str) -> None:
    with pytest.raises(VideoImportError, match=message):
        import_videos(PROMPTS, write(tmp_path / name, text))


def test_a_map_that_is_not_there(tmp_path: Path) -> None:
    with pytest.raises(VideoImportError, match=r"nothing\.csv: map not found"):
        import_videos(PROMPTS, tmp_path / "nothing.csv")


def test_parallel_probes_give_the_same_report(tmp_path: Path) -> None:
    for n in range(3):
        video(tmp_path / "m" / f"p{n + 1}.mp4", seed=n)
    cut(tmp_path / "m" / "p1.mp4", 900, "p9.mp4")
    calls: list[tuple[int, int]] = []
    serial = import_videos(PROMPTS, tmp_path)
    parallel = import_videos(PROMPTS, tmp_path, workers=3, progress=lambda *a: calls.append(a))
    assert parallel == serial
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_report_file(tmp_path: Path) -> None:
    video(tmp_path / "m" / "p1.mp4")
    write(tmp_path / "m" / "p2.mp4", "")
    write(tmp_path / "stray.txt", "")
    report = import_videos(PROMPTS, tmp_path)
    write_import_report(report, tmp_path / "out" / "import.json")
    data = json.loads((tmp_path / "out" / "import.json").read_text())
    assert data["counts"] == {
        "rows": 3,
        "imported": 1,
        "bad": 2,
        "bad_by_kind": {"not_in_layout": 1, "video": 1},
        "missing": 2,
        "models": 1,
    }
    assert data["limits"] == {"max_side": 8192, "max_pixels": 40_000_000}
    assert data["models"] == {"m": {"imported": 1, "bad": 1, "missing": 2}}
    assert data["bad"][0] == {
        "path": "m/p2.mp4",
        "prompt_id": "p2",
        "model": "m",
        "line": None,
        "kind": "video",
        "reason": "empty file (0 bytes)",
    }
    assert data["missing"] == [{"prompt_id": "p2", "model": "m"}, {"prompt_id": "p3", "model": "m"}]
    assert data["root"] == str(tmp_path)


def test_duplicate_prompt_ids_are_refused(tmp_path: Path) -> None:
    with pytest.raises(VideoImportError, match="duplicate prompt id 'p1'"):
        import_videos([PROMPTS[0], PROMPTS[0]], tmp_path)


def test_root_must_be_a_directory(tmp_path: Path) -> None:
    mapping = write(tmp_path / "map.csv", "prompt_id,model,path\n")
    with pytest.raises(VideoImportError, match="the root is not a directory"):
        import_videos(PROMPTS, mapping, root=tmp_path / "none")

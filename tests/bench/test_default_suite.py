"""The packaged default suite is exactly what ``scine bench build`` makes from its seed."""

from __future__ import annotations

import json
from pathlib import Path

from scine.bench import default_suite_path
from scine.bench.build import BuildConfig, build_suite, write_suite
from scine.bench.seeds import packaged_seeds
from scine.bench.writers import OfflineWriter
from scine.records import Prompt, Question, read_jsonl
from scine.taxonomy import load_taxonomy

FILES = ("prompts.jsonl", "questions.jsonl", "manifest.json")


def test_rebuilt_byte_for_byte(tmp_path: Path) -> None:
    packaged = default_suite_path()
    manifest = json.loads((packaged / "manifest.json").read_text(encoding="utf-8"))
    config = BuildConfig.model_validate(manifest["config"])
    taxonomy = load_taxonomy()
    suite = build_suite(config, OfflineWriter(taxonomy, config.seed), taxonomy, packaged_seeds())
    write_suite(suite, tmp_path)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (packaged / name).read_bytes(), (
            f"{name} differs: rebuild with "
            "`scine bench build --out src/scine/bench/data/suite --force`"
        )


def test_paper_proportions_and_validity() -> None:
    taxonomy = load_taxonomy()
    prompts = read_jsonl(default_suite_path() / "prompts.jsonl", Prompt, taxonomy)
    questions = read_jsonl(default_suite_path() / "questions.jsonl", Question, taxonomy)
    scripts = [p for p in prompts if p.split == "scripts"]
    visuals = [p for p in prompts if p.split == "visuals"]
    assert 1100 <= len(scripts) <= 1160
    assert 930 <= len(visuals) <= 980
    assert {p.role for p in prompts} == {
        "screenwriter",
        "cinematographer",
        "production_designer",
        "director",
    }
    assert {(p.role, p.difficulty) for p in visuals} >= {
        (role, level)
        for role in ("cinematographer", "production_designer", "director")
        for level in ("basic", "advanced")
    }
    assert len({p.genre for p in prompts}) >= 12
    prompt_ids = {p.id for p in prompts}
    assert {q.prompt_id for q in questions} == prompt_ids
    assert all(p.parent_id in prompt_ids for p in visuals)

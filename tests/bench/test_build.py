"""Building suites: sizes, roles, difficulty, determinism, rewriting violators, the LLM path."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from scine.bench.build import CAST_LEAVES, ROLE_AXES, BuildConfig, build_suite, write_suite
from scine.bench.seeds import packaged_seeds
from scine.bench.writers import Draft, LLMWriter, OfflineWriter, ScriptJob, VisualJob
from scine.llm import make_llm
from scine.records import Prompt
from scine.taxonomy import load_taxonomy

from ..llm.chat_server import Reply, serve

TAXONOMY = load_taxonomy()
SEEDS = packaged_seeds()
SMALL = BuildConfig(seed=3, scripts=40, visuals=60)


@pytest.fixture(scope="module")
def small() -> list[Prompt]:
    return build_suite(SMALL, OfflineWriter(TAXONOMY, SMALL.seed), TAXONOMY, SEEDS).prompts


def test_sizes_roles_and_difficulties(small: list[Prompt]) -> None:
    scripts = [p for p in small if p.split == "scripts"]
    visuals = [p for p in small if p.split == "visuals"]
    assert len(scripts) == 40
    assert len(visuals) == 60
    assert {p.role for p in scripts} == {"screenwriter"}
    assert Counter(p.role for p in visuals) == {
        "cinematographer": 20,
        "production_designer": 20,
        "director": 20,
    }
    assert {p.difficulty for p in small} == {"basic", "advanced"}


def test_scripts_sample_events_on_their_seed(small: list[Prompt]) -> None:
    seeds = {seed.id: seed for seed in SEEDS}
    for prompt in (p for p in small if p.split == "scripts"):
        seed = seeds[str(prompt.provenance["seed_script"])]
        sampled = prompt.controls[len(seed.controls) :]
        assert prompt.controls[: len(seed.controls)] == seed.controls
        assert all(c.node.startswith("events.") for c in sampled)
        high = (SMALL.script_advanced if prompt.difficulty == "advanced" else SMALL.script_basic)[1]
        assert len(sampled) <= high
        assert prompt.genre == seed.genre


def test_visuals_inject_the_roles_axes_within_the_difficulty(small: list[Prompt]) -> None:
    by_id = {p.id: p for p in small}
    for prompt in (p for p in small if p.split == "visuals"):
        parent = by_id[str(prompt.parent_id)]
        injected = prompt.controls[len(parent.controls) :]
        assert prompt.controls[: len(parent.controls)] == parent.controls
        assert [c.node for c in injected] == prompt.provenance["injected"]
        assert {c.node.split(".")[0] for c in injected} <= set(ROLE_AXES[str(prompt.role)])
        assert not {c.node for c in injected} & CAST_LEAVES
        assert not {c.node for c in injected} & {c.node for c in parent.controls}
        if prompt.difficulty == "basic":
            assert 1 <= len(injected) <= SMALL.visual_basic_max
        else:
            assert SMALL.visual_advanced[0] <= len(injected) <= SMALL.visual_advanced[1]


def test_every_control_is_valid_and_dependencies_hold(small: list[Prompt]) -> None:
    for prompt in small:
        nodes = [c.node for c in prompt.controls]
        assert len(nodes) == len(set(nodes)), prompt.id
        for control in prompt.controls:
            TAXONOMY.check_control(control.node, control.value)
            parent = TAXONOMY.leaf(control.node).dependent_on
            assert parent is None or parent in nodes, (prompt.id, control.node)


def test_the_text_states_exactly_the_recorded_leaves(small: list[Prompt]) -> None:
    for prompt in small:
        spotted = {target[0] for spot in TAXONOMY.spot(prompt.text) for target in spot.targets}
        assert {c.node for c in prompt.controls} <= spotted, prompt.id


def test_same_config_same_bytes_other_seed_other_text(tmp_path: Path) -> None:
    config = BuildConfig(seed=5, scripts=15, visuals=15)
    for name in ("a", "b"):
        suite = build_suite(config, OfflineWriter(TAXONOMY, 5), TAXONOMY, SEEDS)
        write_suite(suite, tmp_path / name)
    for file in ("prompts.jsonl", "questions.jsonl", "manifest.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    other = build_suite(
        config.model_copy(update={"seed": 6}), OfflineWriter(TAXONOMY, 6), TAXONOMY, SEEDS
    )
    first = (tmp_path / "a" / "prompts.jsonl").read_text(encoding="utf-8")
    assert other.prompts[0].text not in first


def test_manifest_counts(tmp_path: Path) -> None:
    suite = build_suite(SMALL, OfflineWriter(TAXONOMY, SMALL.seed), TAXONOMY, SEEDS)
    counts = suite.manifest["counts"]
    assert counts["prompts"] == len(suite.prompts) == 100
    assert counts["questions"] == len(suite.questions)
    assert sum(counts["by_role_and_difficulty"].values()) == 100
    assert suite.manifest["taxonomy_version"] == TAXONOMY.version
    assert suite.manifest["config"]["seed"] == 3
    assert suite.manifest["failures"] == []
    assert len(suite.questions) == sum(len(p.controls) for p in suite.prompts)


@dataclass
class Stubborn:
    """A writer whose first drafts break the rules: it must be asked again."""

    name: str = "stubborn"
    bad_first: int = 1
    always_bad: set[str] = field(default_factory=set)
    calls: int = 0

    def _text(self, prompt_id: str, attempt: int) -> str:
        if prompt_id in self.always_bad or attempt < self.bad_first:
            return "A woman waves. CUT TO: a street. We hear a dog."
        return "A woman sits by a window in a kitchen."

    def scripts(self, jobs: Sequence[ScriptJob], progress: object = None) -> list[Draft]:
        self.calls += 1
        return [Draft(self._text(job.prompt_id, job.attempt)) for job in jobs]

    def visuals(self, jobs: Sequence[VisualJob], progress: object = None) -> list[Draft]:
        self.calls += 1
        return [Draft(self._text(job.prompt_id, job.attempt)) for job in jobs]


def test_violators_are_rewritten_and_every_rejection_counted() -> None:
    config = BuildConfig(seed=1, scripts=4, visuals=3)
    suite = build_suite(config, Stubborn(), TAXONOMY, SEEDS)
    assert len(suite.prompts) == 7
    assert suite.manifest["rejections"] == {"more than one shot": 7, "something off screen": 7}
    assert all(p.provenance["attempts"] == 2 for p in suite.prompts)


def test_prompts_that_never_pass_are_listed_not_lost() -> None:
    config = BuildConfig(seed=1, scripts=3, visuals=0, max_attempts=3)
    suite = build_suite(config, Stubborn(always_bad={"scr-0002"}), TAXONOMY, SEEDS)
    assert [p.id for p in suite.prompts] == ["scr-0001", "scr-0003"]
    (failure,) = suite.manifest["failures"]
    assert failure["prompt"] == "scr-0002"
    assert any(reason.startswith("more than one shot") for reason in failure["reasons"])
    assert suite.manifest["rejections"]["more than one shot"] == 2 + 3


def test_bad_configs() -> None:
    with pytest.raises(ValueError, match="range"):
        BuildConfig(script_basic=(3, 1))
    with pytest.raises(ValueError, match="at least one of the roles"):
        BuildConfig(roles=("screenwriter",), visuals=5)
    with pytest.raises(ValueError, match="--scripts must be > 0"):
        BuildConfig(scripts=0, visuals=5)


def test_roles_without_screenwriter_keep_only_parent_scripts() -> None:
    config = BuildConfig(seed=2, scripts=30, visuals=6, roles=("cinematographer",))
    suite = build_suite(config, OfflineWriter(TAXONOMY, 2), TAXONOMY, SEEDS)
    visuals = [p for p in suite.prompts if p.split == "visuals"]
    scripts = [p for p in suite.prompts if p.split == "scripts"]
    assert {p.role for p in visuals} == {"cinematographer"}
    assert {p.id for p in scripts} == {p.parent_id for p in visuals}


def _llm_reply(body: dict[str, object]) -> Reply:
    messages = body["messages"]
    assert isinstance(messages, list)
    system = messages[0]["content"]
    if "screenwriter" in system:
        return Reply(content=json.dumps({"script": "A baker kneads dough in a bakery."}))
    return Reply(content=json.dumps({"prompt": "A baker kneads dough. The camera pans left."}))


def test_llm_writer_against_a_local_server_and_its_cache(tmp_path: Path) -> None:
    config = BuildConfig(seed=4, scripts=3, visuals=3)
    with serve() as server:
        server.default = _llm_reply
        llm = make_llm("openai:test-model", base_url=server.base_url, cache_dir=tmp_path)
        assert llm is not None
        suite = build_suite(config, LLMWriter(llm, TAXONOMY), TAXONOMY, SEEDS)
        first_requests = len(server.requests)
        again = build_suite(config, LLMWriter(llm, TAXONOMY), TAXONOMY, SEEDS)
    assert first_requests == 6
    assert len(server.requests) == 6, "a re-run is answered from the cache"
    assert [p.text for p in suite.prompts] == [p.text for p in again.prompts]
    assert suite.manifest["writer"] == "openai:test-model"
    script_request = server.requests[0]["messages"]
    assert "Genre:" in script_request[1]["content"]
    assert suite.prompts[0].provenance["writer"] == "openai:test-model"

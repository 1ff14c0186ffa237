"""The run configuration: defaults, TOML, errors naming file and key, paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from scine.run import ConfigError, RunConfig, load_config
from scine.run.pipeline import _toml


def test_no_file_is_the_embedded_default() -> None:
    config = load_config(None)
    assert config == RunConfig()
    assert [m.name for m in config.models] == ["synth-good", "synth-fair", "synth-poor"]
    assert [e.judge for e in config.evaluators] == ["probes"]
    assert config.human.source == "simulate"
    assert config.primary == "probes"


def test_the_written_configuration_reads_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    config = RunConfig.model_validate(
        {
            "models": [{"name": "wan2.1-1.3b", "params": {"num_inference_steps": 4}}],
            "evaluators": [
                {"judge": "openai:qwen", "base_url": "http://127.0.0.1:1/v1", "retries": 2}
            ],
            "human": {"source": "none"},
        }
    )
    path.write_text(_toml(config), encoding="utf-8")
    assert load_config(path) == config


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("[suite]\nprompts = -1\n", "suite.prompts: Input should be greater than or equal to 0"),
        ("[suite]\ncolour = 1\n", "suite.colour: Extra inputs are not permitted"),
        ("[[evaluators]]\njudge = 'gpt'\n", "evaluators.0: Value error, judge 'gpt': expected"),
        (
            "[[evaluators]]\njudge = 'qwen:m'\nframes_as = 'video'\nconcurrency = 16\n",
            "evaluators.0: Value error, frames_as and concurrency are for an openai: judge",
        ),
        (
            "[[evaluators]]\nbase_url = 'http://127.0.0.1:1/v1'\n",
            "evaluators.0: Value error, base_url is for an openai: judge, not probes",
        ),
        (
            "[[evaluators]]\nfps = 2.0\ncamera_fps = 4.0\nmax_pixels = 200704\n",
            "evaluators.0: Value error, fps, camera_fps and max_pixels are for a qwen: or "
            "openai: judge, not probes",
        ),
        (
            "[[evaluators]]\nbatch = 1\nquestion_batch = 16\n",
            "evaluators.0: Value error, batch is for a qwen:, openai: or reward: judge, not "
            "probes; question_batch is for a qwen: or reward: judge, not probes",
        ),
        (
            "[[evaluators]]\njudge = 'openai:m'\nquestion_batch = 16\n",
            "evaluators.0: Value error, question_batch is for a qwen: or reward: judge, not openai",
        ),
        (
            "[[evaluators]]\njudge = 'reward:ckpt'\nfps = 2.0\ncamera_fps = 4.0\n"
            "max_pixels = 784\n",
            "evaluators.0: Value error, fps, camera_fps and max_pixels are for a qwen: or "
            "openai: judge, not reward",
        ),
        (
            "[[models]]\nname = 'synth-good'\n[[models]]\nname = 'synth-good'\n",
            "models: synth-good named twice",
        ),
        ("[analysis]\nprimary = 'nobody'\n", "analysis.primary 'nobody': not one of human"),
        ("[suite\n", "not valid TOML"),
        ("[suite]\nprompts = '4'\n", "suite.prompts: Input should be a valid integer"),
        ("[suite]\nprompts = true\n", "suite.prompts: Input should be a valid integer"),
        ("[suite]\nllm = 'gpt'\n", "suite: Value error, unknown LLM spec 'gpt'"),
        ("[suite]\nsource = 'packged'\n", "suite.source: "),
        ("[[models]]\nname = 'sora-9'\n", "models.0: Value error, name 'sora-9': no such model"),
        ("[[models]]\nname = 'm'\nimport = 'no-map.csv'\n", "models.0.import: "),
        ("[human]\nvotes = 1\n", "human: Value error, votes: simulated experts need 2"),
        ("[human]\nsource = 'simulated'\n", "human.source: "),
    ],
)
def test_a_bad_file_is_named_with_its_key(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert said in str(caught.value)
    assert "more)" not in str(caught.value)


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "binary.toml"
    path.write_bytes(b"[suite]\nprompts = 4\n\xff\xfe\n")
    with pytest.raises(ConfigError, match=r"binary\.toml: not valid TOML: not UTF-8"):
        load_config(path)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml")


def test_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "run.toml"
    path.parent.mkdir()
    for name in ("my-suite/prompts.jsonl", "my-suite/questions.jsonl", "votes.jsonl", "map.csv"):
        (path.parent / name).parent.mkdir(exist_ok=True)
        (path.parent / name).touch()
    (path.parent / "ckpt").mkdir()
    path.write_text(
        "[suite]\nsource = 'my-suite'\n[human]\nsource = 'votes.jsonl'\n"
        "[[models]]\nname = 'mine'\nimport = 'map.csv'\n"
        "[[evaluators]]\njudge = 'reward:ckpt'\n",
        encoding="utf-8",
    )
    config = load_config(path)
    folder = path.parent.resolve()
    assert config.suite.source == str(folder / "my-suite")
    assert config.human.source == str(folder / "votes.jsonl")
    assert config.models[0].import_map == folder / "map.csv"
    assert config.evaluators[0].judge == f"reward:{folder / 'ckpt'}"
    assert config.evaluators[0].label == "reward-ckpt"  # named as written, not by the full path

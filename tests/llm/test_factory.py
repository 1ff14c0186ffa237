"""``make_llm``: spec strings to backends, and ``scine.llm`` staying light to import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scine.llm import OpenAIChat, make_llm


def test_offline_means_no_model() -> None:
    assert make_llm("offline") is None
    assert make_llm(" offline ", cache_dir=Path("unused")) is None
    assert not Path("unused").exists()


def test_openai_spec_names_the_model() -> None:
    llm = make_llm("openai:gpt-4o-mini")
    assert isinstance(llm, OpenAIChat)
    assert (llm.name, llm.model, llm.cache, llm.base_url) == (
        "openai:gpt-4o-mini",
        "gpt-4o-mini",
        None,
        None,
    )


def test_the_model_is_everything_after_the_first_colon() -> None:
    llm = make_llm("openai:llama3.1:8b", base_url="http://127.0.0.1:11434/v1")
    assert isinstance(llm, OpenAIChat)
    assert llm.model == "llama3.1:8b"
    assert llm.base_url == "http://127.0.0.1:11434/v1"


def test_settings_reach_the_backend() -> None:
    llm = make_llm(
        "openai:m", concurrency=3, timeout=9.0, max_retries=1, max_reasks=0, json_mode="none"
    )
    assert isinstance(llm, OpenAIChat)
    settings = (llm.concurrency, llm.timeout, llm.max_retries, llm.max_reasks, llm.json_mode)
    assert settings == (3, 9.0, 1, 0, "none")


def test_cache_dir_gives_a_cache_file(tmp_path: Path) -> None:
    llm = make_llm("openai:m", cache_dir=tmp_path / "run")
    assert isinstance(llm, OpenAIChat)
    assert llm.cache is not None
    assert llm.cache.path == tmp_path / "run" / "llm-cache.sqlite"
    assert llm.cache.path.is_file()
    llm.cache.close()


@pytest.mark.parametrize(
    "spec", ["", "gpt-4o-mini", "openai:", "openai: ", "anthropic:claude", "offline:x", "OpenAI:m"]
)
def test_unknown_specs_name_the_accepted_forms(spec: str) -> None:
    with pytest.raises(ValueError, match="unknown LLM spec") as raised:
        make_llm(spec)
    assert repr(spec) in str(raised.value)
    assert "'offline'" in str(raised.value)
    assert "'openai:MODEL'" in str(raised.value)


def test_importing_scine_llm_does_not_import_openai() -> None:
    script = (
        "import json, sys\n"
        "import scine.llm\n"
        "scine.llm.make_llm('openai:m')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'openai')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []

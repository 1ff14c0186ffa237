"""``make_llm``: a text LLM from a spec string such as ``"openai:gpt-4o-mini"``."""

from __future__ import annotations

from pathlib import Path

from scine.llm._tasks import JsonLLM
from scine.llm.cache import ResponseCache
from scine.llm.openai_backend import JsonMode, OpenAIChat

__all__ = ["CACHE_FILE", "make_llm", "parse_llm_spec"]

CACHE_FILE = "llm-cache.sqlite"
SPEC_FORMS = (
    "'offline' (no model: the offline composer) or 'openai:MODEL' (e.g. 'openai:gpt-4o-mini')"
)


def parse_llm_spec(spec: str) -> str | None:
    """The model a spec names: None for ``"offline"``, MODEL for ``"openai:MODEL"``; a
    ``ValueError`` for anything else."""
    kind, _, model = spec.strip().partition(":")
    if kind == "offline" and not model:
        return None
    if kind != "openai" or not model.strip():
        raise ValueError(f"unknown LLM spec {spec!r}: use {SPEC_FORMS}")
    return model.strip()


def make_llm(
    spec: str,
    *,
    base_url: str | None = None,
    cache_dir: Path | None = None,
    concurrency: int = 16,
    api_key: str | None = None,
    timeout: float = 60.0,
    max_retries: int = 4,
    max_reasks: int = 2,
    json_mode: JsonMode = "schema",
) -> JsonLLM | None:
    """The LLM named by ``spec``, or ``None`` for ``"offline"`` (use the offline composer).

    ``"openai:MODEL"`` gives an ``OpenAIChat`` for MODEL (everything after the first colon,
    so ``"openai:llama3.1:8b"`` names the Ollama model ``llama3.1:8b``), with a reply cache
    at ``cache_dir / "llm-cache.sqlite"`` when ``cache_dir`` is given.
    """
    model = parse_llm_spec(spec)
    if model is None:
        return None
    cache = ResponseCache(Path(cache_dir) / CACHE_FILE) if cache_dir is not None else None
    return OpenAIChat(
        model,
        base_url=base_url,
        api_key=api_key,
        concurrency=concurrency,
        timeout=timeout,
        max_retries=max_retries,
        max_reasks=max_reasks,
        cache=cache,
        json_mode=json_mode,
    )

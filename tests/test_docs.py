"""The generated documentation matches the data it was generated from."""

from __future__ import annotations

from pathlib import Path

from scine.taxonomy import load_taxonomy, to_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_taxonomy_reference_is_current() -> None:
    committed = (ROOT / "docs" / "taxonomy.md").read_text(encoding="utf-8")
    assert committed == to_markdown(load_taxonomy()), (
        "docs/taxonomy.md is stale: run "
        "`scine taxonomy export --format markdown --out docs/taxonomy.md`"
    )


def test_readme_names_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    head = readme[: readme.index("## What is here today")]
    assert "./tools/test" in head
    assert "pip install -e '.[run]'" in head
    assert "scine run --out" in head
    assert "./tools/test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_run_docs_name_every_configuration_key() -> None:
    from scine.run.config import RunConfig

    text = (ROOT / "docs" / "run.md").read_text(encoding="utf-8")
    for section, field in RunConfig.model_fields.items():
        annotation = field.annotation
        model = getattr(annotation, "__args__", (annotation,))[0]
        prefix = f"{section}[]" if section in ("models", "evaluators") else section
        for key, inner in model.model_fields.items():
            name = inner.alias or key
            assert f"`{prefix}.{name}" in text or f", `{name}`" in text or f"`{name}`," in text, (
                f"docs/run.md does not name {prefix}.{name}"
            )

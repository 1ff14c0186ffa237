"""``scine bench``: build the SCINE suite, categorize prompts, measure diversity."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from scine.records import Role
from scine.taxonomy import load_taxonomy

from ._console import console, echo_json, error_console, fail, progress_bar, resumable

app = typer.Typer(
    help="Build the SCINE prompt suite, categorize any prompts, measure diversity.",
    no_args_is_help=True,
)

LlmOption = Annotated[
    str,
    typer.Option(
        "--llm", help="'offline' (no model, the default) or 'openai:MODEL' (any compatible server)."
    ),
]
BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url", help="Server URL for --llm openai:..., e.g. http://127.0.0.1:8000/v1"
    ),
]


@contextmanager
def progress_bars() -> Iterator[Callable[[str, int], Callable[[int], None]]]:
    """A factory of progress bars: ``make(label, total)`` returns ``update(done)``."""
    with progress_bar() as bars:

        def make(label: str, total: int) -> Callable[[int], None]:
            task = bars.add_task(label, total=total)
            return lambda done: bars.update(task, completed=done)

        yield make


@app.command()
def build(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for prompts, questions, manifest.")
    ],
    llm: LlmOption = "offline",
    base_url: BaseUrl = None,
    seed: Annotated[int, typer.Option("--seed", help="Build seed: same seed, same files.")] = 0,
    scripts: Annotated[int, typer.Option("--scripts", min=0, help="SCINE-Scripts prompts.")] = 1133,
    visuals: Annotated[int, typer.Option("--visuals", min=0, help="SCINE-Visuals prompts.")] = 956,
    roles: Annotated[
        list[str] | None,
        typer.Option("--roles", help="Roles to build (repeat or comma-separate); default all."),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="LLM requests in flight.")
    ] = 16,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Rebuild even if DIR is up to date, or holds a suite built otherwise."
        ),
    ] = False,
) -> None:
    """Build SCINE-Scripts and SCINE-Visuals with their questions and a manifest."""
    from scine.bench.build import ALL_ROLES, BuildConfig, build_suite, write_suite
    from scine.bench.seeds import packaged_seeds
    from scine.bench.writers import make_writer

    chosen = _roles(roles) if roles else ALL_ROLES
    config = BuildConfig(seed=seed, scripts=scripts, visuals=visuals, roles=chosen)
    taxonomy = load_taxonomy()
    writer = make_writer(
        llm, taxonomy, base_url=base_url, cache_dir=out, concurrency=concurrency, seed=seed
    )
    manifest_path = out / "manifest.json"
    held = None if force else _read_manifest(manifest_path)
    if held is not None and _up_to_date(held, out, config, writer.name, taxonomy.version):
        console.print(f"[green]up to date[/] {out} (use --force to rebuild)")
        return
    other = None if held is None else _built_otherwise(held, config, writer.name)
    if other is not None:
        fail(f"{out} holds a suite built with {other}; --force replaces it")
    with resumable(), progress_bars() as bars:
        suite = build_suite(config, writer, taxonomy, packaged_seeds(), bars)
    write_suite(suite, out)
    _summary(suite.manifest, out)
    failures = suite.manifest["failures"]
    if failures:
        fail(
            f"{len(failures)} prompt(s) could not be written (listed in {manifest_path}); "
            "run the same command again to retry them (finished work is cached)"
        )


def _roles(values: list[str]) -> tuple[Role, ...]:
    from scine.bench.build import ALL_ROLES

    chosen = [part.strip() for value in values for part in value.split(",") if part.strip()]
    unknown = sorted(set(chosen) - set(ALL_ROLES))
    if unknown:
        raise typer.BadParameter(
            f"unknown role(s) {', '.join(unknown)}; roles: {', '.join(ALL_ROLES)}"
        )
    return tuple(role for role in ALL_ROLES if role in chosen)


def _read_manifest(path: Path) -> dict[str, Any] | None:
    """The suite manifest in the folder, or None when there is none (or it is unreadable)."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return found if isinstance(found, dict) else None


def _up_to_date(
    manifest: dict[str, Any], folder: Path, config: Any, writer: str, taxonomy_version: str
) -> bool:
    from scine import __version__
    from scine.bench.build import package_data_hash

    return bool(
        _built_otherwise(manifest, config, writer) is None
        and manifest.get("taxonomy_version") == taxonomy_version
        and manifest.get("scine_version") == __version__
        and manifest.get("data", {}).get("package_data_hash") == package_data_hash()
        and not manifest.get("failures")
        and (folder / "prompts.jsonl").exists()
        and (folder / "questions.jsonl").exists()
    )


def _built_otherwise(manifest: dict[str, Any], config: Any, writer: str) -> str | None:
    """What differs from the suite already in the folder (settings or writer), if any."""
    wanted = {**config.model_dump(mode="json"), "writer": writer}
    held = {**manifest.get("config", {}), "writer": manifest.get("writer")}
    differ = [f"{key} {held.get(key)!r}" for key in wanted if held.get(key) != wanted[key]]
    return ", ".join(differ) or None


def _summary(manifest: dict[str, Any], out: Path) -> None:
    counts = manifest["counts"]
    table = Table("role / difficulty", "prompts", title=f"suite written to {out}")
    for key, value in counts["by_role_and_difficulty"].items():
        table.add_row(key, str(value))
    table.add_row("[bold]all prompts[/]", str(counts["prompts"]))
    table.add_row("[bold]questions[/]", str(counts["questions"]))
    for split, mean in counts["questions_per_prompt"].items():
        table.add_row(f"questions per {split} prompt", f"{mean:.2f}")
    rejected = manifest["rejections"]
    table.add_row(
        "rejected drafts (rewritten)", ", ".join(f"{k}: {v}" for k, v in rejected.items()) or "0"
    )
    console.print(table)


@app.command()
def categorize(
    file: Annotated[Path, typer.Argument(help="Prompts: .txt (one per line) or prompts .jsonl.")],
    llm: LlmOption = "offline",
    base_url: BaseUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per prompt.")] = False,
    semantic: Annotated[
        bool, typer.Option("--semantic/--no-semantic", help="Offline: also match by embeddings.")
    ] = True,
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="Skip (and count) bad prompts instead of failing."),
    ] = False,
) -> None:
    """Categorize prompts into taxonomy leaves and values, one question per leaf."""
    from scine.bench.prompt_files import read_prompt_file

    taxonomy = load_taxonomy()
    source = read_prompt_file(file, taxonomy, skip_invalid=skip_invalid)
    categorizer = _categorizer(llm, base_url, semantic, file.parent)
    texts = [prompt.text for prompt in source.prompts]
    with progress_bars() as bars:
        results = categorizer.categorize(texts, bars("categorize", len(texts)))
    for skipped, count in source.skipped.items():
        error_console.print(f"skipped {count} prompt(s): {skipped}")
    if as_json:
        for prompt, categories in zip(source.prompts, results, strict=True):
            record = {
                "id": prompt.id,
                "prompt": prompt.text,
                "categories": [
                    {"node": c.node, "value": c.value, "question": c.question} for c in categories
                ],
            }
            echo_json(json.dumps(record, ensure_ascii=False))
        return
    for prompt, categories in zip(source.prompts, results, strict=True):
        table = Table("leaf", "value", "question", title=prompt.text[:100], title_justify="left")
        for category in categories:
            table.add_row(category.node, category.value or "", category.question)
        console.print(table)


def _categorizer(llm: str, base_url: str | None, semantic: bool, cache_dir: Path) -> Any:
    from scine.bench.categorize import OfflineCategorizer
    from scine.bench.llm_categorize import LLMCategorizer
    from scine.llm import make_llm

    taxonomy = load_taxonomy()
    model = make_llm(llm, base_url=base_url, cache_dir=None)
    if model is not None:
        return LLMCategorizer(model, taxonomy)
    if not semantic:
        return OfflineCategorizer(taxonomy)
    from scine.bench.semantic import Embedder, EmbedderUnavailable

    try:
        return OfflineCategorizer(taxonomy, Embedder())
    except EmbedderUnavailable as exc:
        error_console.print(f"[yellow]note:[/] {exc}; using names and synonyms only")
        return OfflineCategorizer(taxonomy)


@app.command()
def diversity(
    folder: Annotated[Path, typer.Argument(help="A suite folder (with prompts.jsonl).")],
    against: Annotated[
        list[Path] | None, typer.Option("--against", help="Other prompt sets to compare with.")
    ] = None,
    size: Annotated[
        int, typer.Option("--size", min=2, help="Prompts per set (equal-size samples).")
    ] = 1000,
    plot: Annotated[
        bool, typer.Option("--map/--no-map", help="Also draw the embedding map.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Lexical diversity of a suite beside other prompt sets, and a 2-D embedding map (PNG)."""
    from scine.bench.diversity import embedding_map, lexical_diversity, sample, words
    from scine.bench.prompt_files import read_prompt_file
    from scine.bench.semantic import Embedder
    from scine.records import Prompt, read_jsonl

    prompts = read_jsonl(folder / "prompts.jsonl", Prompt)
    sets: dict[str, list[str]] = {
        "SCINE-Scripts": [p.text for p in prompts if p.split == "scripts"],
        "SCINE-Visuals": [p.text for p in prompts if p.split == "visuals"],
    }
    for path in against or []:
        sets[path.stem] = [p.text for p in read_prompt_file(path, skip_invalid=True).prompts]
    sets = {name: sample(texts, size) for name, texts in sets.items() if len(texts) >= 2}
    tokens = min(sum(len(words(text)) for text in texts) for texts in sets.values())
    report: dict[str, Any] = {
        "sample_size": size,
        "token_budget": tokens,
        "sets": {name: lexical_diversity(texts, tokens) for name, texts in sets.items()},
    }
    if plot:
        report["map"] = embedding_map(sets, Embedder(), folder / "diversity.png")
    (folder / "diversity.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if as_json:
        echo_json(json.dumps(report))
        return
    table = Table("set", "prompts", "words/prompt", "TTR", "distinct-1", "distinct-2", "Jaccard")
    for name, row in report["sets"].items():
        table.add_row(
            name,
            f"{row['prompts']:.0f}",
            f"{row['mean_words']:.1f}",
            f"{row['ttr']:.3f}",
            f"{row['distinct_1']:.3f}",
            f"{row['distinct_2']:.3f}",
            f"{row['jaccard']:.3f}",
        )
    console.print(table)
    if plot:
        console.print(f"embedding map: {report['map']['path']}")

"""The ``scine`` command line."""

from __future__ import annotations

from typing import Annotated

import typer

from scine import __version__
from scine.analysis.table import StudyError
from scine.bench.prompt_files import PromptFileError
from scine.bench.seeds import SeedError
from scine.records import RecordError
from scine.taxonomy import TaxonomyError, UnknownNodeError
from scine.video.generate import GenerateError
from scine.video.importer import VideoImportError

from ._console import fail
from .analysis import analyze, simulate
from .bench import app as bench_app
from .judge import app as judge_app
from .judge import probe
from .reward import app as reward_app
from .run import leaderboard_command, run_command
from .study import app as study_app
from .taxonomy import app as taxonomy_app
from .videos import app as videos_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="scine",
    help="Stable Cinemetrics: structured evaluation of text-to-video models for film-making.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)
app.add_typer(taxonomy_app, name="taxonomy")
app.add_typer(bench_app, name="bench")
app.add_typer(videos_app, name="videos")
app.add_typer(judge_app, name="judge")
app.add_typer(reward_app, name="reward")
app.add_typer(study_app, name="study")
app.command("run")(run_command)
app.command("leaderboard")(leaderboard_command)
app.command("probe")(probe)
app.command("simulate")(simulate)
app.command("analyze")(analyze)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"scine {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Stable Cinemetrics: structured evaluation of text-to-video models for film-making."""


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; data errors print one clear message and exit with status 1."""
    try:
        app(args=argv, prog_name="scine", standalone_mode=True)
    except (
        TaxonomyError,
        RecordError,
        UnknownNodeError,
        PromptFileError,
        SeedError,
        StudyError,
        GenerateError,
        VideoImportError,
    ) as exc:
        fail(str(exc))

"""``scine run``: bench → videos → evaluate → human → analyze → report, each stage skipped
when its fingerprint (settings and input bytes) matches what it last finished with.

The run folder ``DIR``:

- ``suite/``: the built suite; ``prompts.jsonl``, ``questions.jsonl``: the run's prompts;
- ``videos/<model>/``: each model's videos; ``videos.jsonl``: all of them (paths relative
  to ``DIR``);
- ``ratings/<rater>.jsonl`` (+ ``.report.json``): each evaluator's ratings, and
  ``human.jsonl``: the experts';
- ``analysis/<rater>/``: ``scine analyze``'s outputs for each rater (and ``agreement.json``
  of an evaluator against the experts);
- ``summary.json``, ``report.html``: the primary rater's; ``truth.json``: the planted
  order when every model is synthetic; ``run.json``: what ran, leaderboards and checks;
- ``.run/``: ``scine-run.json``, the mark of a run folder (written before the first stage,
  so an interrupted first run resumes too), and each stage's record.

``DIR`` must be new, empty or a run folder: any other folder is refused untouched (the
stages would write among its files, and ``analyze`` replaces ``analysis/`` wholesale), and
so is one the system does not let the run make, read or write in.

Within a stage, work resumes too: generation skips finished videos and raters read their
answer caches (``DIR/cache``).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from scine import __version__
from scine.records import (
    Prompt,
    Question,
    Rating,
    Video,
    file_sha256,
    read_jsonl,
    read_records,
    write_jsonl,
)
from scine.taxonomy import load_taxonomy

from .config import ModelConfig, RunConfig
from .state import (
    MARKER,
    STATE,
    fingerprint,
    is_current,
    is_run_folder,
    mark_done,
    mark_run_folder,
    run_name,
)

if TYPE_CHECKING:
    from scine.analysis.table import RaterKind, Study

STAGES = ("bench", "videos", "evaluate", "human", "analyze", "report")
SHOWN = 5
"""Entries of a refused ``--out`` folder named in the error."""


class RunError(RuntimeError):
    """A stage that cannot go on; the message says which and why."""


class Display(Protocol):
    """Where a run reports itself (the CLI draws progress bars)."""

    def stage(self, name: str, index: int, total: int) -> None:
        """A stage starts (or is checked)."""

    def step(self, what: str, done: int, total: int | None) -> None:
        """Progress inside the current stage."""

    def say(self, text: str) -> None:
        """A line for the person running it."""


class Quiet:
    """A display that shows nothing."""

    def stage(self, name: str, index: int, total: int) -> None:
        """Nothing."""

    def step(self, what: str, done: int, total: int | None) -> None:
        """Nothing."""

    def say(self, text: str) -> None:
        """Nothing."""


@dataclass
class StageResult:
    """One stage of a run: ``ran`` or ``current`` (skipped), its seconds and outputs."""

    name: str
    status: str
    seconds: float
    outputs: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    """A finished run: its stages, the run summary (``run.json``) and the report's path."""

    out: Path
    stages: list[StageResult]
    summary: dict[str, Any]

    @property
    def report(self) -> Path:
        """The primary rater's HTML report."""
        return self.out / "report.html"


@dataclass
class _Run:
    config: RunConfig
    out: Path
    display: Display

    def path(self, *parts: str) -> Path:
        return self.out.joinpath(*parts)

    def prompts(self) -> list[Prompt]:
        return read_jsonl(self.path("prompts.jsonl"), Prompt)

    def questions(self) -> list[Question]:
        return read_jsonl(self.path("questions.jsonl"), Question)

    def videos(self) -> list[Video]:
        return read_jsonl(self.path("videos.jsonl"), Video)

    def rating_files(self) -> list[Path]:
        names = [e.label for e in self.config.evaluators]
        if self.path("ratings", "human.jsonl").exists():
            names.append("human")
        return [self.path("ratings", f"{name}.jsonl") for name in names]


def run_pipeline(
    config: RunConfig, out: str | Path, display: Display | None = None, force: bool = False
) -> RunResult:
    """Run every stage not current (all of them with ``force``) in the run folder ``out``;
    see the module docstring."""
    run = _Run(config, Path(out), display or Quiet())
    _claim(run.out)
    stages = []
    for index, (name, settings, inputs, body) in enumerate(_stages(run)):
        run.display.stage(name, index, len(STAGES))
        start = time.perf_counter()
        print_ = fingerprint(run.out, name, settings, inputs(run))
        if not force and is_current(run.out, name, print_):
            stages.append(StageResult(name, "current", time.perf_counter() - start))
            continue
        written = body(run)
        seconds = time.perf_counter() - start
        mark_done(run.out, name, print_, written, seconds)
        outputs = [run_name(run.out, p) for p in written]
        stages.append(StageResult(name, "ran", seconds, outputs))
    (run.out / "run.toml").write_text(_toml(config), encoding="utf-8")
    summary = json.loads(run.path("run.json").read_text(encoding="utf-8"))
    return RunResult(run.out, stages, summary)


def _claim(out: Path) -> None:
    """Make ``out`` the run folder and mark it, before any stage writes: a new or empty
    folder, or a run's (resumed); any other folder is refused untouched."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise RunError(f"--out {out}: a file is in the way of the run folder") from None
    except OSError as exc:
        raise _unusable(out, "make", exc) from None
    try:
        entries = sorted(path.name for path in out.iterdir())
        claimed = is_run_folder(out, STAGES)
    except OSError as exc:
        raise _unusable(out, "read", exc) from None
    if entries and not claimed:
        shown = ", ".join(entries[:SHOWN])
        more = f" and {len(entries) - SHOWN} more" if len(entries) > SHOWN else ""
        raise RunError(
            f"--out {out}: the folder is not empty ({shown}{more}) and is not a scine run "
            f"(no {STATE}/{MARKER}); choose an empty or new folder"
        )
    try:
        mark_run_folder(out)
    except OSError as exc:
        raise _unusable(out, "write in", exc) from None


def _unusable(out: Path, doing: str, exc: OSError) -> RunError:
    """The error for a run folder the system did not let the run ``doing`` ("make", "read"
    or "write in"), naming the path refused too when it is another (a parent, the marker)."""
    refused = f" ({exc.filename})" if exc.filename and Path(exc.filename) != out else ""
    return RunError(
        f"--out {out}: cannot {doing} the folder: {exc.strerror or exc}{refused}; choose a "
        "folder you can read and write"
    )


_Body = Callable[[_Run], list[Path]]
_Inputs = Callable[[_Run], list[Path]]


def _stages(run: _Run) -> list[tuple[str, Any, _Inputs, _Body]]:
    config = run.config
    return [
        ("bench", [config.suite, _reads_every_leaf(config)], _suite_inputs, _bench),
        ("videos", [config.models, _map_folders(config)], _model_inputs, _videos),
        ("evaluate", config.evaluators, _evaluate_inputs, _evaluate),
        ("human", config.human, _human_inputs, _human),
        ("analyze", [config.analysis, config.primary], _analysis_inputs, _analyze),
        ("report", config.primary, _report_inputs, _report),
    ]


def _steps(run: _Run, what: str) -> Callable[[int, int], None]:
    """A progress callback for one step of the current stage."""
    return lambda done, total: run.display.step(what, done, total)


def _records(run: _Run) -> list[Path]:
    return [run.path(name) for name in ("prompts.jsonl", "questions.jsonl", "videos.jsonl")]


def _evaluate_inputs(run: _Run) -> list[Path]:
    """The records and every video file: a video replaced by another whose record reads
    the same (an imported file overwritten) is rated again."""
    videos = [v.file(run.out) for v in run.videos()] if run.path("videos.jsonl").exists() else []
    return _records(run) + videos


# -- bench ----------------------------------------------------------------------------------


def _suite_inputs(run: _Run) -> list[Path]:
    source = run.config.suite.source
    if source in ("build", "packaged"):
        return []
    return [Path(source) / "prompts.jsonl", Path(source) / "questions.jsonl"]


def _bench(run: _Run) -> list[Path]:
    from scine.bench import default_suite_path

    suite = run.config.suite
    taxonomy = load_taxonomy()
    if suite.source == "build":
        folder = run.path("suite")
        _build_suite(run, folder)
    else:
        folder = default_suite_path() if suite.source == "packaged" else Path(suite.source)
        for name in ("prompts.jsonl", "questions.jsonl"):
            if not (folder / name).is_file():
                raise RunError(f"suite.source: {folder / name} not found")
    prompts = read_records(folder / "prompts.jsonl", Prompt, taxonomy)
    questions = read_records(folder / "questions.jsonl", Question, taxonomy)
    readable = _readable(run.config)
    chosen = [
        p
        for p in prompts
        if p.role in suite.roles
        and p.difficulty in suite.difficulty
        and sum(readable(c.node) for c in p.controls) >= suite.measurable
    ]
    if suite.prompts:
        chosen = chosen[: suite.prompts]
    if not chosen:
        raise RunError(
            f"suite: no prompt of {folder} has roles {list(suite.roles)}, difficulty "
            f"{list(suite.difficulty)} and {suite.measurable} or more controls the evaluators read"
        )
    kept = {p.id for p in chosen}
    write_jsonl(run.path("prompts.jsonl"), chosen)
    write_jsonl(run.path("questions.jsonl"), [q for q in questions if q.prompt_id in kept])
    run.display.say(f"suite: {len(chosen)} prompt(s) of {len(prompts)} in {folder}")
    return [run.path("prompts.jsonl"), run.path("questions.jsonl")]


def _build_suite(run: _Run, folder: Path) -> None:
    from scine.bench.build import BuildConfig, build_suite, write_suite
    from scine.bench.seeds import packaged_seeds
    from scine.bench.writers import make_writer

    suite = run.config.suite
    roles = tuple(suite.roles)
    config = BuildConfig(seed=suite.seed, scripts=suite.scripts, visuals=suite.visuals, roles=roles)
    taxonomy = load_taxonomy()
    writer = make_writer(
        suite.llm, taxonomy, base_url=suite.base_url, cache_dir=run.path("cache"), seed=suite.seed
    )

    def progress(what: str, total: int) -> Callable[[int], None]:
        return lambda done: run.display.step(f"writing {what}", done, total)

    built = build_suite(config, writer, taxonomy, packaged_seeds(), progress)
    write_suite(built, folder)
    if built.manifest["failures"]:
        raise RunError(
            f"suite: {len(built.manifest['failures'])} prompt(s) could not be written (listed "
            f"in {folder / 'manifest.json'}); run again to retry them (answers are cached)"
        )


def _reads_every_leaf(config: RunConfig) -> bool:
    """Whether some rater reads every leaf: a VLM judge, or the experts alone."""
    return not config.evaluators or any(e.judge != "probes" for e in config.evaluators)


def _readable(config: RunConfig) -> Callable[[str], bool]:
    """Whether some evaluator reads a leaf (the probes read a few; a VLM reads any)."""
    if _reads_every_leaf(config):
        return lambda node: True
    from scine.judge.probes import LEAVES

    return lambda node: node in LEAVES


# -- videos ---------------------------------------------------------------------------------


def _model_inputs(run: _Run) -> list[Path]:
    maps = [m.import_map for m in run.config.models if m.import_map and m.import_map.is_file()]
    return [run.path("prompts.jsonl"), *maps]


def _map_folders(config: RunConfig) -> dict[str, list[str]]:
    """The files under each folder map: a video added there changes the stage's settings
    (the videos' bytes are checked as the stage's outputs)."""
    folders = [m.import_map for m in config.models if m.import_map and m.import_map.is_dir()]
    return {
        str(folder): sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        for folder in folders
    }


def _videos(run: _Run) -> list[Path]:
    prompts = run.prompts()
    videos: list[Video] = []
    for model in run.config.models:
        folder = run.path("videos", model.name)
        if model.import_map is not None:
            found = _import(run, model.name, model.import_map, model.root, prompts)
        else:
            found = _generate(run, model, prompts, folder)
        videos += found
    write_jsonl(run.path("videos.jsonl"), videos)
    # every video file is an output: one deleted or replaced later makes the stage stale
    return [run.path("videos.jsonl"), *(run.path(v.path) for v in videos)]


def _generate(run: _Run, model: ModelConfig, prompts: list[Prompt], folder: Path) -> list[Video]:
    from scine.video.generate import generate_videos

    summary = generate_videos(
        model.name,
        prompts,
        folder,
        run_seed=model.seed,
        weights=model.weights,
        device=_device(model.name, model.device),
        dtype=model.dtype,
        params=model.params or None,
        fps=model.fps,
        force=True,  # the stage's fingerprint decides; finished videos are still kept
        progress=lambda p: run.display.step(f"generating {model.name}", p.done, p.total),
    )
    made = read_jsonl(folder / "videos.jsonl", Video)
    wanted = {p.id for p in prompts}
    run.display.say(f"{model.name}: {summary.generated} generated, {summary.skipped} kept")
    return [
        _relative(run, v, folder) for v in made if v.model == model.name and v.prompt_id in wanted
    ]


def _import(
    run: _Run, name: str, mapping: Path, root: Path | None, prompts: list[Prompt]
) -> list[Video]:
    from scine.video.importer import import_videos, write_import_report

    report = import_videos(
        prompts,
        mapping,
        root,
        progress=_steps(run, f"importing {name}"),
    )
    report_path = run.path("videos", name, "import-report.json")
    report_path.parent.mkdir(parents=True, exist_ok=True)
    write_import_report(report, report_path)
    bad = [entry for entry in report.bad if entry.kind != "unknown_prompt"]
    if bad:
        raise RunError(
            f"models.{name}: {len(bad)} bad file(s) in {mapping} (listed in {report_path})"
        )
    if report.unknown_prompts:
        run.display.say(
            f"{name}: {len(report.unknown_prompts)} row(s) of {mapping} map prompts outside "
            f"this run's suite; left out (listed in {report_path})"
        )
    found = [v for v in report.videos if v.model == name]
    if not found:
        raise RunError(
            f"models.{name}: {mapping} maps no video of {name!r} to this run's prompts "
            f"(models there: {', '.join(report.models) or 'none'})"
        )
    base = report.root
    return [_relative(run, v, base) for v in found]


def _relative(run: _Run, video: Video, folder: Path) -> Video:
    """The video with its path relative to the run folder (absolute when outside it)."""
    path = (folder / video.path).resolve()
    out = run.out.resolve()
    shown = path.relative_to(out) if path.is_relative_to(out) else path
    return video.model_copy(update={"path": str(shown)})


def _device(name: str, device: str) -> str:
    if device != "auto":
        return device
    from scine.video.generate import SYNTH_PREFIX

    if name.startswith(SYNTH_PREFIX):
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


# -- evaluate -------------------------------------------------------------------------------


def _evaluate(run: _Run) -> list[Path]:
    from scine.llm.cache import ResponseCache

    from .evaluate import EvaluatorError, rate_videos

    videos, questions = run.videos(), run.questions()
    texts = {p.id: p.text for p in run.prompts()}
    written = []
    for evaluator in run.config.evaluators:
        kind = "probe" if evaluator.judge == "probes" else "judge"
        cache = ResponseCache(run.path("cache", f"{kind}-cache.sqlite"))
        label = evaluator.label
        try:
            rated = rate_videos(
                evaluator.judge,
                videos,
                questions,
                texts,
                run.out,
                evaluator.options(),
                cache,
                progress=_steps(run, f"rating: {label}"),
                say=run.display.say,
            )
        except EvaluatorError as exc:
            raise RunError(f"evaluators.{label}: {exc}") from None
        ratings = [r.model_copy(update={"rater": label}) for r in rated.ratings]
        path = run.path("ratings", f"{label}.jsonl")
        write_jsonl(path, ratings)
        report = {"judge": evaluator.judge, **rated.details}
        report_path = path.with_name(f"{label}.report.json")
        report_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        if rated.broken:
            run.display.say(
                f"{label}: {len(rated.broken)} video(s) or question(s) got no score, first "
                f"{rated.broken[0]} (all listed in {report_path})"
            )
        written += [path, report_path]
    return written


# -- human ----------------------------------------------------------------------------------


def _human_inputs(run: _Run) -> list[Path]:
    source = Path(run.config.human.source)
    extra = [source] if source.is_file() else []
    return [run.path("questions.jsonl"), run.path("videos.jsonl"), *extra]


def _human(run: _Run) -> list[Path]:
    human = run.config.human
    path = run.path("ratings", "human.jsonl")
    if human.source == "none":
        path.unlink(missing_ok=True)
        return []
    if human.source == "simulate":
        ratings = _simulated_experts(run)
    elif "://" in human.source:
        from scine.study.database import open_database
        from scine.study.votes import export_ratings

        ratings, _ = export_ratings(open_database(human.source))
    elif Path(human.source).is_file():
        ratings = read_records(Path(human.source), Rating)
    else:
        raise RunError(
            f"human.source: {human.source} is no file (nor simulate, none or a database URL)"
        )
    if not ratings:
        raise RunError(f"human.source {human.source!r}: no ratings")
    write_jsonl(path, ratings)
    return [path]


def _simulated_experts(run: _Run) -> list[Rating]:
    from scine.analysis.simulate import ExpertConfig, simulate_expert_votes
    from scine.video.synth import shows

    human = run.config.human
    config = ExpertConfig(human.annotators, human.votes, human.missing, human.seed)
    ratings = simulate_expert_votes(
        run.videos(), run.questions(), lambda v, q: shows(v, q.node, q.value), config
    )
    if not ratings:
        raise RunError(
            "human.source = 'simulate': simulated experts need videos whose content is known "
            "(the synthetic models'); set human.source to 'none', a ratings file or a study URL"
        )
    return ratings


# -- analyze and report ---------------------------------------------------------------------


def _analysis_inputs(run: _Run) -> list[Path]:
    return _records(run) + run.rating_files()


def _analyze(run: _Run) -> list[Path]:
    from scine.analysis.pipeline import AnalysisSettings, analysis_manifest, analyze, write_outputs
    from scine.analysis.reliability import ReliabilityError
    from scine.analysis.table import StudyError

    config = run.config.analysis
    settings = AnalysisSettings(
        n_boot=config.boot, seed=config.seed, tie_margin=config.tie_margin, ties=config.ties
    )
    human = run.path("ratings", "human.jsonl")
    experts = _study(run, human, "human") if human.exists() else None
    if run.path("analysis").exists():  # written anew: nothing of an earlier run's stays
        shutil.rmtree(run.path("analysis"))
    written = []
    for ratings in run.rating_files():
        rater = ratings.stem
        run.display.step(f"analysing {rater}", 0, 1)
        study = experts if rater == "human" and experts is not None else _study(run, ratings)
        try:
            analysis = analyze(study, settings)
        except (ReliabilityError, StudyError) as exc:
            raise RunError(f"analysis of {ratings.relative_to(run.out)}: {exc}") from None
        ratings_name = str(ratings.relative_to(run.out))
        manifest = analysis_manifest(run.out, settings, ratings=ratings_name)
        folder = run.path("analysis", rater)
        found = write_outputs(analysis, folder, manifest, plots=config.plots)
        written += [found["summary"], found["report"]]
        if rater != "human" and experts is not None:
            written.append(_agreement(experts, ratings, folder))
        run.display.step(f"analysing {rater}", 1, 1)
    return written


def _study(run: _Run, ratings: Path, kind: RaterKind = "any") -> Study:
    """The run's records with one rater's ratings, as the analysis reads them."""
    from scine.analysis.table import StudyError, load_study

    try:
        return load_study(run.out, rater_kind=kind, ratings=ratings)
    except StudyError as exc:
        raise RunError(f"analysis of {ratings.relative_to(run.out)}: {exc}") from None


def _agreement(experts: Study, ratings: Path, folder: Path) -> Path:
    """The rater's pairwise accuracy against the experts, into ``agreement.json``."""
    from scine.analysis.agreement import AgreementError, agreement, model_scores
    from scine.analysis.table import read_ratings

    try:
        found: dict[str, Any] = agreement(experts, model_scores(read_ratings(ratings)))
    except AgreementError as exc:
        found = {"error": str(exc)}
    path = folder / "agreement.json"
    path.write_text(json.dumps(found, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def _report_inputs(run: _Run) -> list[Path]:
    raters = [p.stem for p in run.rating_files()]
    return [run.path("analysis", r, "summary.json") for r in raters] + [run.path("videos.jsonl")]


def _report(run: _Run) -> list[Path]:
    primary = run.config.primary
    source = run.path("analysis", primary)
    if not (source / "summary.json").exists():
        raise RunError(f"analysis.primary {primary!r}: no ratings to analyse")
    shutil.copyfile(source / "summary.json", run.path("summary.json"))
    shutil.copyfile(source / "report.html", run.path("report.html"))
    written = [run.path("summary.json"), run.path("report.html")]
    raters = {}
    judges = {e.label: e.judge for e in run.config.evaluators}
    for ratings in run.rating_files():
        summary = json.loads(run.path("analysis", ratings.stem, "summary.json").read_text())
        agreement = run.path("analysis", ratings.stem, "agreement.json")
        raters[ratings.stem] = {
            "judge": judges.get(ratings.stem, "human"),
            "sampling": _sampling(ratings),
            "overall": summary["overall"],
            "axis_scores": summary["axis_scores"],
            "tiers": summary["tiers"],
            "n_ratings": summary["n_ratings"],
            "uneven_coverage": summary.get("uneven_coverage"),
            "agreement_with_experts": (
                json.loads(agreement.read_text())["without_ties"] if agreement.exists() else None
            ),
        }
    order = _planted_order(run.videos())
    result: dict[str, Any] = {
        "scine_version": __version__,
        "taxonomy_version": load_taxonomy().version,
        "prompts_sha256": file_sha256(run.path("prompts.jsonl")),
        "primary": primary,
        "raters": raters,
    }
    run.path("truth.json").unlink(missing_ok=True)  # an earlier run's models may differ
    if order is not None:
        truth = run.path("truth.json")
        truth.write_text(json.dumps({"model_order": order}, indent=2) + "\n", encoding="utf-8")
        written.append(truth)
        result["truth_check"] = {
            r: _order_check(v["axis_scores"], order) for r, v in raters.items()
        }
    run.path("run.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return [*written, run.path("run.json")]


def _sampling(ratings: Path) -> Any:
    """How a rater saw the videos: its report's sampling (VLM judges), else the first
    rating's (the probes record theirs in every rating); None for the experts."""
    report = ratings.with_name(f"{ratings.stem}.report.json")
    if report.exists():
        found = json.loads(report.read_text(encoding="utf-8")).get("sampling")
        if found is not None:
            return found
    with ratings.open(encoding="utf-8") as lines:
        first = lines.readline()
    return json.loads(first).get("meta", {}).get("sampling") if first.strip() else None


def _planted_order(videos: list[Video]) -> list[str] | None:
    """The synthetic models from most to least faithful, when every model is synthetic."""
    fidelity: dict[str, float] = {}
    for video in videos:
        value = video.provenance.get("fidelity")
        if not isinstance(value, int | float):
            return None
        fidelity[video.model] = float(value)
    return sorted(fidelity, key=lambda model: -fidelity[model]) if fidelity else None


def _order_check(axis_scores: dict[str, dict[str, float]], order: list[str]) -> dict[str, Any]:
    """Per axis rated for every model: the models by mean score, and whether that is the
    planted order."""
    axes = sorted({axis for scores in axis_scores.values() for axis in scores})
    checked = {}
    for axis in axes:
        means = {m: axis_scores.get(m, {}).get(axis) for m in order}
        if any(v is None for v in means.values()):
            continue
        ranked = sorted(order, key=lambda m: -float(means[m] or 0))
        checked[axis] = {"order": ranked, "matches": ranked == order}
    return checked


def _toml(config: RunConfig) -> str:
    """The resolved configuration, every key, as TOML (``run.toml`` in the run folder)."""
    lines = ["# the configuration this run used (every key, defaults included)"]
    data = config.model_dump(mode="json", by_alias=True)
    for section in ("suite", "human", "analysis"):
        lines += ["", f"[{section}]", *_pairs(data[section])]
    for section in ("models", "evaluators"):
        for item in data[section]:
            lines += ["", f"[[{section}]]", *_pairs(item)]
    return "\n".join(lines) + "\n"


def _pairs(table: dict[str, Any]) -> list[str]:
    return [f"{key} = {_value(value)}" for key, value in table.items() if value is not None]


def _value(value: Any) -> str:
    """A TOML value: JSON's strings, numbers, booleans and arrays are TOML's too; a table
    is written inline."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)

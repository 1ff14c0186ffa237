"""What ``scine run`` does, as one TOML file; every key has a default (docs/run.md).

No file at all is the embedded default: an offline suite of cinematographer prompts, the
three synthetic models of planted fidelity, the probes, and simulated experts.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from scine.records import Difficulty, Role

from .evaluate import JudgeOptions, check_judge

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class ConfigError(ValueError):
    """A run configuration that cannot be used; the message names the file and key."""


class _Section(BaseModel):
    """Keys as written: a number must be a number ("4" and true are refused), unknown keys
    are errors; paths and lists (TOML arrays) are converted."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


SOURCES = ("build", "packaged")
HUMAN = ("simulate", "none")


class SuiteConfig(_Section):
    """The prompts: built here, the packaged suite, or a folder holding a suite."""

    source: str = "build"
    llm: str = "offline"
    base_url: str | None = None
    seed: int = 0
    scripts: int = Field(300, ge=1)
    visuals: int = Field(300, ge=0)
    roles: tuple[Role, ...] = Field(("cinematographer",), strict=False)
    difficulty: tuple[Difficulty, ...] = Field(("basic", "advanced"), strict=False)
    measurable: int = Field(2, ge=0)
    prompts: int = Field(100, ge=0)

    @model_validator(mode="after")
    def _known_llm(self) -> SuiteConfig:
        from scine.llm.factory import parse_llm_spec

        parse_llm_spec(self.llm)  # a ValueError: pydantic reports it with the key
        return self


class ModelConfig(_Section):
    """One model: a registry name to generate with, or videos imported by a map."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)

    name: str
    import_map: Path | None = Field(None, alias="import", strict=False)
    root: Path | None = Field(None, strict=False)
    device: str = "auto"
    dtype: str | None = None
    weights: Path | None = Field(None, strict=False)
    params: dict[str, Any] = Field(default_factory=dict)
    fps: float | None = None
    seed: int = 0

    @model_validator(mode="after")
    def _named(self) -> ModelConfig:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"name {self.name!r}: letters, digits, '.', '_' or '-' only")
        if self.import_map is None:
            from scine.video.generate import known_models

            if self.name not in known_models():
                raise ValueError(
                    f"name {self.name!r}: no such model to generate with (known: "
                    f"{', '.join(known_models())}); give `import` to import its videos"
                )
        return self


class EvaluatorConfig(_Section):
    """One automatic rater: ``probes``, ``qwen:ID``, ``openai:MODEL`` or ``reward:CKPT``;
    ``name`` names it; the other keys are ``scine judge run``'s options, None when not set
    (the judge's default), refused when set for a judge that would ignore them."""

    judge: str = "probes"
    name: str | None = None
    base_url: str | None = None
    fps: float | None = Field(None, gt=0)
    camera_fps: float | None = Field(None, gt=0)
    max_pixels: int | None = Field(None, ge=784)
    batch: int | None = Field(None, ge=1)
    question_batch: int | None = Field(None, ge=1)
    frames_as: Literal["video", "images"] | None = None
    concurrency: int | None = Field(None, ge=1)
    timeout: float | None = Field(None, gt=0)
    retries: int | None = Field(None, ge=0)

    @property
    def label(self) -> str:
        """The rater's name in file names and tables."""
        return self.name or re.sub(r"[^A-Za-z0-9._-]+", "-", self.judge).strip("-")

    def options(self) -> JudgeOptions:
        """How the judge runs, as ``rate_videos`` takes it."""
        return JudgeOptions(**self.model_dump(exclude={"judge", "name"}))

    @model_validator(mode="after")
    def _known(self) -> EvaluatorConfig:
        # an EvaluatorError is a ValueError: pydantic reports it with the key
        check_judge(self.judge, self.options(), named=str)
        if self.label == "human":
            raise ValueError("'human' names the experts' ratings; give the evaluator a name")
        return self


class HumanConfig(_Section):
    """Expert ratings: simulated, none, a ratings file, or a study database URL."""

    source: str = "simulate"
    annotators: int = Field(12, ge=1)
    votes: int = Field(3, ge=1)
    missing: float = Field(0.02, ge=0, lt=1)
    seed: int = 0

    @model_validator(mode="after")
    def _enough_votes(self) -> HumanConfig:
        if self.source == "simulate" and self.votes < 2:
            raise ValueError("votes: simulated experts need 2 or more votes an item (agreement)")
        if self.source == "simulate" and self.votes > self.annotators:
            raise ValueError(f"votes: {self.votes} votes an item need as many annotators")
        return self


class AnalysisConfig(_Section):
    """``scine analyze``'s settings, and which rater's analysis is the run's report."""

    boot: int = Field(1000, ge=0)
    seed: int = 0
    tie_margin: float = Field(0.0, ge=0)
    ties: Literal["half", "drop"] = "half"
    plots: bool = True
    primary: str | None = None


def _default_models() -> tuple[ModelConfig, ...]:
    return tuple(ModelConfig(name=name) for name in ("synth-good", "synth-fair", "synth-poor"))


class RunConfig(_Section):
    """A whole run; ``RunConfig()`` is the embedded default."""

    suite: SuiteConfig = SuiteConfig()
    models: tuple[ModelConfig, ...] = Field(
        default_factory=_default_models, min_length=1, strict=False
    )
    evaluators: tuple[EvaluatorConfig, ...] = Field((EvaluatorConfig(),), strict=False)
    human: HumanConfig = HumanConfig()
    analysis: AnalysisConfig = AnalysisConfig()

    @model_validator(mode="after")
    def _unique(self) -> RunConfig:
        for what, names in (
            ("models", [m.name for m in self.models]),
            ("evaluators", [e.label for e in self.evaluators]),
        ):
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"{what}: {', '.join(twice)} named twice")
        raters = {e.label for e in self.evaluators} | {"human"}
        if self.analysis.primary is not None and self.analysis.primary not in raters:
            known = ", ".join(sorted(raters))
            raise ValueError(f"analysis.primary {self.analysis.primary!r}: not one of {known}")
        return self

    @property
    def primary(self) -> str:
        """The rater whose analysis is the run's report: as configured, else the first
        evaluator, else the experts."""
        if self.analysis.primary:
            return self.analysis.primary
        return self.evaluators[0].label if self.evaluators else "human"


def load_config(path: str | Path | None) -> RunConfig:
    """The run configuration in ``path`` (TOML), or the embedded default for None."""
    if path is None:
        return RunConfig()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        config = RunConfig.model_validate(data)
    except ValidationError as exc:
        errors = _causes(exc)
        first = errors[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"{path}: {key}: {first['msg']}{more}") from None
    anchored = _anchored(config, path.resolve().parent)
    missing = _missing_files(anchored)
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise ConfigError(f"{path}: {missing[0][0]}: {missing[0][1]}{more}")
    return anchored


def _causes(exc: ValidationError) -> list[ErrorDetails]:
    """The errors, less those that only follow from another (a list left empty because its
    one item was refused)."""
    errors = exc.errors()
    locations = [error["loc"] for error in errors]
    return [
        error
        for error in errors
        if not any(
            len(other) > len(error["loc"]) and other[: len(error["loc"])] == error["loc"]
            for other in locations
        )
    ] or errors


def _missing_files(config: RunConfig) -> list[tuple[str, str]]:
    """(key, problem) for each file or folder the configuration names that is not there."""
    problems = []
    source = config.suite.source
    if source not in SOURCES:
        needed = [Path(source) / name for name in ("prompts.jsonl", "questions.jsonl")]
        absent = [str(file) for file in needed if not file.is_file()]
        if absent:
            problems.append(("suite.source", f"{' and '.join(absent)} not found" + _or(SOURCES)))
    for index, model in enumerate(config.models):
        for key, given in (("import", model.import_map), ("weights", model.weights)):
            if given is not None and not given.exists():
                problems.append((f"models.{index}.{key}", f"{given} not found"))
    for index, evaluator in enumerate(config.evaluators):
        kind, _, target = evaluator.judge.partition(":")
        if kind == "reward" and not Path(target).is_dir():
            problems.append((f"evaluators.{index}.judge", f"{target}: no checkpoint folder"))
    human = config.human.source
    if human not in HUMAN and "://" not in human and not Path(human).is_file():
        problems.append(("human.source", f"{human}: no such ratings file" + _or(HUMAN)))
    return problems


def _or(keywords: tuple[str, ...]) -> str:
    return f" (nor one of {', '.join(keywords)})"


def _anchored(config: RunConfig, folder: Path) -> RunConfig:
    """Paths in the file are relative to the file's folder: make them absolute."""

    def at(value: Path | None) -> Path | None:
        return None if value is None else folder / value

    def named(value: str, keywords: tuple[str, ...]) -> str:
        return value if value in keywords or "://" in value else str(folder / value)

    suite = config.suite.model_copy(update={"source": named(config.suite.source, SOURCES)})
    models = tuple(
        m.model_copy(
            update={"import_map": at(m.import_map), "root": at(m.root), "weights": at(m.weights)}
        )
        for m in config.models
    )
    evaluators = tuple(
        e.model_copy(update={"judge": f"reward:{folder / e.judge[7:]}", "name": e.label})
        if e.judge.startswith("reward:")
        else e
        for e in config.evaluators
    )
    human = config.human.model_copy(update={"source": named(config.human.source, HUMAN)})
    return config.model_copy(
        update={"suite": suite, "models": models, "evaluators": evaluators, "human": human}
    )

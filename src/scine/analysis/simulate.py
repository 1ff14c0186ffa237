"""A complete synthetic study with planted truth, for tests, demos and benchmarks.

Prompts and questions come from the packaged default suite. Each model gets a planted skill
per axis (evenly spread, shuffled per axis) and per leaf (the axis skill plus a small leaf
effect); each question a difficulty (higher for advanced prompts); each annotator a bias and
a noise level. As in the paper's study, a task shows one prompt and two videos of it side by
side (models paired at random per prompt) and is rated by ``votes`` distinct annotators, each
rating both videos on every question of the prompt:

    vote = clip(round(3 + 0.9 * (leaf_skill - difficulty) + bias + noise), 1, 5)

and each vote is missing with probability ``missing``. ``truth.json`` holds the planted
``{"skill": {model: {axis: float}}}`` (and the annotators' bias and noise).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from scine import __version__
from scine.bench import default_suite_path
from scine.records import Prompt, Question, Rating, Video, read_jsonl, write_jsonl, write_parquet
from scine.taxonomy import AXES, Taxonomy, load_taxonomy


@dataclass(frozen=True)
class ExpertConfig:
    """Simulated annotators: how many, votes per video-question, the share of votes
    missing, the seed (``simulate_expert_votes`` rates real videos with them)."""

    annotators: int = 12
    votes: int = 3
    missing: float = 0.02
    seed: int = 0

    def check(self) -> None:
        """Raise ``ValueError`` naming the first setting out of range."""
        if not 1 <= self.votes <= self.annotators:
            raise ValueError("votes must be between 1 and the number of annotators")
        if not 0 <= self.missing < 1:
            raise ValueError("missing must be a probability below 1")


@dataclass(frozen=True)
class SimulationConfig(ExpertConfig):
    """What to simulate; saved in the study's manifest."""

    models: int = 5
    prompts: int = 200
    annotators: int = 24

    def check(self) -> None:
        """Raise ``ValueError`` naming the first setting out of range."""
        if self.models < 2:
            raise ValueError("a study needs at least 2 models")
        if self.prompts < 1:
            raise ValueError("a study needs at least 1 prompt")
        super().check()


@dataclass
class SimulatedStudy:
    """The records of a simulated study and its planted truth."""

    prompts: list[Prompt]
    questions: list[Question]
    videos: list[Video]
    ratings: list[Rating]
    truth: dict[str, Any]
    config: SimulationConfig


def model_names(count: int) -> list[str]:
    """Names of simulated models: sim-01, sim-02, ..."""
    return [f"sim-{index:02d}" for index in range(1, count + 1)]


def simulate(
    config: SimulationConfig, taxonomy: Taxonomy | None = None, suite: Path | None = None
) -> SimulatedStudy:
    """Simulate a study (see the module docstring)."""
    config.check()
    taxonomy = taxonomy or load_taxonomy()
    suite = suite or default_suite_path()
    rng = random.Random(config.seed)
    all_prompts = read_jsonl(suite / "prompts.jsonl", Prompt)
    prompts = sorted(
        rng.sample(all_prompts, min(config.prompts, len(all_prompts))), key=lambda p: p.id
    )
    chosen = {p.id for p in prompts}
    questions = [
        q for q in read_jsonl(suite / "questions.jsonl", Question) if q.prompt_id in chosen
    ]
    models = model_names(config.models)
    skill = _axis_skills(models, rng)
    leaf_skill = {
        (model, leaf.id): skill[model][leaf.axis] + rng.gauss(0, 0.3)
        for model in models
        for leaf in taxonomy.leaves()
    }
    advanced = {p.id for p in prompts if p.difficulty == "advanced"}
    difficulty = {
        q.id: rng.gauss(0, 0.5) + (0.3 if q.prompt_id in advanced else 0.0) for q in questions
    }
    annotators = _annotators(config.annotators, rng)
    videos = [
        Video(
            id=f"{model}/{prompt.id}",
            prompt_id=prompt.id,
            model=model,
            seed=config.seed,
            path=f"videos/{model}/{prompt.id}.mp4",
            fps=24.0,
            frames=120,
            width=848,
            height=480,
            provenance={"simulated": True},
        )
        for prompt in prompts
        for model in models
    ]
    by_prompt: dict[str, list[Question]] = {}
    for question in questions:
        by_prompt.setdefault(question.prompt_id, []).append(question)
    shots = {prompt.id: {model: f"{model}/{prompt.id}" for model in models} for prompt in prompts}

    def signal(_prompt: str, model: str, question: Question) -> float:
        return 0.9 * (leaf_skill[(model, question.node)] - difficulty[question.id])

    ratings = _side_by_side_votes(shots, by_prompt, annotators, config, rng, signal)
    truth = {"skill": skill, "annotators": annotators}
    return SimulatedStudy(prompts, questions, videos, ratings, truth, config)


def simulate_expert_votes(
    videos: Sequence[Video],
    questions: Sequence[Question],
    shows: Callable[[Video, Question], bool | None],
    config: ExpertConfig,
) -> list[Rating]:
    """Votes of simulated experts on real videos whose content is known.

    The study's design: per prompt, its videos are paired side by side at random (as in
    ``simulate``) and each pair is rated by ``votes`` distinct annotators on every question.
    ``shows(video, question)`` says whether the video shows what the question asks (True,
    False) or that nobody knows (None: no vote, as an expert's "can't judge"). A vote is
    ``clip(round(3 + 1.5 s + bias + noise), 1, 5)``, s = +1 shown and -1 not, with each
    annotator's bias and noise drawn as in ``simulate``; ``missing`` drops votes at random.
    Raters are named ``expert-NN`` with ``meta.simulated`` set, so nobody mistakes them.
    """
    config.check()
    rng = random.Random(f"scine-experts:{config.seed}")
    annotators = _annotators(config.annotators, rng, "expert")
    by_prompt: dict[str, list[Question]] = {}
    for question in questions:
        by_prompt.setdefault(question.prompt_id, []).append(question)
    videos_of: dict[str, dict[str, Video]] = {}
    for video in videos:
        videos_of.setdefault(video.prompt_id, {})[video.model] = video
    shots = {
        prompt: {model: found[model].id for model in sorted(found)}
        for prompt, found in sorted(videos_of.items())
    }

    def signal(prompt: str, model: str, question: Question) -> float | None:
        known = shows(videos_of[prompt][model], question)
        return None if known is None else (1.5 if known else -1.5)

    return _side_by_side_votes(
        shots, by_prompt, annotators, config, rng, signal, extra={"simulated": True}
    )


def _side_by_side_votes(
    shots: dict[str, dict[str, str]],
    by_prompt: dict[str, list[Question]],
    annotators: dict[str, dict[str, float]],
    config: ExpertConfig,
    rng: random.Random,
    signal: Callable[[str, str, Question], float | None],
    extra: dict[str, Any] | None = None,
) -> list[Rating]:
    """Votes of a side-by-side study: ``shots`` maps each prompt to its models' video ids;
    per prompt the models are paired at random (``_pairs``), each pair rated by
    ``config.votes`` distinct annotators on every question of the prompt, a vote being
    ``clip(round(3 + signal + bias + noise), 1, 5)``. A None signal is no vote ("can't
    judge"); ``config.missing`` drops votes at random. A prompt with one video is skipped."""
    ratings = []
    for prompt, shot in shots.items():
        if len(shot) < 2:
            continue  # a side-by-side task needs two models' videos
        for left, right, recorded in _pairs(list(shot), rng):
            pair_id = f"{prompt}:{left}|{right}"
            for rater in rng.sample(sorted(annotators), config.votes):
                bias, noise = annotators[rater]["bias"], annotators[rater]["noise"]
                for question in by_prompt.get(prompt, []):
                    for side, model in (("left", left), ("right", right)):
                        strength = signal(prompt, model, question) if model in recorded else None
                        if strength is None or rng.random() < config.missing:
                            continue
                        vote = 3 + strength + bias + rng.gauss(0, noise)
                        ratings.append(
                            Rating(
                                video_id=shot[model],
                                question_id=question.id,
                                rater=rater,
                                rater_kind="human",
                                score=float(min(5, max(1, round(vote)))),
                                pair_id=pair_id,
                                meta={"side": side, **(extra or {})},
                            )
                        )
    return ratings


def _annotators(
    count: int, rng: random.Random, prefix: str = "annotator"
) -> dict[str, dict[str, float]]:
    """Each simulated annotator's bias and noise level, by name (``<prefix>-NN``)."""
    return {
        f"{prefix}-{index:02d}": {
            "bias": round(rng.gauss(0, 0.3), 4),
            "noise": round(rng.uniform(0.4, 0.9), 4),
        }
        for index in range(1, count + 1)
    }


def _axis_skills(models: list[str], rng: random.Random) -> dict[str, dict[str, float]]:
    """Evenly spread skills per axis in a random order, so every ranking is identifiable."""
    skill: dict[str, dict[str, float]] = {model: {} for model in models}
    step = 2.0 / (len(models) - 1)
    for axis in AXES:
        order = list(models)
        rng.shuffle(order)
        for rank, model in enumerate(order):
            skill[model][axis] = round(-1.0 + rank * step + rng.gauss(0, 0.05), 4)
    return skill


def _pairs(models: list[str], rng: random.Random) -> list[tuple[str, str, set[str]]]:
    """Random side-by-side pairs covering every model once, with the models whose votes are
    recorded. With an odd count the last model is shown beside the first one again, and only
    its own votes are recorded, so every video-question gets exactly ``votes`` votes."""
    order = list(models)
    rng.shuffle(order)
    pairs = [
        (order[i], order[i + 1], {order[i], order[i + 1]}) for i in range(0, len(order) - 1, 2)
    ]
    if len(order) % 2:
        pairs.append((order[-1], order[0], {order[-1]}))
    return pairs


def write_simulation(study: SimulatedStudy, out: Path) -> None:
    """Write the study folder: records, ``truth.json`` and ``manifest.json``."""
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "prompts.jsonl", study.prompts)
    write_jsonl(out / "questions.jsonl", study.questions)
    write_jsonl(out / "videos.jsonl", study.videos)
    write_parquet(out / "ratings.parquet", study.ratings, Rating)
    (out / "truth.json").write_text(json.dumps(study.truth, indent=2, sort_keys=True) + "\n")
    manifest = {
        "kind": "scine simulated study",
        "scine_version": __version__,
        "taxonomy_version": load_taxonomy().version,
        "config": asdict(study.config),
        "counts": {
            "prompts": len(study.prompts),
            "questions": len(study.questions),
            "videos": len(study.videos),
            "ratings": len(study.ratings),
            "annotators": study.config.annotators,
            "models": study.config.models,
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")

"""A study of synthetic shots where the experts prefer the video that shows the asked
colour temperature: the learning test's data, and small data for the other tests."""

from __future__ import annotations

from pathlib import Path

from scine.records import Prompt, Question, Rating, Video, write_jsonl
from scine.taxonomy import load_taxonomy
from scine.video.synth import ShotSpec, render

LEAF = "lighting.color_temperature"
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "brick", "grass")
LOOKS = {"warm": "low", "cool": "high"}  # model name -> temperature value shown


def write_study(folder: Path, prompts: int, *, ties: bool = False) -> Path:
    """``prompts`` prompts, each filmed warm and cool and asked about one temperature; three
    expert votes per video: 5 for the video showing the asked value, 1 for the other (3 for
    both with ``ties``)."""
    leaf = load_taxonomy().leaf(LEAF)
    records: dict[str, list[object]] = {"prompts": [], "questions": [], "videos": [], "ratings": []}
    for n in range(prompts):
        prompt_id, asked = f"p{n:03d}", ("low", "high")[n % 2]
        records["prompts"].append(
            Prompt(id=prompt_id, text=f"Shot {n} of a still life.", split="visuals")
        )
        question = Question(
            id=f"{prompt_id}/t",
            prompt_id=prompt_id,
            node=LEAF,
            value=asked,
            text=leaf.render_question(asked),
        )
        records["questions"].append(question)
        for model, shown in LOOKS.items():
            path = folder / "videos" / model / f"{prompt_id}.mp4"
            path.parent.mkdir(parents=True, exist_ok=True)
            spec = ShotSpec(
                size=(64, 64),
                seconds=1.0,
                fps=8.0,
                photo=PHOTOS[n % len(PHOTOS)],
                temperature=shown,
            )
            render(spec, path, seed=n)
            video_id = f"{model}/{prompt_id}"
            records["videos"].append(
                Video(
                    id=video_id,
                    prompt_id=prompt_id,
                    model=model,
                    path=str(path.relative_to(folder)),
                    fps=8.0,
                    frames=8,
                    width=64,
                    height=64,
                )
            )
            score = 3.0 if ties else (5.0 if shown == asked else 1.0)
            for rater in ("e1", "e2", "e3"):
                records["ratings"].append(
                    Rating(
                        video_id=video_id,
                        question_id=question.id,
                        rater=rater,
                        rater_kind="human",
                        score=score,
                    )
                )
    for name, rows in records.items():
        write_jsonl(folder / f"{name}.jsonl", rows)  # type: ignore[arg-type]
    return folder

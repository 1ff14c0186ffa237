"""End to end in a real browser: Playwright drives Debian's Chromium (installed here when
missing) against the app served on 127.0.0.1: sign in, play both videos, rate with the
keyboard, submit, and find the votes in the database."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("av")
uvicorn = pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from scine.records import Prompt, Question, Video  # noqa: E402
from scine.study import schema  # noqa: E402
from scine.study.app import make_app  # noqa: E402
from scine.study.create import create_study  # noqa: E402
from scine.study.database import open_database  # noqa: E402
from tests.browser import chromium  # noqa: E402
from tests.judge.videos import write_video  # noqa: E402

MOVE = "camera.trajectory.movement"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, object]]:
    media = tmp_path / "media"
    media.mkdir()
    rng = np.random.default_rng(0)
    videos = []
    for model in ("m1", "m2"):
        write_video(media / f"{model}.mp4", rng.integers(0, 256, (24, 64, 64, 3), dtype=np.uint8))
        videos.append(
            Video(
                id=f"{model}/p0",
                prompt_id="p0",
                model=model,
                seed=0,
                path=f"{model}.mp4",
                fps=24,
                frames=24,
                width=64,
                height=64,
            )
        )
    prompts = [Prompt(id="p0", text="A slow pan left over a harbour.", split="visuals")]
    questions = [
        Question(
            id=f"p0/{v}",
            prompt_id="p0",
            node=MOVE,
            value=v,
            text=f"Does the camera {v.replace('_', ' ')}?",
        )
        for v in ("pan_left", "tilt_up")
    ]
    engine = open_database(str(tmp_path / "study.db"), create=True)
    tokens = create_study(engine, prompts, questions, videos, ["ann"], votes=1).tokens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(make_app(engine, media), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", tokens["ann"], engine
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_an_annotator_rates_a_task_with_the_keyboard(served: tuple[str, str, object]) -> None:
    base, token, engine = served
    executable = chromium()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        page = browser.new_page()
        page.goto(f"{base}/login?token={token}")
        assert "/task/" in page.url
        submit = page.locator("#submit")
        assert submit.is_disabled()  # not before both videos played to the end
        page.keyboard.press("Space")
        page.wait_for_function("!document.getElementById('submit').disabled", timeout=20000)
        for key in ("4", "2", "5", "1"):  # question 1: A 4, B 2; question 2: A 5, B 1
            page.keyboard.press(key)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/", timeout=10000)
        assert "All done" in page.content()
        browser.close()
    with Session(engine) as session:  # type: ignore[arg-type]
        task = session.scalars(select(schema.Task)).one()
        scores = {
            (vote.side, vote.question_id): vote.score
            for vote in session.scalars(select(schema.Vote).where(schema.Vote.task_id == task.id))
        }
    assert scores == {
        ("left", "p0/pan_left"): 4,
        ("right", "p0/pan_left"): 2,
        ("left", "p0/tilt_up"): 5,
        ("right", "p0/tilt_up"): 1,
    }

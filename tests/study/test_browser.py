"""End to end in a real browser: Playwright drives Debian's Chromium (installed here when
missing) against the app served on 127.0.0.1: sign in, play both videos, rate with the
keyboard, submit, and find the votes in the database; the keyboard, the names a screen
reader reads, failed submissions, a reload mid-task, a video the browser cannot play, a
phone-sized window, a long prompt, and signing out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("av")
pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

from sqlalchemy import Engine, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from scine.records import Prompt, Question, Video  # noqa: E402
from scine.study import schema  # noqa: E402
from scine.study.app import make_app  # noqa: E402
from scine.study.create import create_study  # noqa: E402
from scine.study.database import open_database  # noqa: E402
from tests.browser import chromium, serving  # noqa: E402
from tests.judge.videos import write_video  # noqa: E402

MOVE = "camera.trajectory.movement"
PROMPT = "A slow pan left over a harbour."
LONG_PROMPT = ("A crane shot rises over a night market as paper lanterns sway. " * 64)[:3999] + "."
"""4,000 characters, as long as a prompt may be."""
TEXTS = {"pan_left": "Does the camera pan left?", "tilt_up": "Does the camera tilt up?"}
STATE = """() => Object.fromEntries([...document.querySelectorAll('.scale')].map((s, i) => {
  const c = s.querySelector('input[type=radio]:checked');
  return [`${Math.floor(i / 2) + 1}${s.dataset.side === 'left' ? 'A' : 'B'}`, c ? c.value : null];
}))"""
"""The page's answers: {"1A": "4", "1B": "", "2A": null, ...} ("" is can't judge)."""
CURRENT = """() => { const s = document.querySelector('.scale.current');
  const i = [...document.querySelectorAll('.scale')].indexOf(s);
  return `${Math.floor(i / 2) + 1}${s.dataset.side === 'left' ? 'A' : 'B'}`
    + (s.contains(document.activeElement) ? ' focused' : ''); }"""
"""The highlighted rating row, e.g. "2A focused" (and whether it holds the focus)."""


@contextmanager
def _study(
    tmp_path: Path, *, broken: str | None = None, prompt: str = PROMPT, tail: str = ""
) -> Iterator[tuple[str, str, Engine]]:
    """A one-task study (two 1 s videos, two questions) served on 127.0.0.1: its address,
    the annotator's token and the database. ``broken`` names a model whose file is not a
    video; ``tail`` is added to every question's text."""
    media = tmp_path / "media"
    media.mkdir()
    rng = np.random.default_rng(0)
    videos = []
    for model in ("m1", "m2"):
        if model == broken:
            (media / f"{model}.mp4").write_bytes(b"not a video " * 100)
        else:
            frames = rng.integers(0, 256, (24, 64, 64, 3), dtype=np.uint8)
            write_video(media / f"{model}.mp4", frames)
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
    prompts = [Prompt(id="p0", text=prompt, split="visuals")]
    questions = [
        Question(id=f"p0/{v}", prompt_id="p0", node=MOVE, value=v, text=text + tail)
        for v, text in TEXTS.items()
    ]
    database = str(tmp_path / "study.db")
    tokens = create_study(database, prompts, questions, videos, ["ann"], votes=1).tokens
    engine = open_database(database)
    with serving(make_app(engine, media)) as base:
        yield base, tokens["ann"], engine


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, Engine]]:
    with _study(tmp_path) as study:
        yield study


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium()
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def _open_and_play(page: Any, base: str, token: str) -> None:
    """Sign in, open the task, play both videos to the end (Space)."""
    page.goto(f"{base}/login?token={token}")
    assert "/task/" in page.url
    assert page.locator("#submit").is_disabled()  # not before both videos played to the end
    page.keyboard.press("Space")
    page.wait_for_function("!document.getElementById('submit').disabled", timeout=10000)


def _stored(engine: Engine) -> dict[tuple[str, str], float | None]:
    with Session(engine) as session:
        task = session.scalars(select(schema.Task)).one()
        return {
            (vote.side, vote.question_id): vote.score
            for vote in session.scalars(select(schema.Vote).where(schema.Vote.task_id == task.id))
        }


def test_an_annotator_rates_a_task_with_the_keyboard(
    served: tuple[str, str, Engine], page: Any
) -> None:
    base, token, engine = served
    _open_and_play(page, base, token)
    for key in ("4", "2", "5", "1"):  # question 1: A 4, B 2; question 2: A 5, B 1
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/", timeout=10000)
    assert "All done" in page.content()
    assert _stored(engine) == {
        ("left", "p0/pan_left"): 4,
        ("right", "p0/pan_left"): 2,
        ("left", "p0/tilt_up"): 5,
        ("right", "p0/tilt_up"): 1,
    }


def test_tab_reaches_every_control_and_each_has_a_name(
    served: tuple[str, str, Engine], page: Any
) -> None:
    base, token, _ = served
    _open_and_play(page, base, token)
    page.locator("h1").click()  # start from the top of the page
    reached = []
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate(
                """() => { const e = document.activeElement;
                return e.id || (e.classList.contains('comment') ? 'comment'
                  : e.type === 'radio' ? 'rating' : e.getAttribute('href') || e.tagName); }"""
            )
        )
        if reached[-1] == "submit":
            break
    assert reached[:3] == ["play", "seek", "loop"]
    assert reached[-1] == "submit"
    assert reached.count(f"/guide/{MOVE}") == 2
    assert reached.count("rating") == 4  # one stop per (question, video)
    assert reached.count("comment") == 4
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.className") == "comment"
    for number, (value, text) in enumerate(TEXTS.items(), start=1):
        group = page.get_by_role("group", name=f"Question {number} of 2 {text}", exact=True)
        assert group.count() == 1, value
        for letter in "AB":
            name = f"Question {number}, video {letter}: {text}"
            assert page.get_by_role("radiogroup", name=name, exact=True).count() == 1
            comment = f"Comment on video {letter}, question {number} (optional)"
            assert page.get_by_role("textbox", name=comment, exact=True).count() == 1


def test_keys_choose_the_question_and_video_and_a_digit_corrects_a_score(
    served: tuple[str, str, Engine], page: Any
) -> None:
    base, token, engine = served
    page.goto(f"{base}/login?token={token}")
    assert page.evaluate(CURRENT) == "1A"  # highlighted from the start, focus untouched
    page.keyboard.press("4")
    page.keyboard.press("2")
    assert page.evaluate(STATE) == {"1A": "4", "1B": "2", "2A": None, "2B": None}
    assert page.evaluate(CURRENT) == "2A focused"  # moved on
    page.keyboard.press("k")  # back to question 1, same video (A)
    assert page.evaluate(CURRENT) == "1A focused"
    page.keyboard.press("b")
    page.keyboard.press("3")  # B of question 1: 2 -> 3
    assert page.evaluate(STATE) == {"1A": "4", "1B": "3", "2A": None, "2B": None}
    page.keyboard.press("a")
    page.keyboard.press("j")
    assert page.evaluate(CURRENT) == "2A focused"
    page.keyboard.press("0")  # can't judge
    page.locator(".scale").nth(3).locator("input[value='1']").click()  # the mouse: 2B = 1
    assert page.evaluate(CURRENT) == "2B focused"
    page.keyboard.press("5")  # the highlight followed the click: 2B 1 -> 5
    page.keyboard.press("Shift+Tab")  # the native order: 2A's comment, then 2A's ratings
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(CURRENT) == "2A focused"
    page.keyboard.press("2")
    assert page.evaluate(STATE) == {"1A": "4", "1B": "3", "2A": "2", "2B": "5"}
    page.keyboard.press("Space")
    page.wait_for_function("!document.getElementById('submit').disabled", timeout=10000)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/", timeout=10000)
    assert _stored(engine) == {
        ("left", "p0/pan_left"): 4,
        ("right", "p0/pan_left"): 3,
        ("left", "p0/tilt_up"): 2,
        ("right", "p0/tilt_up"): 5,
    }


def test_a_failed_submission_says_why_and_can_be_sent_again(
    served: tuple[str, str, Engine], page: Any
) -> None:
    base, token, engine = served
    status = page.locator("#status")
    kept = "Your answers are kept; try again."
    replies = [
        (lambda route: route.abort("connectionrefused"), "the server could not be reached"),
        (
            lambda route: route.fulfill(status=500, body="Internal Server Error"),
            "the server answered 500",
        ),
        (
            lambda route: route.fulfill(
                status=502, content_type="text/html", body="<html><h1>Bad Gateway</h1></html>"
            ),
            "the server answered 502",
        ),
    ]
    _open_and_play(page, base, token)  # the videos loop on while the page waits
    for key in "4251":
        page.keyboard.press(key)
    for reply, reason in replies:
        page.route("**/api/task/*", reply)
        page.locator("#submit").click()
        page.wait_for_function(
            "document.getElementById('status').textContent.startsWith('Not')", timeout=5000
        )
        assert status.inner_text().startswith(f"Not saved: {reason}")
        assert status.inner_text().endswith(kept)
        assert status.get_attribute("class") == "error"
        assert page.locator("#submit").is_enabled()
        page.unroute("**/api/task/*")
    held: list[Any] = []  # a slow server: the reply waits until the test lets it through
    page.route("**/api/task/*", lambda route: held.append(route))
    page.keyboard.press("Enter")
    page.wait_for_timeout(1500)  # the looping videos end at least once meanwhile
    assert len(held) == 1
    assert page.locator("#submit").is_disabled()  # no second submission while one is out
    assert status.inner_text() == "Sending…"
    assert status.get_attribute("class") == ""  # the error style is gone
    held[0].continue_()
    page.wait_for_url(f"{base}/", timeout=10000)
    assert len(_stored(engine)) == 4


def test_a_reload_keeps_the_answers_in_progress(served: tuple[str, str, Engine], page: Any) -> None:
    base, token, engine = served
    _open_and_play(page, base, token)
    page.keyboard.press("4")
    page.keyboard.press("2")
    page.locator("input.comment").nth(1).fill("too dark")  # question 1, video B
    page.reload()
    assert page.evaluate(STATE) == {"1A": "4", "1B": "2", "2A": None, "2B": None}
    assert page.locator("input.comment").nth(1).input_value() == "too dark"
    assert page.locator("#played-left").inner_text() == "played to the end"
    assert page.locator("#played-right").inner_text() == "played to the end"
    assert page.locator("#submit").is_enabled()
    assert page.evaluate(CURRENT) == "2A"  # the first row still open
    page.keyboard.press("5")
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/", timeout=10000)
    assert page.evaluate("sessionStorage.length") == 0  # the draft goes once saved
    assert _stored(engine)[("right", "p0/pan_left")] == 2


def test_a_video_the_browser_cannot_play_is_said_and_rated_cant_judge(
    tmp_path: Path, page: Any
) -> None:
    with _study(tmp_path, broken="m2") as (base, token, engine):
        with Session(engine) as session:
            task = session.scalars(select(schema.Task)).one()
            bad = "left" if task.left_video_id == "m2/p0" else "right"
        good, letter = ("right", "B") if bad == "left" else ("left", "A")
        page.goto(f"{base}/login?token={token}")
        mark = page.locator(f"#played-{bad}")
        page.wait_for_function(
            f"document.getElementById('played-{bad}').textContent.includes('cannot')",
            timeout=5000,
        )
        assert mark.inner_text() == "cannot be played in this browser"
        notice = page.locator("#notice")
        assert notice.is_visible()
        assert f"Video {'B' if letter == 'A' else 'A'} cannot be played" in notice.inner_text()
        assert "can't judge" in notice.inner_text()
        page.keyboard.press("Space")
        page.wait_for_function("!document.getElementById('submit').disabled", timeout=5000)
        page.keyboard.press(letter.lower())
        page.keyboard.press("4")
        page.keyboard.press("j")
        page.keyboard.press(letter.lower())
        page.keyboard.press("5")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/", timeout=10000)
        assert _stored(engine) == {
            (good, "p0/pan_left"): 4,
            (good, "p0/tilt_up"): 5,
            (bad, "p0/pan_left"): None,
            (bad, "p0/tilt_up"): None,
        }


def test_the_page_fits_a_phone_and_long_text_wraps(tmp_path: Path, browser: Any) -> None:
    long_prompt = "A very long prompt with many words describing the scene. " * 60
    word = "Supercalifragilisticexpialidocious" * 8  # 272 characters, no break
    with _study(tmp_path, prompt=long_prompt, tail=" " + word) as (base, token, _):
        for width in (390, 1280):
            phone = width < 500
            context = browser.new_context(
                viewport={"width": width, "height": 844}, is_mobile=phone, has_touch=phone
            )
            page = context.new_page()
            page.goto(f"{base}/login?token={token}")
            page.wait_for_load_state("load")
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            assert page.evaluate("scrollY") == 0  # opens at the top
            left = page.locator("#video-left").bounding_box()
            right = page.locator("#video-right").bounding_box()
            assert (left["y"] + left["height"] <= right["y"]) == phone  # stacked on a phone
            for target in page.locator(".scale label.choice").all()[:6]:
                box = target.bounding_box()
                assert box["width"] >= 24
                assert box["height"] >= 24
            context.close()


def test_seeking_to_the_end_is_not_watching(served: tuple[str, str, Engine], page: Any) -> None:
    base, token, _ = served
    page.goto(f"{base}/login?token={token}")
    page.keyboard.press("l")  # loop off
    assert not page.locator("#loop").is_checked()
    page.wait_for_function("[...document.querySelectorAll('video')].every(v => v.duration)")
    page.locator("#seek").fill("950")  # the slider near the end: 5% left to watch
    page.keyboard.press("Space")
    page.wait_for_function(
        "document.getElementById('played-left').textContent.includes('play it through')",
        timeout=5000,
    )
    assert page.locator("#submit").is_disabled()
    page.keyboard.press("Space")  # both ended: plays them again from the start
    page.wait_for_function("!document.getElementById('submit').disabled", timeout=5000)


def test_a_long_prompt_shows_a_few_lines_on_a_phone_and_opens_whole(
    tmp_path: Path, browser: Any
) -> None:
    with _study(tmp_path, prompt=LONG_PROMPT) as (base, token, _):
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        )
        page = context.new_page()
        page.goto(f"{base}/login?token={token}")
        text, toggle = page.locator("#prompt-text"), page.locator("#prompt-toggle")
        hidden = "(e) => e.scrollHeight - e.clientHeight"  # pixels of the text cut off
        assert len(LONG_PROMPT) == 4000
        assert toggle.is_visible()
        assert toggle.get_attribute("aria-expanded") == "false"
        assert toggle.get_attribute("aria-controls") == "prompt-text"
        assert text.evaluate(hidden) > 1000
        assert page.locator("#video-left").bounding_box()["y"] < 844  # on the first screen
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"
        assert toggle.inner_text() == "show less of the prompt"
        assert text.evaluate(hidden) == 0
        assert text.inner_text() == LONG_PROMPT
        box = text.bounding_box()
        assert box["y"] + box["height"] <= page.locator("#video-left").bounding_box()["y"]
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "false"
        assert text.evaluate(hidden) > 1000
        context.close()


def test_a_short_prompt_is_shown_whole_without_a_button(
    served: tuple[str, str, Engine], browser: Any
) -> None:
    base, token, _ = served
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{base}/login?token={token}")
    assert page.locator("#prompt-text").inner_text() == PROMPT
    assert page.locator("#prompt-text").evaluate("(e) => e.scrollHeight - e.clientHeight") == 0
    assert page.locator("#prompt-toggle").is_hidden()
    context.close()


def test_the_prompt_button_and_the_keys_keep_out_of_each_other(tmp_path: Path, page: Any) -> None:
    playing = "[...document.querySelectorAll('video')].some((v) => !v.paused)"
    with _study(tmp_path, prompt=LONG_PROMPT) as (base, token, _):
        page.goto(f"{base}/login?token={token}")
        keys = " ".join(page.locator("#keys").inner_text().split())
        assert keys.startswith("Keys: space play/pause (on a button reached with Tab: presses it)")
        assert "Enter submit (on a link or button: follows or presses it)" in keys
        toggle = page.locator("#prompt-toggle")
        toggle.click()  # the mouse: space then still plays and pauses
        assert toggle.get_attribute("aria-expanded") == "true"
        page.keyboard.press("Space")
        page.wait_for_function(playing, timeout=5000)
        page.keyboard.press("Space")
        page.wait_for_function(f"!({playing})", timeout=5000)
        assert toggle.get_attribute("aria-expanded") == "true"
        page.keyboard.press("Shift+Tab")  # the header's sign-out button
        page.keyboard.press("Tab")  # back to the prompt's button, with the keyboard
        assert page.evaluate("document.activeElement.id") == "prompt-toggle"
        page.keyboard.press("Space")  # a button reached with the keyboard takes its space
        assert toggle.get_attribute("aria-expanded") == "false"
        page.keyboard.press("Enter")  # and its Enter, which submits nothing
        assert toggle.get_attribute("aria-expanded") == "true"
        assert not page.evaluate(playing)
        assert page.locator("#status").inner_text() == ""
        for key in ("4", "2", "l"):
            page.keyboard.press(key)
        assert page.evaluate(STATE) == {"1A": "4", "1B": "2", "2A": None, "2B": None}
        assert not page.locator("#loop").is_checked()


def test_the_sign_out_button_signs_out_and_a_visit_to_logout_does_not(
    served: tuple[str, str, Engine], page: Any
) -> None:
    base, token, _ = served
    page.goto(f"{base}/login?token={token}")
    page.goto(f"{base}/logout")  # a bookmark, or a link on another site
    assert "Sign out of the study in this browser?" in page.inner_text("main")
    page.goto(f"{base}/")
    assert "/task/" in page.url  # still signed in
    button = page.locator("header").get_by_role("button", name="sign out", exact=True)
    assert button.evaluate("(e) => getComputedStyle(e).textDecorationLine") == "underline"
    assert page.locator("a[href='/logout']").count() == 0
    with page.expect_navigation():
        button.click()
    assert page.url == f"{base}/signed-out"
    assert page.inner_text("main") == "Signed out."
    assert page.context.cookies() == []
    page.goto(f"{base}/")
    assert "open your invitation link again" in page.inner_text("main")

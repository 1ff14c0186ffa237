"""The annotation app through its HTTP API: sign-in, tasks, submissions, media, admin, and
each security rule."""

from __future__ import annotations

import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from scine.cli import app
from scine.study import schema
from scine.study.access import unservable_videos
from scine.study.app import COOKIE, MAX_BODY, make_app
from scine.study.create import ADMIN, create_study
from scine.study.database import open_database
from scine.taxonomy import load_taxonomy
from tests.study.test_create import MOVE, records, write_media

PATH = " › ".join(load_taxonomy().path(MOVE))


@pytest.fixture
def served(tmp_path: Path, database: str) -> tuple[TestClient, dict[str, str], object, Path]:
    prompts, questions, videos = records(3, ("m1", "m2"))
    media = write_media(tmp_path / "media", videos)
    made = create_study(database, prompts, questions, videos, ["ann", "bob", "cyd"], votes=2)
    engine = open_database(database)
    client = TestClient(make_app(engine, media, secret=b"k" * 32), follow_redirects=False)
    return client, made.tokens, engine, media


def sign_in(client: TestClient, token: str) -> str:
    response = client.get("/login", params={"token": token})
    assert response.status_code == 303
    return response.headers["location"]


def first_task(engine: object, name: str) -> schema.Task:
    with Session(engine) as session:  # type: ignore[arg-type]
        person = session.scalar(select(schema.Annotator).where(schema.Annotator.name == name))
        task = session.scalars(
            select(schema.Task)
            .where(schema.Task.annotator_id == person.id)
            .order_by(schema.Task.position)
        ).first()
        assert task is not None
        session.expunge(task)
        return task


def csrf(client: TestClient, task_id: int) -> str:
    page = client.get(f"/task/{task_id}").text
    return page.split('data-csrf="', 1)[1].split('"', 1)[0]


def open_first_task(
    client: TestClient, tokens: dict[str, str], engine: object
) -> tuple[schema.Task, dict[str, str]]:
    """Sign in as "ann" and open her first task: the task and the CSRF header to post it."""
    sign_in(client, tokens["ann"])
    task = first_task(engine, "ann")
    return task, {"X-CSRF-Token": csrf(client, task.id)}


def full_ballots(
    engine: object, task: schema.Task, score: int | None = 4
) -> list[dict[str, object]]:
    with Session(engine) as session:  # type: ignore[arg-type]
        questions = session.scalars(
            select(schema.Question.id).where(schema.Question.prompt_id == task.prompt_id)
        ).all()
    sides = [s for s, on in (("left", task.rate_left), ("right", task.rate_right)) if on]
    return [{"side": s, "question": q, "score": score} for s in sides for q in questions]


def test_sign_in_then_the_next_task_and_its_page(
    served: tuple[TestClient, dict[str, str], object, Path],
) -> None:
    client, tokens, engine, _ = served
    assert sign_in(client, tokens["ann"]) == "/"
    cookie = client.cookies.get(COOKIE)
    assert cookie == tokens["ann"]
    task = first_task(engine, "ann")
    assert client.get("/").headers["location"] == f"/task/{task.id}"
    page = client.get(f"/task/{task.id}").text
    assert PATH in page
    assert "m1" not in page
    assert "m2" not in page
    assert f"/media/task/{task.id}/left" in page
    assert client.get(f"/media/task/{task.id}/left").status_code == 200
    assert "0 of 2 done" in page  # 3 prompts x 1 comparison x 2 votes over 3 annotators


def test_signing_out_is_a_post_carrying_the_csrf_token(
    served: tuple[TestClient, dict[str, str], object, Path],
) -> None:
    client, tokens, engine, _ = served
    task, headers = open_first_task(client, tokens, engine)
    token = headers["X-CSRF-Token"]
    form = f'<input type="hidden" name="csrf" value="{token}">'
    assert form in client.get(f"/task/{task.id}").text  # the header's sign-out button
    assert form in client.get(f"/guide/{MOVE}").text
    browser = {"Accept": "text/html"}
    bookmarked = client.get("/logout", headers=browser)  # a bookmark, or a link elsewhere
    assert bookmarked.status_code == 200
    assert "Sign out of the study in this browser?" in bookmarked.text
    assert form in bookmarked.text
    assert client.get("/").headers["location"] == f"/task/{task.id}"  # still signed in
    for sent in ({}, {"csrf": "0" * 64}, {"csrf": "é"}):
        refused = client.post("/logout", data=sent, headers=browser)
        assert refused.status_code == 403, sent
        assert "missing or wrong CSRF token" in refused.text
        assert client.get("/").headers["location"] == f"/task/{task.id}"
    assert client.post("/logout", headers={"X-CSRF-Token": token}).status_code == 403
    odd = client.post("/logout", files={"csrf": ("token.txt", token.encode())})
    assert odd.status_code == 422  # not a 415 asking for votes as JSON
    out = client.post("/logout", data={"csrf": token})
    assert out.status_code == 303
    assert out.headers["location"] == "/signed-out"
    assert COOKIE not in client.cookies
    assert client.get("/").status_code == 401
    signed_out = client.get("/logout", headers=browser).text
    assert "You are not signed in." in signed_out
    assert 'action="/logout"' not in signed_out
    assert client.post("/logout").headers["location"] == "/signed-out"  # nothing to protect


def test_a_submission_is_stored_once_and_the_queue_moves_on(
    served: tuple[TestClient, dict[str, str], object, Path],
) -> None:
    client, tokens, engine, _ = served
    task, headers = open_first_task(client, tokens, engine)
    body = {"ballots": full_ballots(engine, task)}
    for _ in range(2):
        response = client.post(f"/api/task/{task.id}", json=body, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["next"] == client.get("/").headers["location"] != f"/task/{task.id}"
    with Session(engine) as session:  # type: ignore[arg-type]
        assert session.query(schema.Vote).filter_by(task_id=task.id).count() == len(body["ballots"])
    assert client.get("/").headers["location"] != f"/task/{task.id}"
    bad = {"ballots": [{**body["ballots"][0], "score": 6}, *body["ballots"][1:]]}
    assert client.post(f"/api/task/{task.id}", json=bad, headers=headers).status_code == 422
    short = {"ballots": body["ballots"][:-1]}
    assert (
        "missing"
        in client.post(f"/api/task/{task.id}", json=short, headers=headers).json()["detail"]
    )


def test_one_task_submitted_twice_at_once_is_stored_once(
    served: tuple[TestClient, dict[str, str], object, Path],
) -> None:
    """Two tabs (or a double submit) sending one task at the same moment, twenty times:
    both are answered 200 and the task holds one of the two submissions, whole."""
    client, tokens, engine, _ = served
    task, headers = open_first_task(client, tokens, engine)
    tabs = [TestClient(client.app, cookies=client.cookies) for _ in range(2)]
    bodies = [{"ballots": full_ballots(engine, task, score)} for score in (3, 5)]
    together = threading.Barrier(2)  # lets both go at once, round after round

    def send(tab: TestClient, body: dict[str, object]) -> int:
        together.wait()
        return tab.post(f"/api/task/{task.id}", json=body, headers=headers).status_code

    with ThreadPoolExecutor(2) as pool:
        for _ in range(20):
            assert list(pool.map(send, tabs, bodies)) == [200, 200]
            with Session(engine) as session:  # type: ignore[arg-type]
                scores = session.scalars(
                    select(schema.Vote.score).where(schema.Vote.task_id == task.id)
                ).all()
            assert len(scores) == len(bodies[0]["ballots"])
            assert len(set(scores)) == 1


def test_a_ballot_carries_a_whole_score_or_an_explicit_null(
    served: tuple[TestClient, dict[str, str], object, Path],
) -> None:
    client, tokens, engine, _ = served
    task, headers = open_first_task(client, tokens, engine)
    ballots = full_ballots(engine, task)
    first, rest = ballots[0], ballots[1:]
    no_score = {key: value for key, value in first.items() if key != "score"}
    for bad in ({**first, "score": True}, {**first, "score": "3"}, no_score):
        response = client.post(
            f"/api/task/{task.id}", json={"ballots": [bad, *rest]}, headers=headers
        )
        assert response.status_code == 422, bad
        assert response.json()["detail"][0]["loc"][-1] == "score"
        assert "input" not in response.json()["detail"][0]
    text = json.dumps({"ballots": [{**first, "score": float("nan")}, *rest]})
    assert "NaN" in text
    json_headers = {**headers, "Content-Type": "application/json"}
    assert (
        client.post(f"/api/task/{task.id}", content=text, headers=json_headers).status_code == 422
    )
    with Session(engine) as session:  # type: ignore[arg-type]
        assert session.query(schema.Vote).filter_by(task_id=task.id).count() == 0
    unsure = {"ballots": [{**first, "score": None}, *rest]}
    assert client.post(f"/api/task/{task.id}", json=unsure, headers=headers).status_code == 200


def test_votes_sent_as_anything_but_json_are_refused_as_such(
    served: tuple[TestClient, dict[str, str], object, Path],
) -> None:
    client, tokens, engine, _ = served
    task, headers = open_first_task(client, tokens, engine)
    text = json.dumps({"ballots": full_ballots(engine, task)})
    for media_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        sent = {**headers, "Content-Type": media_type}
        response = client.post(f"/api/task/{task.id}", content=text, headers=sent)
        assert response.status_code == 415, media_type
        assert "application/json" in response.json()["detail"]
    with Session(engine) as session:  # type: ignore[arg-type]
        assert session.query(schema.Vote).filter_by(task_id=task.id).count() == 0
    sent = {**headers, "Content-Type": "application/json; charset=utf-8"}
    assert client.post(f"/api/task/{task.id}", content=text, headers=sent).status_code == 200


def test_odd_tokens_and_task_ids_are_refused_not_crashed_on(
    served: tuple[TestClient, dict[str, str], object, Path],
) -> None:
    client, tokens, engine, _ = served
    sign_in(client, tokens["ann"])
    task = first_task(engine, "ann")
    body = {"ballots": full_ballots(engine, task)}
    odd = {"X-CSRF-Token": b"\xe9"}  # not ASCII
    assert client.post(f"/api/task/{task.id}", json=body, headers=odd).status_code == 403
    huge = 10**20  # beyond the database's integers
    assert client.get(f"/task/{huge}").status_code == 422
    assert client.get(f"/media/task/{huge}/left").status_code == 422


def test_no_cookie_no_csrf_no_entry(
    served: tuple[TestClient, dict[str, str], object, Path],
) -> None:
    client, tokens, engine, _ = served
    task = first_task(engine, "ann")
    assert client.get(f"/task/{task.id}").status_code == 401
    assert client.get("/login", params={"token": "forged"}).status_code == 401
    sign_in(client, tokens["ann"])
    body = {"ballots": full_ballots(engine, task)}
    assert client.post(f"/api/task/{task.id}", json=body).status_code == 403
    assert (
        client.post(
            f"/api/task/{task.id}", json=body, headers={"X-CSRF-Token": "0" * 64}
        ).status_code
        == 403
    )


def test_a_browser_opening_a_page_it_may_not_see_gets_a_page_saying_what_to_do(
    served: tuple[TestClient, dict[str, str], object, Path],
) -> None:
    client, tokens, engine, _ = served
    task = first_task(engine, "ann")
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    for cookie in (None, "expired"):  # never signed in; a token no longer known
        if cookie:
            client.cookies.set(COOKIE, cookie)
        for path in ("/", f"/task/{task.id}"):
            page = client.get(path, headers=browser)
            assert page.status_code == 401
            assert page.headers["content-type"].startswith("text/html")
            assert "open your invitation link again" in page.text
            assert client.get(path).json()["detail"].endswith("open your invitation link again.")
        video = client.get(f"/media/task/{task.id}/left", headers=browser)
        assert video.status_code == 401
        assert "invitation link" in video.json()["detail"]
        sent = client.post(f"/api/task/{task.id}", json={"ballots": []}, headers=browser)
        assert sent.status_code == 401
        assert "invitation link" in sent.json()["detail"]
    sign_in(client, tokens["ann"])
    page = client.get("/admin", headers=browser)
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert "for the study&#39;s organiser" in page.text
    assert client.get("/admin").json()["detail"] == "This page is for the study's organiser."


def test_the_organiser_opening_the_start_page_is_sent_to_the_admin_page(
    served: tuple[TestClient, dict[str, str], object, Path],
) -> None:
    client, tokens, _, _ = served
    sign_in(client, tokens[ADMIN])
    assert client.get("/").headers["location"] == "/admin"


def test_an_annotator_sees_and_writes_only_their_own_tasks(
    served: tuple[TestClient, dict[str, str], object, Path],
) -> None:
    client, tokens, engine, _ = served
    theirs = first_task(engine, "bob")
    sign_in(client, tokens["ann"])
    headers = {"X-CSRF-Token": csrf(client, first_task(engine, "ann").id)}
    assert client.get(f"/task/{theirs.id}").status_code == 404
    assert client.get(f"/media/task/{theirs.id}/left").status_code == 404
    body = {"ballots": full_ballots(engine, theirs)}
    assert client.post(f"/api/task/{theirs.id}", json=body, headers=headers).status_code == 404
    assert client.get("/admin").status_code == 403


def test_media_never_leave_the_media_folder(
    served: tuple[TestClient, dict[str, str], object, Path], tmp_path: Path
) -> None:
    client, tokens, engine, media = served
    secret = tmp_path / "secret.txt"
    secret.write_text("not for you")
    task = first_task(engine, "ann")
    with Session(engine) as session, session.begin():  # type: ignore[arg-type]
        left = session.get(schema.Video, task.left_video_id)
        right = session.get(schema.Video, task.right_video_id)
        assert left is not None
        assert right is not None
        left.path = "../secret.txt"
        os.symlink(secret, media / "escape.mp4")
        right.path = "escape.mp4"
        moved = sorted([(left.id, "../secret.txt"), (right.id, "escape.mp4")])
    sign_in(client, tokens["ann"])
    assert client.get(f"/media/task/{task.id}/left").status_code == 404
    assert client.get(f"/media/task/{task.id}/right").status_code == 404
    assert client.get(f"/media/task/{task.id}/middle").status_code == 404
    with Session(engine) as session:  # type: ignore[arg-type]
        unservable = unservable_videos(session, media)
    assert unservable == moved


def test_serving_refuses_videos_it_could_never_show(
    served: tuple[TestClient, dict[str, str], object, Path], database: str
) -> None:
    _, _, engine, media = served
    with Session(engine) as session:  # type: ignore[arg-type]
        first = session.scalars(select(schema.Video).order_by(schema.Video.id)).first()
        assert first is not None
        session.expunge(first)
    (media / first.path).unlink()
    outcome = CliRunner().invoke(app, ["study", "serve", "--db", database, "--media", str(media)])
    assert outcome.exit_code == 1
    said = " ".join(outcome.output.split())
    assert "1 video(s) of the study are not files inside" in said
    assert first.id in said


def test_serving_refuses_a_secret_that_is_not_hexadecimal(
    served: tuple[TestClient, dict[str, str], object, Path], database: str
) -> None:
    _, _, _, media = served
    outcome = CliRunner().invoke(
        app,
        ["study", "serve", "--db", database, "--media", str(media)],
        env={"SCINE_STUDY_SECRET": "not-hex"},
    )
    assert outcome.exit_code == 1
    assert isinstance(outcome.exception, SystemExit)  # no traceback
    assert "SCINE_STUDY_SECRET must be hexadecimal" in " ".join(outcome.stderr.split())


def test_oversized_bodies_are_refused(
    served: tuple[TestClient, dict[str, str], object, Path],
) -> None:
    client, tokens, engine, _ = served
    sign_in(client, tokens["ann"])
    task = first_task(engine, "ann")
    response = client.post(
        f"/api/task/{task.id}",
        content=b"x" * (MAX_BODY + 1),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_admin_sees_progress_and_exports(
    served: tuple[TestClient, dict[str, str], object, Path],
) -> None:
    client, tokens, engine, _ = served
    sign_in(client, tokens["ann"])
    task = first_task(engine, "ann")
    client.post(
        f"/api/task/{task.id}",
        json={"ballots": full_ballots(engine, task, 5)},
        headers={"X-CSRF-Token": csrf(client, task.id)},
    )
    client.cookies.clear()
    assert sign_in(client, tokens[ADMIN]) == "/admin"
    page = client.get("/admin").text
    assert "ann" in page
    assert "votes per item" in page
    export = client.get("/admin/export")
    assert export.status_code == 200
    assert export.text.count("\n") == len(full_ballots(engine, task))


def test_guideline_pages(served: tuple[TestClient, dict[str, str], object, Path]) -> None:
    client, tokens, _, _ = served
    sign_in(client, tokens["ann"])
    page = client.get("/guide/camera.trajectory.movement")
    assert page.status_code == 200
    assert PATH in page.text
    assert all(value.name in page.text for value in load_taxonomy().leaf(MOVE).values)
    assert client.get("/guide/camera.nothing").status_code == 404

"""The annotation web app: token login, side-by-side tasks, admin pages.

Server-side pages (Jinja2) and one small script (``static/task.js``). An annotator's token
arrives in their invitation link and is kept in an HttpOnly, SameSite=Lax cookie (Lax: a
link clicked on another site, such as a web mail, still signs in); the database holds only
its hash. Annotators see and write only their own tasks; videos are served by task and
side, so model names and file paths never reach the page. Every state-changing request
carries a per-annotator CSRF token (submissions in a header, the sign-out form in a field;
signing out is a POST, so a link followed from another site signs nobody out), bodies
are capped, and media are served only from inside the media folder. Errors are JSON,
except on the pages a browser opens, which answer a short page saying what to do.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi import Path as PathParameter
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field, StrictInt
from sqlalchemy import Engine, bindparam, func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from scine.taxonomy import Taxonomy, load_taxonomy

from . import schema
from .access import annotator_for, csrf_matches, csrf_token, media_file
from .database import checkpoint_in_background
from .gold import gold_checks
from .votes import (
    Ballot,
    NotYourTask,
    SubmissionError,
    export_ratings,
    submit,
)

__all__ = ["COOKIE", "MAX_BODY", "make_app"]

COOKIE = "scine_token"
MAX_BODY = 256 * 1024
"""The largest request body accepted, in bytes (a task's votes take a few kilobytes)."""

SIDES = ("left", "right")
MAX_REPORTED_PROBLEMS = 20
"""At most this many problems of an invalid request are described in its 422 reply."""

TaskId = Annotated[int, PathParameter(ge=1, le=2**63 - 1)]
"""A task's id in a URL: within the database's integer range (beyond it no task exists)."""


class BallotIn(BaseModel):
    """One answer as the page sends it: a side, a question, and a whole score from 1 to 5
    or an explicit null ("can't judge"); a score left out, true, "3" or 3.5 is refused."""

    side: str = Field(pattern="^(left|right)$")
    question: str = Field(max_length=400)
    score: Annotated[StrictInt, Field(ge=1, le=5)] | None
    comment: str | None = Field(default=None, max_length=2000)


class SubmissionIn(BaseModel):
    ballots: list[BallotIn] = Field(max_length=2000)


def _opens_a_page(request: Request) -> bool:
    """Whether a browser asks for one of the app's pages (not the API, not a video)."""
    return "text/html" in request.headers.get("accept", "") and not request.url.path.startswith(
        ("/api/", "/media/")
    )


def _sends_json(request: Request) -> bool:
    """Whether the request's body is declared as JSON (``application/json`` or ``+json``)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
    """A 415 for votes sent as anything but JSON; else a 422 naming where and what is
    wrong, without echoing the input back (it may be large, or hold values such as NaN that
    JSON cannot carry)."""
    if request.url.path.startswith("/api/") and not _sends_json(request):
        return JSONResponse({"detail": "send the votes as application/json"}, status_code=415)
    problems = [
        {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
        for error in exc.errors()[:MAX_REPORTED_PROBLEMS]
    ]
    return JSONResponse({"detail": problems}, status_code=422)


def make_app(engine: Engine, media: str | Path, *, secret: bytes | None = None) -> FastAPI:
    """The app over a study database and its media folder. ``secret`` keys the CSRF
    tokens (random per process if not given: pages opened before a restart must reload)."""
    media_root = Path(media)
    key = secret or secrets.token_bytes(32)
    taxonomy = load_taxonomy()
    package = resources.files("scine.study")
    templates = Jinja2Templates(directory=str(package / "templates"))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        with checkpoint_in_background(engine):
            yield
        writers.shutdown()

    app = FastAPI(
        title="SCINE study", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.mount("/static", StaticFiles(directory=str(package / "static")), name="static")
    questions_of: dict[str, frozenset[str]] = {}  # by prompt; fixed once the study exists
    pages: dict[str, tuple[str, list[dict[str, str]]]] = {}  # a prompt's text and questions
    # SQLite has one writer at a time: submissions queue here, first come first served,
    # instead of in its busy handler; a server database takes several at once
    writers = ThreadPoolExecutor(1 if engine.dialect.name == "sqlite" else 8, "scine-writer")

    app.add_middleware(BodyLimit, limit=MAX_BODY)
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]

    signed_in: dict[str, Person] = {}  # by token: accounts do not change during a study

    def person_of(session: Session, request: Request) -> Person | None:
        """Who the request's sign-in cookie belongs to, or None."""
        token = request.cookies.get(COOKIE, "")
        person = signed_in.get(token)
        if person is None:
            found = annotator_for(session, token)
            if found is None:
                return None
            person = signed_in[token] = Person(found.id, found.admin, found.token_hash)
        return person

    def who(session: Session, request: Request, *, admin: bool = False) -> Person:
        """The signed-in person (401 if none; 403 if ``admin`` and they are not the admin)."""
        person = person_of(session, request)
        if person is None:
            raise HTTPException(
                401, "Your sign-in is missing or has expired: open your invitation link again."
            )
        if admin and not person.admin:
            raise HTTPException(403, "This page is for the study's organiser.")
        return person

    def check_csrf(person: Person, sent: str) -> None:
        """Refuse (403) a write whose CSRF token is not the person's."""
        if not csrf_matches(key, person.token_hash, sent):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page")

    def page(
        request: Request,
        name: str,
        context: dict[str, Any],
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """A page from its template; a signed-in person's carries their CSRF token
        (``csrf``), which the header's sign-out form and the task page's script send."""
        with Session(engine) as session:
            person = person_of(session, request)
        if person is not None:
            context = {**context, "csrf": csrf_token(key, person.token_hash)}
        return templates.TemplateResponse(
            request, name, context, status_code=status_code, headers=headers
        )

    async def refused(request: Request, exc: StarletteHTTPException) -> Response:
        """An error as a short page for a browser opening a page (made on a thread: it looks
        up who is signed in); as JSON otherwise."""
        if not _opens_a_page(request):
            return await http_exception_handler(request, exc)
        shown = partial(page, request, "message.html", {"message": exc.detail})
        return await run_in_threadpool(shown, exc.status_code, exc.headers)

    app.add_exception_handler(StarletteHTTPException, refused)  # type: ignore[arg-type]

    def own_task(session: Session, person: Person, task_id: int) -> schema.Task:
        task = session.get(schema.Task, task_id)
        if task is None or task.annotator_id != person.id:
            raise HTTPException(404, "no such task of yours")
        return task

    @app.get("/login")
    def login(token: str = "") -> Response:
        with Session(engine) as session:
            person = annotator_for(session, token)
            if person is None:
                raise HTTPException(
                    401,
                    "This invitation link is not valid: check that it was copied whole, or ask "
                    "the study's organiser for a new one.",
                )
            target = "/admin" if person.admin else "/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="lax", max_age=90 * 86400)
        return response

    @app.get("/logout", response_class=HTMLResponse)
    def logout_page(request: Request) -> Response:
        """A page with the sign-out button, for a bookmarked or typed /logout: a GET never
        signs out (a link on another site could)."""
        return page(request, "logout.html", {})

    @app.post("/logout")
    def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        """Sign out: the form's CSRF token must be the person's (403 otherwise); without a
        valid sign-in there is nothing to protect, and the cookie goes all the same."""
        with Session(engine) as session:
            person = person_of(session, request)
        if person is not None:
            check_csrf(person, csrf)
        response = RedirectResponse("/signed-out", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/signed-out", response_class=HTMLResponse)
    def signed_out(request: Request) -> Response:
        return page(request, "message.html", {"message": "Signed out."})

    @app.get("/")
    def home(request: Request) -> Response:
        with Session(engine) as session:
            person = who(session, request)
            if person.admin:
                return RedirectResponse("/admin", status_code=303)
            waiting = _next_task(session, person.id)
            done, total = _progress(session, person.id)
        if waiting is not None:
            return RedirectResponse(f"/task/{waiting}", status_code=303)
        done_message = f"All done: {done} of {total} tasks. Thank you!"
        return page(request, "message.html", {"message": done_message})

    @app.get("/task/{task_id}", response_class=HTMLResponse)
    def task_page(request: Request, task_id: TaskId) -> Response:
        with Session(engine) as session:
            person = who(session, request)
            task = own_task(session, person, task_id)
            if task.prompt_id not in pages:
                pages[task.prompt_id] = _prompt_page(session, task.prompt_id, taxonomy)
            prompt, questions = pages[task.prompt_id]
            votes = {}
            if task.submitted is not None:  # earlier answers, to show and change
                found = session.scalars(select(schema.Vote).where(schema.Vote.task_id == task.id))
                votes = {(vote.side, vote.question_id): vote for vote in found}
            done, total = _progress(session, person.id)
            context = {
                "task": task,
                "prompt": prompt,
                "sides": [
                    s for s, on in zip(SIDES, (task.rate_left, task.rate_right), strict=True) if on
                ],
                "questions": [
                    {**q, "earlier": {side: votes.get((side, q["id"])) for side in SIDES}}
                    for q in questions
                ],
                "done": done,
                "total": total,
            }
        return page(request, "task.html", context)

    @app.post("/api/task/{task_id}")
    async def submit_task(request: Request, task_id: TaskId, body: SubmissionIn) -> Response:
        store = partial(store_task, request, task_id, body)
        stored, waiting = await asyncio.get_running_loop().run_in_executor(writers, store)
        return JSONResponse(
            {"stored": stored, "next": "/" if waiting is None else f"/task/{waiting}"}
        )

    def store_task(request: Request, task_id: int, body: SubmissionIn) -> tuple[int, int | None]:
        """Check and store a submission in one transaction (on a writer thread); returns
        the votes stored and the annotator's next task not yet submitted, if any."""
        with Session(engine) as session, session.begin():
            person = who(session, request)
            check_csrf(person, request.headers.get("x-csrf-token", ""))
            ballots = [Ballot(b.side, b.question, b.score, b.comment) for b in body.ballots]
            try:
                stored = submit(session, person.id, task_id, ballots, questions_of)
                return stored, _next_task(session, person.id)
            except NotYourTask as exc:
                raise HTTPException(404, str(exc)) from exc
            except SubmissionError as exc:
                raise HTTPException(422, str(exc)) from exc

    @app.get("/media/task/{task_id}/{side}")
    def media_for(request: Request, task_id: TaskId, side: str) -> Response:
        if side not in SIDES:
            raise HTTPException(404, "no such side")
        with Session(engine) as session:
            task = own_task(session, who(session, request), task_id)
            video = session.get(
                schema.Video, task.left_video_id if side == "left" else task.right_video_id
            )
            assert video is not None
            path = media_file(media_root, video.path)
        if path is None:
            raise HTTPException(404, "video file not found in the media folder")
        return FileResponse(path, headers={"Cache-Control": "private"})  # type from the name

    @app.get("/guide/{node}", response_class=HTMLResponse)
    def guide(request: Request, node: str) -> Response:
        with Session(engine) as session:
            who(session, request)
        try:
            leaf = taxonomy.leaf(node)
        except Exception as exc:  # an unknown or non-leaf id
            raise HTTPException(404, f"no guideline for {node!r}") from exc
        context = {"leaf": leaf, "path": " › ".join(taxonomy.path(leaf.id))}
        return page(request, "guide.html", context)

    @app.get("/admin", response_class=HTMLResponse)
    def admin(request: Request) -> Response:
        with Session(engine) as session:
            who(session, request, admin=True)
            context = _admin_figures(session)
        return page(request, "admin.html", context)

    @app.get("/admin/export")
    def admin_export(request: Request) -> Response:
        with Session(engine) as session:
            who(session, request, admin=True)
        ratings, _ = export_ratings(engine)
        lines = "".join(r.model_dump_json() + "\n" for r in ratings)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        headers = {"Content-Disposition": f'attachment; filename="ratings-{stamp}.jsonl"'}
        return Response(lines, media_type="application/x-ndjson", headers=headers)

    return app


@dataclass(frozen=True)
class Person:
    """A signed-in annotator, as requests need them."""

    id: int
    admin: bool
    token_hash: str


class BodyLimit:
    """Refuse bodies over ``limit`` bytes (413) and POSTs that do not say their length (411)
    before the app reads them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = dict(scope["headers"]).get(b"content-length")
            refusal = None
            if length is not None and (not length.isdigit() or int(length) > self.limit):
                refusal = JSONResponse({"error": f"request body over {self.limit} bytes"}, 413)
            elif scope["method"] == "POST" and length is None:
                refusal = JSONResponse({"error": "a Content-Length is required"}, 411)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


_NEXT_TASK = (
    select(schema.Task.id)
    .where(schema.Task.annotator_id == bindparam("annotator"), schema.Task.submitted.is_(None))
    .order_by(schema.Task.position)
    .limit(1)
)


def _next_task(session: Session, annotator_id: int) -> int | None:
    """The annotator's first task (in queue order) not yet submitted (a Core statement
    built once: it runs after every submission)."""
    found = session.connection().execute(_NEXT_TASK, {"annotator": annotator_id}).scalar()
    return None if found is None else int(found)


def _prompt_page(
    session: Session, prompt_id: str, taxonomy: Taxonomy
) -> tuple[str, list[dict[str, str]]]:
    """A prompt's text and its questions as the task page shows them."""
    prompt = session.get(schema.Prompt, prompt_id)
    assert prompt is not None  # tasks refer to existing prompts
    questions = session.scalars(
        select(schema.Question)
        .where(schema.Question.prompt_id == prompt_id)
        .order_by(schema.Question.position)
    )
    shown = [
        {"id": q.id, "text": q.text, "node": q.node, "path": " › ".join(taxonomy.path(q.node))}
        for q in questions
    ]
    return prompt.text, shown


def _progress(session: Session, annotator_id: int) -> tuple[int, int]:
    """Submitted and total tasks of an annotator."""
    total, done = session.execute(
        select(func.count(), func.count(schema.Task.submitted)).where(
            schema.Task.annotator_id == annotator_id
        )
    ).one()
    return int(done), int(total)


def _admin_figures(session: Session) -> dict[str, Any]:
    """Progress per annotator, per model and per leaf, and agreement so far."""
    people = []
    for person in session.scalars(
        select(schema.Annotator)
        .where(schema.Annotator.admin.is_(False))
        .order_by(schema.Annotator.name)
    ):
        done, total = _progress(session, person.id)
        people.append({"name": person.name, "done": done, "total": total})
    rows = session.execute(
        select(
            schema.Vote.score,
            schema.Vote.annotator_id,
            schema.Vote.video_id,
            schema.Vote.question_id,
            schema.Video.model,
            schema.Question.node,
        )
        .join(schema.Video, schema.Video.id == schema.Vote.video_id)
        .join(schema.Question, schema.Question.id == schema.Vote.question_id)
    ).all()
    study = session.scalar(select(schema.Study))
    per_model = Counter(row.model for row in rows)
    per_node = Counter(row.node for row in rows)
    unjudged = sum(row.score is None for row in rows)
    return {
        "study": study,
        "people": people,
        "votes": len(rows),
        "unjudged": unjudged,
        "per_model": sorted(per_model.items()),
        "per_node": sorted(per_node.items()),
        "alpha": _alpha([r for r in rows if r.score is not None]),
        "gold": gold_checks(session),
    }


def _alpha(rows: list[Any]) -> float | None:
    """Krippendorff's alpha (interval) of the votes so far; None until some item has two
    votes with different values somewhere (before that it is not defined). The one
    implementation of alpha is analysis's: the study borrows it here, for its admin page
    only, rather than keep a second one (the one place the study reads from analysis)."""
    import pandas as pd

    from scine.analysis.reliability import krippendorff_alpha

    units = Counter(f"{r.video_id}|{r.question_id}" for r in rows)
    if not rows or max(units.values()) < 2:
        return None
    table = pd.DataFrame(
        {
            "unit": [f"{r.video_id}|{r.question_id}" for r in rows],
            "rater": [r.annotator_id for r in rows],
            "score": [r.score for r in rows],
        }
    )
    value = krippendorff_alpha(table, "unit", "rater", "score")
    return None if value != value else round(float(value), 3)  # NaN: undefined

"""Load and fault test of the annotation app: many annotators submitting at once.

Creates a study (``--annotators`` annotators, 3 votes per item, 6 questions per prompt)
in SQLite and in PostgreSQL (started here on 127.0.0.1, fsync on), serves it with
``scine study serve`` in its own process, and has every annotator submit task after task
(one request in flight each) for ``--seconds``: submissions/s and p50/p99 latency. Then it
starts the load again, kills the server with SIGKILL half-way, restarts it and reconciles:
every acknowledged submission must be in the database (its marker on every one of the
task's votes, unless a later submission of the same task replaced it) and no vote
doubled.

    .venv/bin/python benchmarks/study_load.py --seconds 60 --out benchmarks/results/study_load.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ports import free_port  # noqa: E402
from tests.study.postgres import running_postgres  # noqa: E402
from tests.study.test_create import records  # noqa: E402

from scine.study import schema  # noqa: E402
from scine.study.create import create_study  # noqa: E402
from scine.study.database import open_database  # noqa: E402

VALUES = ("static", "pan_left", "pan_right", "tilt_up", "tilt_down", "dolly_in")


def make_study(url: str, media: Path, annotators: int, prompts: int) -> dict[str, str]:
    """A study with ``prompts`` prompts of two models, a placeholder file under ``media`` for
    each video (``study serve`` serves only files that are there; their bytes are not read
    here); returns the annotators' tokens."""
    ps, qs, vs = records(prompts, ("m1", "m2"), VALUES)
    for video in vs:
        (media / video.path).parent.mkdir(parents=True, exist_ok=True)
        (media / video.path).write_bytes(b"\x00" * 1024)
    names = [f"a{n:02d}" for n in range(annotators)]
    tokens = create_study(url, ps, qs, vs, names).tokens
    return {name: tokens[name] for name in names}


def serve(url: str, media: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``scine study serve`` in a process of its own, once it answers."""
    env = {**os.environ, "SCINE_STUDY_SECRET": "ab" * 32}
    command = [
        sys.executable,
        "-m",
        "scine.cli",
        "study",
        "serve",
        "--db",
        url,
        "--media",
        str(media),
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/signed-out", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"the server did not start; see {log}")


async def annotate(
    base: str,
    token: str,
    until: float,
    log: list[dict[str, Any]],
    known: list[tuple[int, list[str]]],
) -> None:
    """One annotator: sign in, open their first task, submit it and open the page the app
    sends them to next, until all are done; then submit them again in turn (a
    resubmission replaces). Every submission carries a marker in its comments, recorded
    with the answer it got."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        count = 0
        try:
            await client.get("/login", params={"token": token})
            csrf = _csrf((await client.get(f"/task/{known[0][0]}")).text) if known else ""
            step = await client.get("/", follow_redirects=False)
            page = step.headers["location"] if step.status_code == 303 else None
            while page is not None and time.perf_counter() < until:
                task_id = int(page.rsplit("/", 1)[1])
                text = (await client.get(page)).text
                csrf = _csrf(text)
                known.append(
                    (task_id, [c.split('"', 1)[0] for c in text.split('data-question="')[1:]])
                )
                after = await _submit(client, csrf, *known[-1], f"{token[:8]}-{count}", log)
                page = after if after and after.startswith("/task/") else None
                count += 1
            while time.perf_counter() < until:
                await _submit(client, csrf, *known[count % len(known)], f"{token[:8]}-{count}", log)
                count += 1
        except httpx.HTTPError:
            return  # the server went away


def _csrf(page: str) -> str:
    return page.split('data-csrf="', 1)[1].split('"', 1)[0]


async def _submit(
    client: httpx.AsyncClient,
    csrf: str,
    task_id: int,
    questions: list[str],
    marker: str,
    log: list[dict[str, Any]],
) -> None:
    """One submission of a whole task, timed; a lost connection propagates."""
    ballots = [
        {"side": s, "question": q, "score": 4, "comment": marker}
        for s in ("left", "right")
        for q in questions
    ]
    started = time.perf_counter()
    entry = {"task": task_id, "marker": marker, "status": None, "at": started}
    log.append(entry)  # sent: reconciled whatever the answer
    response = await client.post(
        f"/api/task/{task_id}", json={"ballots": ballots}, headers={"X-CSRF-Token": csrf}
    )
    entry.update(status=response.status_code, seconds=time.perf_counter() - started)
    return str(response.json().get("next")) if response.status_code == 200 else None


def run_load(
    base: str, tokens: dict[str, str], seconds: float, known: dict[str, list[tuple[int, list[str]]]]
) -> list[dict[str, Any]]:
    """Every annotator at once for ``seconds``; ``known`` keeps each one's tasks between runs."""
    log: list[dict[str, Any]] = []
    until = time.perf_counter() + seconds

    async def everyone() -> None:
        await asyncio.gather(
            *(
                annotate(base, token, until, log, known.setdefault(token, []))
                for token in tokens.values()
            )
        )

    asyncio.run(everyone())
    return log


def summary(log: list[dict[str, Any]], seconds: float, opening: float = 10.0) -> dict[str, Any]:
    """Throughput and latency overall, and apart for the opening seconds (when every
    annotator also opens each of their task pages for the first time) and the rest."""
    found = _latency(log, seconds)
    if log and seconds > 2 * opening:
        start = min(entry["at"] for entry in log)
        first = [e for e in log if e["at"] - start < opening]
        found["first_seconds"] = {"seconds": opening, **_latency(first, opening)}
        rest = [e for e in log if e["at"] - start >= opening]
        found["after"] = {"seconds": seconds - opening, **_latency(rest, seconds - opening)}
    return found


def _latency(log: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    ok = [entry["seconds"] for entry in log if entry["status"] == 200]
    failed = Counter(str(entry["status"]) for entry in log if entry["status"] != 200)
    ordered = sorted(ok)
    return {
        "submissions": len(ok),
        "not_acknowledged": dict(failed),
        "submissions_per_second": round(len(ok) / seconds, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
        "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))] * 1000, 1) if ordered else None,
    }


def reconcile(url: str, log: list[dict[str, Any]]) -> dict[str, Any]:
    """Acknowledged submissions missing from the database, and doubled votes."""
    last: dict[int, str] = {}
    sent: dict[int, list[str]] = {}
    for entry in sorted(log, key=lambda e: e["at"]):
        sent.setdefault(entry["task"], []).append(entry["marker"])
        if entry["status"] == 200:
            last[entry["task"]] = entry["marker"]
    engine = open_database(url)
    lost = 0
    with Session(engine) as session:
        for task_id, marker in last.items():
            comments = set(
                session.scalars(select(schema.Vote.comment).where(schema.Vote.task_id == task_id))
            )
            later = sent[task_id][sent[task_id].index(marker) :]
            if len(comments) != 1 or comments.pop() not in later:
                lost += 1
        doubled = session.execute(
            select(schema.Vote.task_id, schema.Vote.video_id, schema.Vote.question_id, func.count())
            .group_by(schema.Vote.task_id, schema.Vote.video_id, schema.Vote.question_id)
            .having(func.count() > 1)
        ).all()
    engine.dispose()
    return {"acknowledged_tasks_checked": len(last), "lost": lost, "doubled": len(doubled)}


def measure(
    url: str, media: Path, tokens: dict[str, str], seconds: float, folder: Path
) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    known: dict[str, list[tuple[int, list[str]]]] = {}
    server = serve(url, media, port, folder / "server.log")
    try:
        load = summary(run_load(base, tokens, seconds, known), seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    server = serve(url, media, port, folder / "server.log")

    def kill_later() -> None:
        time.sleep(seconds / 4)
        os.kill(server.pid, signal.SIGKILL)

    import threading

    threading.Thread(target=kill_later, daemon=True).start()
    killer_log = run_load(base, tokens, seconds / 2, known)
    server.wait(timeout=30)
    restarted = serve(url, media, port, folder / "server.log")
    try:
        check = reconcile(url, killer_log)
        after = summary(run_load(base, tokens, 3, known), 3)
    finally:
        restarted.terminate()
        restarted.wait(timeout=30)
    return {
        "load": load,
        "kill_9": {
            "acknowledged_before_kill": sum(e["status"] == 200 for e in killer_log),
            **check,
            "after_restart": after,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--annotators", type=int, default=50)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result: dict[str, Any] = {
        "annotators": args.annotators,
        "seconds": args.seconds,
        "cpus": len(os.sched_getaffinity(0)),
    }
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        media = folder / "media"
        media.mkdir()
        backends = {
            "sqlite": str(folder / "study.db"),
            "postgresql": stack.enter_context(running_postgres(fsync=True)),
        }
        for name, url in backends.items():
            tokens = make_study(url, media, args.annotators, prompts=args.annotators * 4)
            result[name] = measure(url, media, tokens, args.seconds, folder)
            print(name, json.dumps(result[name]), file=sys.stderr, flush=True)
    text = json.dumps(result, indent=2, default=dict)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

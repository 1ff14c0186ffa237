"""Signing in from another site, in a real browser: an invitation link clicked in a web mail
(a page of another host name, served on 127.0.0.1 by a second server) opens the first task."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

from scine.study.app import make_app  # noqa: E402
from scine.study.create import create_study  # noqa: E402
from scine.study.database import open_database  # noqa: E402
from tests.browser import chromium, serving  # noqa: E402
from tests.ports import free_port  # noqa: E402
from tests.study.test_create import records  # noqa: E402

MAIL_HOST = "mail.test"
"""The web mail's host name: Chromium resolves it to 127.0.0.1, a site other than the app's."""


@pytest.fixture
def invitation(tmp_path: Path) -> Iterator[str]:
    """The app served on 127.0.0.1; yields an annotator's invitation link."""
    prompts, questions, videos = records(1, ("m1", "m2"))
    database = str(tmp_path / "study.db")
    token = create_study(database, prompts, questions, videos, ["ann"], votes=1).tokens["ann"]
    engine = open_database(database)
    with serving(make_app(engine, tmp_path)) as base:
        yield f"{base}/login?token={token}"


@pytest.fixture
def web_mail(invitation: str) -> Iterator[str]:
    """A second server: a mail holding the invitation link; yields the mail's address."""
    body = f'<p>You are invited: <a id="invitation" href="{invitation}">join</a></p>'.encode()

    class Mail(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Mail)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{MAIL_HOST}:{server.server_address[1]}/inbox"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_an_invitation_clicked_in_a_web_mail_opens_the_first_task(web_mail: str) -> None:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium(),
            args=["--no-sandbox", f"--host-resolver-rules=MAP {MAIL_HOST} 127.0.0.1"],
        )
        page = browser.new_page()
        page.goto(web_mail)
        with page.expect_navigation():
            page.click("#invitation")
        assert "/task/" in page.url, page.content()
        assert "Shot 0." in page.inner_text("body")
        page.reload()  # the cookie holds for the app's own navigations too
        assert "/task/" in page.url
        assert "Shot 0." in page.inner_text("body")
        browser.close()

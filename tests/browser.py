"""Debian's Chromium for the tests that drive a real browser with Playwright, and an app
served for it on 127.0.0.1."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.ports import free_port


def chromium() -> str:
    """Debian's Chromium, installed with apt when it is not there yet."""
    found = shutil.which("chromium")
    if found is None:
        subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
            check=True,
            capture_output=True,
            timeout=900,
        )
        found = shutil.which("chromium")
    assert found is not None, "Chromium could not be installed"
    return found


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The ASGI ``app`` served by uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)

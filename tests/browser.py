"""Debian's Chromium for the tests that drive a real browser with Playwright."""

from __future__ import annotations

import shutil
import subprocess


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

"""Real headless Chromium for the tests that review pages prodready writes or serves (load and
verify reports, the monitor's status page): where it is, and how it is launched."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium() -> str:
    """The chromium executable; skips without it, fails under CI=true."""
    path = shutil.which("chromium")
    if path is None:
        message = "chromium is not installed (scripts/ensure-system-deps.sh installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path

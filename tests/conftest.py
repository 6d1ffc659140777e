"""Shared test helpers: running the real `prodready` console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PRODREADY = Path(sys.executable).parent / "prodready"


def run_prodready(
    *args: str | os.PathLike[str],
    cwd: Path | None = None,
    timeout: float = 120,
    env: dict[str, str] | None = None,
    honour_permissions: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Runs the installed console script as a real process (exit codes and streams as users see
    them). `honour_permissions`: when running as root, drop the capabilities that let root read
    any file, so a mode-000 file is unreadable as it would be for a normal user."""
    prefix: list[str] = []
    if honour_permissions and os.geteuid() == 0:
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    return subprocess.run(
        [*prefix, str(PRODREADY), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})},
    )


@pytest.fixture
def prodready():
    return run_prodready

"""The app's release step (its migrations), run once on the scratch database before the boot.

A deploy runs it before the new code serves; without it the app would serve on empty tables and
every item touching the database would measure errors that production never has. It runs only
on a scratch database verify made: never on the app's own data (an SQLite file beside it, or a
database from its settings).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from prodready.project.migrations import detect_migrations
from prodready.project.model import Project
from prodready.verify.backing import Backing
from prodready.verify.server import BootError

RELEASE_TIMEOUT_S = 300.0
TAIL_LINES = 20


@dataclass(frozen=True)
class ReleaseStep:
    command: str
    """As a shell runs it: a Procfile line, or the detected migration command."""
    source: str


def release_step(project: Project) -> ReleaseStep | None:
    """The Procfile's `release:` line, else the detected migrations (Django, alembic...)."""
    procfile = project.root / "Procfile"
    if procfile.is_file():
        for line in procfile.read_text(errors="replace").splitlines():
            name, colon, command = line.partition(":")
            if colon and name.strip() == "release" and command.strip():
                return ReleaseStep(command.strip(), "Procfile release")
    migrations = detect_migrations(project, project.app) if project.app else None
    if migrations is None:
        return None
    return ReleaseStep(shlex.join(migrations.command), f"{migrations.tool} migrations")


def run_release(project: Project, backing: Backing, env: dict[str, str], work: Path) -> str | None:
    """Runs the release step with the app's environment; returns the boot note, or None when
    the app has none. Raises BootError with the log tail when it fails."""
    step = release_step(project)
    if step is None:
        return None
    if backing.scratch_url is None:
        return f"release step `{step.command}` ({step.source}) not run: no scratch database"
    log_path = work / "release.log"
    # The app's interpreter (the one that serves it) comes first for `python`, `alembic`...
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    started = time.monotonic()
    with log_path.open("wb") as log:
        try:
            done = subprocess.run(
                ["sh", "-c", step.command],
                cwd=project.root,
                env={**os.environ, "PATH": path, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=RELEASE_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise BootError(
                f"the release step `{step.command}` did not finish in {RELEASE_TIMEOUT_S:.0f} s",
                _tail(log_path),
            ) from error
    if done.returncode != 0:
        raise BootError(
            f"the release step `{step.command}` ({step.source}) failed with exit {done.returncode}",
            _tail(log_path),
        )
    seconds = time.monotonic() - started
    return (
        f"release step `{step.command}` ({step.source}) ran on the scratch database "
        f"in {seconds:.1f} s"
    )


def _tail(log_path: Path) -> str:
    lines = log_path.read_text(errors="replace").splitlines()[-TAIL_LINES:]
    return "its log ends with:\n" + "\n".join(lines)

"""What a release needs that is read from its code: the app, its release command (migrations)
and the route the health gate polls."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from prodready.project import detect
from prodready.project.migrations import Migrations, detect_migrations
from prodready.project.probes import choose_probes


@dataclass(frozen=True)
class ReleasePlan:
    health_path: str
    health_source: str
    release_command: tuple[str, ...] | None
    migrations: Migrations | None
    """The detected migration tool: its new files are scanned even when --release-command
    runs them some other way."""


def plan_release(
    release: Path, app: str | None, health_path: str | None, release_command: str | None
) -> ReleasePlan:
    project = detect(release)
    candidate = next((c for c in project.apps if c.target == app), None) or project.app
    migrations = detect_migrations(project, candidate) if candidate else None
    if health_path:
        path, source = health_path, "--health-path"
    else:
        probes = choose_probes(project)
        path = probes.ready
        source = "prodready.runtime readiness" if probes.uses_kit else "detected route"
    if release_command:
        return ReleasePlan(path, source, tuple(shlex.split(release_command)), migrations)
    return ReleasePlan(path, source, migrations.command if migrations else None, migrations)

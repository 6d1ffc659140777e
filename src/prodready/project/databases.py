"""The databases an app's production settings point at: URL-valued variables of the env files
that reach production (`.env.production`, not `.env.example`), found once from the Project."""

from __future__ import annotations

import re
from dataclasses import dataclass

from prodready.project.model import Project
from prodready.project.services import service_of_url

SQLITE_URL = re.compile(r"^sqlite(\+\w+)?:///", re.IGNORECASE)


@dataclass(frozen=True)
class DatabaseUrl:
    kind: str  # postgresql | mysql | sqlite
    url: str
    where: str  # "DATABASE_URL in .env.production:3"


def kind_of_url(url: str) -> str | None:
    """postgresql, mysql or sqlite for a database URL; None for anything else."""
    if SQLITE_URL.match(url.strip()):
        return "sqlite"
    kind = service_of_url(url)
    return kind if kind in ("postgresql", "mysql") else None


def database_urls(project: Project) -> list[DatabaseUrl]:
    """Database URLs in the env files that reach production, in file order."""
    found: list[DatabaseUrl] = []
    for env in project.env_files:
        if not project.env_of(env.rel).deployed:
            continue
        for var in env.variables:
            kind = kind_of_url(var.value)
            if kind:
                found.append(DatabaseUrl(kind, var.value, f"{var.name} in {env.rel}:{var.line}"))
    return found

"""The one-shot command that migrates an app's database: what `prodready init` writes into its
migrate service and `prodready deploy` runs as its release step. One detection for both."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prodready.project.model import AppCandidate, Project

FLASK_MIGRATE_INI = "migrations/alembic.ini"


@dataclass(frozen=True)
class Migrations:
    """The one-shot command that migrates the database before the app starts."""

    command: tuple[str, ...]
    tool: str
    """alembic, django or flask-migrate: which migration files `versions` finds."""

    def versions(self, root: Path) -> list[Path]:
        """The migration files of the project at `root`, by the tool's layout."""
        if self.tool == "django":
            found = root.glob("**/migrations/[0-9]*.py")
        elif self.tool == "flask-migrate":
            found = (root / "migrations" / "versions").glob("*.py")
        else:
            found = (root / "alembic" / "versions").glob("*.py")
            found = [*found, *(root / "migrations" / "versions").glob("*.py")]
        return sorted(p for p in found if ".venv" not in p.parts)


def detect_migrations(project: Project, app: AppCandidate) -> Migrations | None:
    if app.framework == "django" and (project.root / "manage.py").is_file():
        return Migrations(("python", "manage.py", "migrate", "--noinput"), "django")
    if (project.root / "alembic.ini").is_file():
        return Migrations(("alembic", "upgrade", "head"), "alembic")
    if (project.root / FLASK_MIGRATE_INI).is_file() and app.framework == "flask":
        # Flask-Migrate's layout: its env.py takes the database from the app, so Flask's CLI
        # runs it (`flask db upgrade`), with the app named as the server imports it.
        return Migrations(("flask", "--app", app.target, "db", "upgrade"), "flask-migrate")
    return None

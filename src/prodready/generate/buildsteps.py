"""Build steps the app needs at run time and that its repository does not hold: compiled
translations (.mo files are usually git-ignored) and Django's collected static files. They run
in the image build, after the code is copied, so every container starts with them."""

from __future__ import annotations

from dataclasses import dataclass

from prodready.project.model import AppCandidate, Project

CATALOGS = ("translations", "*/translations", "locale", "*/locale")
"""Where Flask-Babel (translations/) and Django (locale/) keep their message catalogs."""


@dataclass(frozen=True)
class BuildStep:
    command: tuple[str, ...]
    why: str


def build_steps(project: Project, app: AppCandidate) -> list[BuildStep]:
    production = {d.name for d in project.dependencies if not d.dev}
    steps = []
    if production & {"babel", "flask-babel"}:
        for directory in _catalog_dirs(project):
            steps.append(
                BuildStep(
                    ("pybabel", "compile", "-d", directory),
                    f"compiled translations ({directory}/*/LC_MESSAGES/*.mo) are not in git",
                )
            )
    if app.framework == "django" and _django_setting(project, "STATIC_ROOT"):
        steps.append(
            BuildStep(
                ("python", "manage.py", "collectstatic", "--noinput"),
                "static files gathered into STATIC_ROOT, served without the source tree",
            )
        )
    return steps


def _catalog_dirs(project: Project) -> list[str]:
    found = set()
    for pattern in CATALOGS:
        for catalog in project.root.glob(f"{pattern}/*/LC_MESSAGES/*.po"):
            found.add(catalog.parent.parent.parent.relative_to(project.root).as_posix())
    return sorted(found)


def _django_setting(project: Project, name: str) -> bool:
    return any(name in summary.django_settings for summary in project.modules.values())

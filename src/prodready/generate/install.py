"""How the Dockerfile installs the app's dependencies: with the project's own manager.

A lock file wins over the file it locks; a manager we cannot drive faithfully is refused with a
hint rather than approximated (installing from pyproject.toml would ignore a pdm.lock's pins)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from prodready.errors import InputError
from prodready.generate.serverdeps import SERVER_REQUIREMENTS
from prodready.project.model import FileKind, Project

UV_VERSION = "0.13.8"
POETRY_VERSION = "2.5.1"
POETRY_EXPORT_VERSION = "1.10.1"
PIPENV_VERSION = "2026.10.3"

UNSUPPORTED_LOCKS = {
    "pdm.lock": "pdm export --prod -o requirements.txt",
    "conda-lock.yml": "export the pip dependencies to requirements.txt",
    "pixi.lock": "export the PyPI dependencies to requirements.txt",
}


@dataclass(frozen=True)
class InstallPlan:
    """`manager` installs the files `copy` (relative to the project root) with `commands`, run in
    the builder stage with /opt/venv active and a cache mount on `cache`."""

    manager: str
    copy: tuple[str, ...]
    commands: tuple[str, ...]
    cache: str


def install_plan(project: Project) -> InstallPlan:
    top_level = {f.rel for f in project.files if "/" not in f.rel}
    top_level |= {p.name for p in project.root.iterdir() if p.is_file()}
    if "uv.lock" in top_level and "pyproject.toml" in top_level:
        return InstallPlan(
            "uv",
            ("pyproject.toml", "uv.lock"),
            (
                f"pip install --no-cache-dir uv=={UV_VERSION}",
                "UV_PROJECT_ENVIRONMENT=/opt/venv uv sync --frozen --no-dev --no-install-project",
            ),
            "/root/.cache/uv",
        )
    if "poetry.lock" in top_level and "pyproject.toml" in top_level:
        return InstallPlan(
            "poetry",
            ("pyproject.toml", "poetry.lock"),
            (
                f"pip install --no-cache-dir poetry=={POETRY_VERSION} "
                f"poetry-plugin-export=={POETRY_EXPORT_VERSION}",
                "poetry export --only main --without-hashes -o /tmp/requirements.txt",
                "pip install -r /tmp/requirements.txt",
            ),
            "/root/.cache/pip",
        )
    if "Pipfile.lock" in top_level:
        return InstallPlan(
            "pipenv",
            ("Pipfile", "Pipfile.lock"),
            (
                f"pip install --no-cache-dir pipenv=={PIPENV_VERSION}",
                "pipenv requirements > /tmp/requirements.txt",
                "pip install -r /tmp/requirements.txt",
            ),
            "/root/.cache/pip",
        )
    for lock, hint in UNSUPPORTED_LOCKS.items():
        if lock in top_level:
            raise InputError(
                f"{lock} found: prodready init cannot install with this dependency manager",
                f"{hint}, then run prodready init again",
            )
    requirements = _production_requirements(project)
    if requirements:
        return InstallPlan(
            "pip",
            (requirements,),
            (f"pip install -r {requirements}",),
            "/root/.cache/pip",
        )
    if "pyproject.toml" in top_level and project.files_of(FileKind.PYPROJECT):
        return InstallPlan(
            "uv",
            ("pyproject.toml",),
            (
                f"pip install --no-cache-dir uv=={UV_VERSION}",
                "uv pip install --python /opt/venv/bin/python -r pyproject.toml",
            ),
            "/root/.cache/uv",
        )
    searched = "requirements*.txt, pyproject.toml, uv.lock, poetry.lock, Pipfile.lock"
    if "setup.py" in top_level or "environment.yml" in top_level:
        found = "setup.py" if "setup.py" in top_level else "environment.yml"
        raise InputError(
            f"only {found} describes the dependencies in {project.root}: unsupported",
            f"list them in requirements.txt or pyproject.toml (looked for {searched})",
        )
    raise InputError(
        f"no dependency file in {project.root} (looked for {searched})",
        "write the app's dependencies to requirements.txt (pip freeze > requirements.txt)",
    )


def _production_requirements(project: Project) -> str | None:
    """The requirements file production installs: requirements.txt at the top, else the one
    file under requirements/ named for production."""
    names = [
        f.rel
        for f in project.files_of(FileKind.REQUIREMENTS)
        if not f.dev_only and f.rel != SERVER_REQUIREMENTS
    ]
    names = [n for n in names if n.endswith(".txt")]
    if "requirements.txt" in names:
        return "requirements.txt"
    for name in sorted(names):
        stem = PurePosixPath(name).stem.lower()
        if any(word in stem for word in ("prod", "base", "main")):
            return name
    return names[0] if len(names) == 1 else None

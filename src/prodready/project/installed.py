"""Which of the project's requirements files its images install: the ones a Dockerfile's RUN
names with `-r` (pip, uv pip), and the ones those include with `-r` in turn.

A requirements file no image installs, in a project whose images install others from
requirements files, belongs to another program of the repository (mediacms' cli-tool/, an
upload client with its own requirements.txt): its pins do not decide what production runs."""

from __future__ import annotations

import posixpath
import re

from prodready.project.files import project_text
from prodready.project.model import FileKind, Project
from prodready.project.parsers.dockerfile import instructions

REQUIREMENT_FILE = re.compile(r"(?:^|\s)(?:-r|--requirements?)(?:\s+|=)(\S+)")
"""`-r requirements.txt`, `--requirement=x.txt`, uv's `--requirements x.txt`."""


def installed_requirement_files(project: Project) -> frozenset[str] | None:
    """The requirements files (rel) some Dockerfile of the project installs, includes
    followed; None when no Dockerfile installs one, or one it names cannot be told apart
    (a variable, a file renamed by COPY): then nothing is known."""
    files = [source.rel for source in project.files_of(FileKind.REQUIREMENTS)]
    pending: list[str] = []
    for dockerfile in project.dockerfiles:
        folder = posixpath.dirname(dockerfile.rel)
        for run in instructions(dockerfile.stages, "RUN"):
            for named in REQUIREMENT_FILE.findall(run.value):
                found = _project_file(named.rstrip(";&|)").strip("'\""), folder, files)
                if found is None:
                    return None
                pending.append(found)
    if not pending:
        return None
    installed: set[str] = set()
    while pending:
        rel = pending.pop()
        if rel in installed:
            continue
        installed.add(rel)
        for named in REQUIREMENT_FILE.findall(project_text(project, rel) or ""):
            included = posixpath.normpath(posixpath.join(posixpath.dirname(rel), named))
            if included in files:
                pending.append(included)
    return frozenset(installed)


def _project_file(named: str, folder: str, files: list[str]) -> str | None:
    """The project file a path in an image means: the one whose path ends with it (paths in
    the image mirror the build context), the nearest to the Dockerfile when several do."""
    if "$" in named:
        return None
    tail = posixpath.normpath(named).lstrip("/").removeprefix("./")
    parts = tail.split("/")
    for keep in range(len(parts), 0, -1):
        suffix = "/".join(parts[-keep:])
        matches = [rel for rel in files if rel == suffix or rel.endswith("/" + suffix)]
        if matches:
            return min(matches, key=lambda rel: _distance(rel, folder))
    return None


def _distance(rel: str, folder: str) -> int:
    """Folders between the file and the Dockerfile's folder (the build context, usually)."""
    here = posixpath.dirname(rel)
    if folder in ("", "."):
        return here.count("/") + (1 if here else 0)
    relative = posixpath.relpath(here or ".", folder)
    return relative.count("/") + (0 if relative == "." else 1)

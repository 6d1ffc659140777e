"""Finds the project's files and says what kind each is, by name and, where names are not
enough (`*.conf`, extension-less scripts), by a look at the content. Never follows a symlink
out of the tree or around a loop; unreadable, binary and huge files become FileProblems."""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from prodready.project.model import FileKind, FileProblem, Project, SourceFile

MAX_BYTES = 2_000_000
"""Files above this are not read: deployment files and hand-written modules are far smaller."""

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "env",
        ".env.d",
        "node_modules",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "site-packages",
        "dist",
        "build",
        ".eggs",
        ".idea",
        ".vscode",
        "htmlcov",
        ".terraform",
    }
)

COMPOSE_NAME = re.compile(r"^(docker-)?compose([.\-_][\w.\-]+)?\.ya?ml$", re.IGNORECASE)
ENV_EXAMPLE = re.compile(r"[.\-_](example|sample|template|dist|defaults?|tpl)$", re.IGNORECASE)
NGINX_HINT = re.compile(r"^\s*(server|upstream|location|http|events)\b[^;{]*\{", re.MULTILINE)
REQUIREMENTS_NAME = re.compile(r"^requirements([.\-_][\w.\-]+)?\.(txt|in)$", re.IGNORECASE)
SCRIPT_NAMES = frozenset({"start", "run", "entrypoint", "docker-entrypoint", "boot", "serve"})


def walk(root: Path, exclude: Iterable[str] = ()) -> tuple[list[SourceFile], list[FileProblem]]:
    """Every file of a kind prodready reads, below `root`, with the problems met on the way."""
    patterns = list(exclude)
    files: list[SourceFile] = []
    problems: list[FileProblem] = []
    for path in _iter_files(root, problems):
        rel = path.relative_to(root).as_posix()
        if _excluded(rel, patterns):
            continue
        kind = classify(path, rel)
        if kind is None:
            continue
        files.append(SourceFile(path=path, rel=rel, kind=kind))
    files.sort(key=lambda f: f.rel)
    return files, problems


def _excluded(rel: str, patterns: list[str]) -> bool:
    return any(
        fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(rel, p.rstrip("/") + "/*") for p in patterns
    )


def _iter_files(root: Path, problems: list[FileProblem]) -> Iterator[Path]:
    """Walks without following directory symlinks (so no loop can trap us); a file symlink is
    kept only when it resolves to a regular file inside the tree."""
    root_real = root.resolve()

    def on_error(error: OSError) -> None:
        rel = _rel_or_name(root, error.filename)
        problems.append(FileProblem(rel, 1, f"cannot read directory: {error.strerror}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=False):
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info")
        )
        for name in sorted(filenames):
            path = Path(dirpath, name)
            try:
                st = path.lstat()
                if stat.S_ISLNK(st.st_mode):
                    target = path.resolve(strict=True)
                    outside = not target.is_relative_to(root_real)
                    rel = _rel_or_name(root, path)
                    if outside and target.is_file() and classify(path, rel) is not None:
                        problems.append(
                            FileProblem(
                                rel, 1, f"symlink to {target}, outside the project: not followed"
                            )
                        )
                    if outside or not target.is_file():
                        continue
                elif not stat.S_ISREG(st.st_mode):
                    continue
            except (OSError, RuntimeError):  # broken link or a loop of links
                rel = _rel_or_name(root, path)
                if classify(path, rel) is not None:  # not a .prettierignore nor a template
                    problems.append(FileProblem(rel, 1, "broken or looping symlink, skipped"))
                continue
            yield path


def _rel_or_name(root: Path, filename: str | os.PathLike[str] | None) -> str:
    if filename is None:
        return "."
    try:
        return Path(filename).relative_to(root).as_posix()
    except ValueError:
        return str(filename)


def classify(path: Path, rel: str) -> FileKind | None:
    name = path.name
    lower = name.lower()
    parts = rel.lower().split("/")
    if lower.endswith(".py"):
        if re.search(r"gunicorn.*conf", lower):
            return FileKind.GUNICORN
        if lower.startswith("gunicorn") and not (path.parent / "__init__.py").exists():
            return FileKind.GUNICORN  # gunicorn.py beside the app; in a package it is a module
        return FileKind.PYTHON
    if lower in ("dockerfile", "containerfile") or lower.startswith(("dockerfile.", "dockerfile-")):
        return FileKind.DOCKERFILE
    if lower.endswith(".dockerfile"):
        return FileKind.DOCKERFILE
    if lower == ".dockerignore" or lower.endswith(".dockerignore"):
        return FileKind.DOCKERIGNORE
    if COMPOSE_NAME.match(name):
        return FileKind.COMPOSE
    if lower == ".env" or lower.startswith(".env.") or lower.endswith(".env"):
        return FileKind.ENV
    if lower.endswith((".service", ".socket")):
        return FileKind.SYSTEMD
    if REQUIREMENTS_NAME.match(name) or (
        len(parts) > 1 and parts[-2] == "requirements" and lower.endswith((".txt", ".in"))
    ):
        return FileKind.REQUIREMENTS
    if lower == "pyproject.toml":
        return FileKind.PYPROJECT
    if lower == "pipfile":
        return FileKind.PIPFILE
    if lower in ("poetry.lock", "uv.lock", "pipfile.lock", "pdm.lock"):
        return FileKind.LOCKFILE
    if lower == "procfile":
        return FileKind.PROCFILE
    if lower in (".python-version", "runtime.txt"):
        return FileKind.PYTHON_VERSION
    if lower.endswith(".conf") or "nginx" in parts[:-1] or "sites-available" in parts:
        return FileKind.NGINX if _looks_like_nginx(path) else None
    if lower.endswith(".sh") or lower.split(".")[0] in SCRIPT_NAMES:
        return FileKind.SCRIPT if _looks_like_script(path) else None
    return None


def _head(path: Path, size: int = 4096) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(size).decode("utf-8", errors="replace")
    except OSError:
        return ""


def _looks_like_nginx(path: Path) -> bool:
    return bool(NGINX_HINT.search(_head(path, 65536)))


def _looks_like_script(path: Path) -> bool:
    head = _head(path, 256)
    return path.name.endswith(".sh") or head.startswith("#!")


LINK_TEXT = re.compile(rb"^[\w.\-/]+$")
MAX_LINK_TEXT = 256


def _link_stored_as_text(path: Path, data: bytes) -> str | None:
    """The target path when the file's whole content is the relative path of another file
    beside it: what git writes in place of a symlink where it cannot make one. Parsing that
    as YAML or a Dockerfile would report nonsense."""
    if len(data) > MAX_LINK_TEXT or not LINK_TEXT.match(data) or b"." not in data:
        return None
    target = data.decode("ascii")
    if target.strip("./") in ("", path.name):
        return None
    try:
        return target if (path.parent / target).is_file() else None
    except OSError:
        return None


def read_text(path: Path, rel: str) -> tuple[str | None, FileProblem | None]:
    """The file's text, or the reason it cannot be had (too big, binary, not UTF-8, unreadable)."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, FileProblem(
                rel, 1, f"file is {size:,} bytes, above {MAX_BYTES:,}: skipped"
            )
        data = path.read_bytes()
    except OSError as error:
        return None, FileProblem(rel, 1, f"cannot read file: {error.strerror or error}")
    if b"\x00" in data[:8192]:
        return None, FileProblem(rel, 1, "binary file where text was expected: skipped")
    target = _link_stored_as_text(path, data)
    if target is not None:
        return None, FileProblem(
            rel,
            1,
            f"holds only the path {target}: a symlink checked out as a text file "
            "(git core.symlinks=false); skipped, not parsed",
        )
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        text = data.decode("utf-8", errors="replace")
        return text, FileProblem(rel, line, "file is not valid UTF-8; undecodable bytes replaced")


def project_text(project: Project, rel: str) -> str | None:
    """The text of a file below the project root, read at most once: detect() holds every
    non-Python file's; a Python module (read in the detection workers) or a file of no kind
    (an nginx snippet) is read on first use and kept in `project.texts`."""
    if rel not in project.texts:
        text, _ = read_text(project.root / rel, rel)
        if text is None:
            return None
        project.texts[rel] = text
    return project.texts[rel]

"""Declared dependencies and the Python version, from every dependency manager's files:
requirements*.txt, PEP 621 / PEP 735 pyproject.toml, Poetry, uv, Pipfile."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from prodready.project.limits import TOO_DEEP
from prodready.project.model import Dependency, FileProblem

DEV_GROUPS = re.compile(r"dev|test|lint|doc|type|check|ci|bench", re.IGNORECASE)
PINNED = re.compile(r"(===|==)\s*[\w.*+!-]+")


def from_requirements(rel: str, text: str, dev: bool) -> tuple[list[Dependency], list[FileProblem]]:
    deps: list[Dependency] = []
    problems: list[FileProblem] = []
    logical = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not logical:
            start = number
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        entry, logical = logical.strip(), ""
        if not entry or entry.startswith(("-", "git+", "http:", "https:", "file:", ".")):
            continue
        requirement = entry.split(" --hash", 1)[0].strip()
        try:
            parsed = Requirement(requirement)
        except InvalidRequirement as error:
            problems.append(FileProblem(rel, start, f"invalid requirement: {str(error)[:80]}"))
            continue
        pinned = bool(PINNED.search(str(parsed.specifier))) or "--hash" in entry
        deps.append(Dependency(canonicalize_name(parsed.name), entry, rel, start, pinned, dev))
    return deps, problems


def from_pyproject(
    rel: str, text: str, locked: bool
) -> tuple[list[Dependency], str | None, list[FileProblem]]:
    """PEP 621 project.dependencies, optional-dependencies, dependency-groups and Poetry's tables.
    `locked`: a lock file (uv.lock, poetry.lock, pdm.lock) pins everything."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = _toml_error_line(error)
        return [], None, [FileProblem(rel, line, f"malformed TOML: {error}")]
    except RecursionError:
        return [], None, [FileProblem(rel, 1, TOO_DEEP)]
    lines = text.splitlines()
    deps: list[Dependency] = []
    project = data.get("project", {}) if isinstance(data.get("project"), dict) else {}
    for spec in _strings(project.get("dependencies")):
        deps.extend(_pep508(rel, spec, lines, locked, dev=False))
    for group, specs in (project.get("optional-dependencies") or {}).items():
        for spec in _strings(specs):
            deps.extend(_pep508(rel, spec, lines, locked, dev=bool(DEV_GROUPS.search(group))))
    for group, specs in (data.get("dependency-groups") or {}).items():
        for spec in _strings(specs):
            deps.extend(_pep508(rel, spec, lines, locked, dev=True, group=group))
    poetry = data.get("tool", {}).get("poetry", {}) if isinstance(data.get("tool"), dict) else {}
    declared = project.get("requires-python")
    python = declared if isinstance(declared, str) else None
    if isinstance(poetry, dict):
        deps.extend(_poetry_table(rel, poetry.get("dependencies"), lines, locked, dev=False))
        for name, group in (poetry.get("group") or {}).items():
            if isinstance(group, dict):
                table = group.get("dependencies")
                deps.extend(_poetry_table(rel, table, lines, locked, dev=True, group=name))
        deps.extend(_poetry_table(rel, poetry.get("dev-dependencies"), lines, locked, dev=True))
        poetry_python = (poetry.get("dependencies") or {}).get("python")
        python = python or (poetry_python if isinstance(poetry_python, str) else None)
    return [d for d in deps if d.name != "python"], python, []


def from_pipfile(
    rel: str, text: str, locked: bool
) -> tuple[list[Dependency], str | None, list[FileProblem]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return [], None, [FileProblem(rel, _toml_error_line(error), f"malformed TOML: {error}")]
    except RecursionError:
        return [], None, [FileProblem(rel, 1, TOO_DEEP)]
    lines = text.splitlines()
    deps = _poetry_table(rel, data.get("packages"), lines, locked, dev=False)
    deps += _poetry_table(rel, data.get("dev-packages"), lines, locked, dev=True)
    python = (data.get("requires") or {}).get("python_version")
    return deps, python if isinstance(python, str) else None, []


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _pep508(
    rel: str, spec: str, lines: list[str], locked: bool, dev: bool, group: str | None = None
) -> list[Dependency]:
    try:
        parsed = Requirement(spec)
    except InvalidRequirement:
        return []
    pinned = locked or bool(PINNED.search(str(parsed.specifier)))
    name = canonicalize_name(parsed.name)
    return [Dependency(name, spec, rel, _line_of(lines, parsed.name), pinned, dev, group)]


def _poetry_table(
    rel: str, table: Any, lines: list[str], locked: bool, dev: bool, group: str | None = None
) -> list[Dependency]:
    if not isinstance(table, dict):
        return []
    result = []
    for name, spec in table.items():
        version = (
            spec
            if isinstance(spec, str)
            else (spec.get("version", "") if isinstance(spec, dict) else "")
        )
        pinned = locked or bool(re.fullmatch(r"=*\s*\d[\w.]*", str(version).strip()))
        result.append(
            Dependency(
                canonicalize_name(name),
                f"{name} {version}".strip(),
                rel,
                _line_of(lines, name),
                pinned,
                dev,
                group,
            )
        )
    return result


def _line_of(lines: list[str], name: str) -> int:
    # (?![\w.-]): `flask` must not match the project's own `name = "flask-api"` line
    pattern = re.compile(rf"""(^|["'\s]){re.escape(name)}(?![\w.-])""", re.IGNORECASE)
    return next((n for n, line in enumerate(lines, start=1) if pattern.search(line)), 1)


def _toml_error_line(error: tomllib.TOMLDecodeError) -> int:
    match = re.search(r"line (\d+)", str(error))
    return int(match.group(1)) if match else 1


PYTHON_FROM_IMAGE = re.compile(r"^(?:[\w.\-/]*/)?python:(?P<version>3\.\d+)")
PYTHON_FROM_TEXT = re.compile(r"(?P<version>3\.\d+)")


def python_version_from_spec(spec: str) -> str | None:
    """`>=3.11` -> `3.11`, `python-3.12.4` -> `3.12`, `^3.10` -> `3.10`."""
    match = PYTHON_FROM_TEXT.search(spec)
    return match["version"] if match else None


GROUP_OPTION = re.compile(r"--(?:group|with|only|only-group)[ =]([\w.,-]+)")
"""`pip install --group docker .`, `uv sync --group prod`, `poetry install --with web`."""


def installed_groups(run_commands: list[str]) -> set[str]:
    """The dependency groups these RUN commands install into an image."""
    return {
        name
        for command in run_commands
        for match in GROUP_OPTION.finditer(command)
        for name in match[1].split(",")
    }


# --- development tools ---------------------------------------------------------------------

DEV_TOOLS = frozenset(
    {
        "django-debug-toolbar",
        "flask-debugtoolbar",
        "pytest",
        "ipdb",
        "ipython",  # an interactive shell, not imported by the service
        "httpie",  # a command-line HTTP client for trying the API by hand
        "pdbpp",
        "pudb",
        "debugpy",
        "coverage",
        "mypy",
        "ruff",
        "black",
        "flake8",
        "pylint",
        "isort",
        "pre-commit",
        "tox",
        "nox",
        "factory-boy",
        "model-bakery",
        "freezegun",
        "hypothesis",
        "django-browser-reload",
    }
)
DEV_TOOL_PREFIXES = ("pytest-",)


def is_dev_tool(name: str) -> bool:
    """A distribution (PEP 503 name) that only a developer or a test run uses: pytest, mypy,
    the debug toolbar. Read by the dependency rules and by the Dockerfile rule that asks what a
    requirements file installed into an image holds."""
    return name in DEV_TOOLS or name.startswith(DEV_TOOL_PREFIXES)

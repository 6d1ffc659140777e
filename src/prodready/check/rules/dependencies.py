"""Rules for dependency files (PR801-PR849): requirements*.txt, pyproject.toml, Pipfile,
.python-version and runtime.txt. They read the dependencies the detection pass collected
(`project.dependencies`, each with its file and line); rules that span several files
(a server among all runtime dependencies, the Python version from wherever it is declared)
are project rules that report on the file that says it."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from prodready.check.context import FileContext
from prodready.check.memo import once_per_project
from prodready.check.model import Hit, Severity
from prodready.check.registry import rule
from prodready.project.deps import is_dev_tool
from prodready.project.installed import installed_requirement_files
from prodready.project.model import Dependency, FileKind, Project, SourceFile

DEPENDENCY_KINDS = (FileKind.REQUIREMENTS, FileKind.PYPROJECT, FileKind.PIPFILE)
FAMILY = "dependencies"
"""The rules over the whole project (kind "project") are documented with the dependency rules."""


_installed_requirement_files = once_per_project(installed_requirement_files)


def runtime_dependencies(project: Project) -> list[Dependency]:
    """Dependencies production installs: not from a dev file or a dev group."""
    dev_files = {f.rel for f in project.files if f.dev_only}
    return [d for d in project.dependencies if not d.dev and d.rel not in dev_files]


# --- PR801 -------------------------------------------------------------------------------------

CONSTRAINT_OPTION = re.compile(r"^\s*(-c|--constraint)\b", re.MULTILINE)
PINNED_REFERENCE = re.compile(
    r"\s@\s*\S*?(?:\.git@(?:[0-9a-f]{40}|v?\d+(?:\.\d+)+)\b|@[0-9a-f]{40}\b"
    r"|/[^/\s]*\d[^/\s]*\.(?:whl|tar\.gz|zip)\b|#sha256=)",
    re.IGNORECASE,
)
"""A direct reference that fixes what is installed: a git commit or release tag, a versioned
archive or wheel, a hash (`mylib @ git+https://github.com/acme/mylib@3f2a9d1...`)."""


MAX_LISTED = 8
"""Dependencies named in a grouped PR801 message; the rest are counted."""


@rule(
    "PR801",
    "unpinned-dependency",
    title="Runtime dependency not pinned, and no lock file",
    severity=Severity.WARNING,
    kind=FileKind.REQUIREMENTS,
    why="""
Without `==` pins (or a lock file: uv.lock, poetry.lock, Pipfile.lock, a pip-compile output)
every image build installs whatever is newest that day. A release of any dependency, or of a
dependency's dependency, then breaks or changes production on the next deploy, even of an
unrelated fix, and the build from last week can no longer be reproduced to roll back.
A requirements file that none of the project's images installs, while they install others
(with `-r`, includes followed), belongs to another program of the repository and is left out.
""",
    fix="Pin exact versions: pip-compile / uv pip compile requirements.in -o requirements.txt.",
    bad="flask\nsqlalchemy>=2.0",
    good="flask==3.1.2\nsqlalchemy==2.0.44",
)
def unpinned_dependency(ctx: FileContext) -> Iterator[Hit]:
    project = ctx.project
    if project.files_of(FileKind.LOCKFILE) or CONSTRAINT_OPTION.search("\n".join(ctx.lines)):
        return
    if ctx.rel.endswith(".in") and project.file(ctx.rel[:-3] + ".txt") is not None:
        return  # pip-tools input: the compiled .txt beside it is what gets installed
    installed = _installed_requirement_files(project)
    if installed is not None and ctx.rel.endswith(".txt") and ctx.rel not in installed:
        return  # another program's (project/installed.py)
    pinned = {dep.name for dep in project.dependencies if dep.rel == ctx.rel and dep.pinned}
    loose = [
        dep
        for dep in project.dependencies
        if dep.rel == ctx.rel
        and not dep.pinned
        and not PINNED_REFERENCE.search(dep.spec)
        and dep.name not in pinned  # `bleach[css]` beside `bleach==6.3.0`: the pin holds
    ]
    if len(loose) == 1:
        (dep,) = loose
        how = "has no version" if _no_version(dep) else "is a range, not a pin"
        yield Hit(dep.line, f"{dep.spec} {how}: each build may install a different release")
    elif loose:
        yield Hit(loose[0].line, _grouped(loose))


def _grouped(loose: list[Dependency]) -> str:
    """One finding per file, not one per line: the cause (no pins, no lock) is one."""
    shown = ", ".join(dep.spec for dep in loose[:MAX_LISTED])
    more = f" and {len(loose) - MAX_LISTED} more" if len(loose) > MAX_LISTED else ""
    return (
        f"{len(loose)} dependencies are not pinned ({shown}{more}): each build may install "
        "different releases"
    )


def _no_version(dep: Dependency) -> bool:
    return not re.search(r"[<>=!~]", dep.spec.split(";", 1)[0])


# --- PR802 -------------------------------------------------------------------------------------

IMPORT_NAMES = {
    "django-debug-toolbar": "debug_toolbar",
    "factory-boy": "factory",
    "pdbpp": "pdb",
}
"""Distributions whose import name is not their name with `_` for `-`."""


def dev_tool_reason(dep: Dependency) -> str | None:
    if is_dev_tool(dep.name):
        return f"{dep.name} is a development tool"
    if dep.name == "werkzeug" and re.search(r"\[[^\]]*watchdog", dep.spec, re.IGNORECASE):
        return "werkzeug[watchdog] only speeds up the development reloader"
    return None


def runtime_imports(project: Project) -> set[str]:
    """Top-level modules the production code imports, and Django apps its settings install
    (`"debug_toolbar"` in INSTALLED_APPS is imported by Django at startup)."""
    names: set[str] = set()
    for summary in project.modules.values():
        if not project.env_of(summary.rel).deployed:
            continue
        names |= summary.imports
        _, apps = summary.django_settings.get("INSTALLED_APPS", (0, None))
        if isinstance(apps, list | tuple):
            names |= {app.split(".")[0] for app in apps if isinstance(app, str)}
    return names


@rule(
    "PR802",
    "dev-tool-in-runtime-dependencies",
    title="Development tool among the runtime dependencies",
    severity=Severity.WARNING,
    kind="project",
    family=FAMILY,
    why="""
Test runners, debuggers, linters and debug toolbars in the runtime dependencies ship into the
production image: a bigger image and attack surface, more CVEs to patch, and some are
dangerous when enabled by accident (django-debug-toolbar and flask-debugtoolbar expose
settings, SQL and request data; ipdb/pdb hang a worker waiting on a terminal).

A tool the production code imports (a debug toolbar in INSTALLED_APPS, `freezegun` in an
upload helper) is a runtime dependency of that code and is not reported: moving it out would
break the app. One finding per dependency file lists its tools.
""",
    fix="Move it to requirements-dev.txt or a [dependency-groups] dev group.",
    bad="# requirements.txt\nflask==3.1.2\npytest==8.4.2",
    good="# requirements-dev.txt\n-r requirements.txt\npytest==8.4.2",
)
def dev_tool_in_runtime_dependencies(project: Project) -> Iterator[Hit]:
    imported = runtime_imports(project)
    per_file: dict[str, list[tuple[Dependency, str]]] = {}
    for dep in runtime_dependencies(project):
        reason = dev_tool_reason(dep)
        module = IMPORT_NAMES.get(dep.name, dep.name.replace("-", "_"))
        if reason and module not in imported:
            per_file.setdefault(dep.rel, []).append((dep, reason))
    for rel, tools in per_file.items():
        first = tools[0][0]
        if len(tools) == 1:
            message = f"{tools[0][1]} in the runtime dependencies"
        else:
            names = ", ".join(dep.name for dep, _ in tools)
            message = f"{len(tools)} development tools in the runtime dependencies: {names}"
        yield Hit(first.line, message, path=rel)


# --- PR803 -------------------------------------------------------------------------------------

PRODUCTION_SERVERS = frozenset(
    {
        "gunicorn",
        "uvicorn",
        "uvicorn-worker",
        "granian",
        "hypercorn",
        "waitress",
        "daphne",
        "uwsgi",
        "pyuwsgi",
        "bjoern",
        "meinheld",
    }
)
BUNDLES_SERVER = re.compile(
    r"^(fastapi|litestar)\s*\[[^\]]*\b(standard|full)\b"
    r"|^[\w.-]+\s*\[[^\]]*\b(daphne|uvicorn|gunicorn|granian|hypercorn)\b",
    re.IGNORECASE,
)
"""fastapi[standard] and litestar[standard] install uvicorn; an extra named after a server
installs it (channels[daphne])."""
INSTALL_IN_IMAGE = re.compile(
    r"\b(pip3?|uv pip|uv add|poetry add|pipx)\b[^&;|]*\b("
    + "|".join(sorted(PRODUCTION_SERVERS))
    + r")\b",
    re.IGNORECASE,
)


def _has_server(project: Project) -> bool:
    for dep in runtime_dependencies(project):
        if dep.name in PRODUCTION_SERVERS or BUNDLES_SERVER.match(dep.spec):
            return True
    return any(
        INSTALL_IN_IMAGE.search(inst.value)
        for dockerfile in project.dockerfiles
        for stage in dockerfile.stages
        for inst in stage.all("RUN")
    )


def main_dependency_file(project: Project) -> SourceFile | None:
    """The file a reader looks at first: root requirements.txt, then pyproject.toml, then
    Pipfile, then any other production dependency file."""
    candidates = [f for f in project.files if f.kind in DEPENDENCY_KINDS and not f.dev_only]
    preferred = ("requirements.txt", "pyproject.toml", "Pipfile")

    def rank(source: SourceFile) -> tuple[int, int, str]:
        name_rank = preferred.index(source.rel) if source.rel in preferred else len(preferred)
        return (source.rel.count("/"), name_rank, source.rel)

    return min(candidates, key=rank, default=None)


@rule(
    "PR803",
    "no-production-server",
    title="Web app without a production server in its dependencies",
    severity=Severity.WARNING,
    kind="project",
    family=FAMILY,
    why="""
A Flask, Django or FastAPI app needs a production server (Gunicorn, uvicorn, Granian,
Hypercorn, Waitress, Daphne, uWSGI) to run: the framework's own server is single-process,
unhardened and says so on start. When none is among the runtime dependencies, the
deployment either runs the development server or installs the server unpinned by hand,
outside the dependency file.
""",
    fix="Add one, pinned: gunicorn (WSGI), or uvicorn / granian (ASGI).",
    bad="# requirements.txt\nflask==3.1.2",
    good="# requirements.txt\nflask==3.1.2\ngunicorn==23.0.0",
)
def no_production_server(project: Project) -> Iterator[Hit]:
    if project.framework is None and not project.apps:
        return
    main = main_dependency_file(project)
    if main is None or _has_server(project):
        return
    framework = project.framework or "web"
    yield Hit(
        1,
        f"{framework} app, but no production server (gunicorn, uvicorn, granian ...) "
        "among the runtime dependencies",
        path=main.rel,
    )


# --- PR804 -------------------------------------------------------------------------------------

PYTHON_EOL = {
    (3, 6): date(2021, 12, 23),
    (3, 7): date(2023, 6, 27),
    (3, 8): date(2024, 10, 7),
    (3, 9): date(2025, 10, 31),
    (3, 10): date(2026, 10, 31),
    (3, 11): date(2027, 10, 31),
    (3, 12): date(2028, 10, 31),
    (3, 13): date(2029, 10, 31),
    (3, 14): date(2030, 10, 31),
}
"""End of life per the Python devguide (release-cycle.json); month-only dates taken as the
month's last day. Minors not listed are newer and supported."""
NEWEST_MINOR_CONSIDERED = 20


@dataclass(frozen=True)
class PythonDeclaration:
    rel: str
    line: int
    what: str  # "requires-python", ".python-version", ...
    spec: SpecifierSet


def allowed_minors(spec: SpecifierSet) -> list[tuple[int, int]]:
    return [
        (3, minor)
        for minor in range(6, NEWEST_MINOR_CONSIDERED + 1)
        if any(spec.contains(f"3.{minor}.{patch}", prereleases=True) for patch in (0, 99))
    ]


def to_specifier(text: str) -> SpecifierSet | None:
    """PEP 440, Poetry (`^3.9`, `~3.9`, `3.9.*`, `a || b` takes the widest branch) or a bare
    version (`3.9`, `python-3.9.18`) as a SpecifierSet."""
    text = text.strip().strip("\"'")
    branches = [b.strip() for b in text.split("||")]
    if len(branches) > 1:
        parsed = [to_specifier(b) for b in branches]
        return max((p for p in parsed if p), key=lambda s: len(allowed_minors(s)), default=None)
    bare = re.fullmatch(r"(?:python-?|cpython-?)?(3\.\d+)(?:\.\d+)?", text)
    if bare:
        return SpecifierSet(f"=={bare.group(1)}.*")
    caret = re.fullmatch(r"\^\s*3\.(\d+)(?:\.\d+)?", text)
    if caret:
        return SpecifierSet(f">=3.{caret.group(1)},<4")
    tilde = re.fullmatch(r"~\s*3\.(\d+)(?:\.\d+)?", text)
    if tilde:
        minor = int(tilde.group(1))
        return SpecifierSet(f">=3.{minor},<3.{minor + 1}")
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


def python_declarations(project: Project) -> Iterator[PythonDeclaration]:
    for source in project.files:
        if source.dev_only:
            continue
        if source.kind == FileKind.PYTHON_VERSION:
            yield from _version_file(source, project.texts.get(source.rel, ""))
        elif source.kind in (FileKind.PYPROJECT, FileKind.PIPFILE):
            yield from _toml_declarations(source, project.texts.get(source.rel, ""))


def _version_file(source: SourceFile, text: str) -> Iterable[PythonDeclaration]:
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            spec = to_specifier(stripped)
            return [PythonDeclaration(source.rel, number, source.rel, spec)] if spec else []
    return []


TOML_KEYS = {
    FileKind.PYPROJECT: (
        (("project", "requires-python"), "requires-python"),
        (("tool", "poetry", "dependencies", "python"), "python"),
    ),
    FileKind.PIPFILE: (
        (("requires", "python_version"), "python_version"),
        (("requires", "python_full_version"), "python_full_version"),
    ),
}


def _toml_declarations(source: SourceFile, text: str) -> Iterable[PythonDeclaration]:
    try:
        data = tomllib.loads(text or "")
    except (tomllib.TOMLDecodeError, RecursionError):  # reported as PR001 by the scan
        return []
    lines = (text or "").splitlines()
    found = []
    for path, key in TOML_KEYS[source.kind]:
        value: object = data
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        spec = to_specifier(value) if isinstance(value, str) else None
        if spec is not None:
            line = next(
                (n for n, t in enumerate(lines, 1) if re.match(rf"\s*{re.escape(key)}\s*=", t)),
                1,
            )
            found.append(PythonDeclaration(source.rel, line, f"{key} {value}", spec))
    return found


def _eol_date(version: tuple[int, int]) -> date | None:
    return PYTHON_EOL.get(version)


@rule(
    "PR804",
    "end-of-life-python",
    title="Project targets only end-of-life Python versions",
    severity=Severity.WARNING,
    kind="project",
    family=FAMILY,
    why="""
A Python release gets security fixes for five years, then none: Python 3.8 reached end of
life on 2024-10-07, 3.9 on 2025-10-31, 3.10 in October 2026 (dates from the Python devguide's
release cycle). A service pinned to an end-of-life interpreter receives no fix for the next
CVE in ssl, http or xml, and its dependencies drop support one by one, freezing it on old,
vulnerable releases.
""",
    fix="Move to a supported Python (3.12 or 3.13) and update requires-python / .python-version.",
    bad='[project]\nrequires-python = ">=3.8,<3.10"',
    good='[project]\nrequires-python = ">=3.12"',
)
def end_of_life_python(project: Project) -> Iterator[Hit]:
    today = date.today()
    for declaration in python_declarations(project):
        minors = allowed_minors(declaration.spec)
        if not minors:
            continue
        eol = [_eol_date(v) for v in minors]
        if all(d is not None and d < today for d in eol):
            newest = minors[-1]
            yield Hit(
                declaration.line,
                f"{declaration.what} allows only Python {newest[0]}.{newest[1]} and older; "
                f"{newest[0]}.{newest[1]} reached end of life on {_eol_date(newest)}",
                path=declaration.rel,
            )


# --- PR805 -------------------------------------------------------------------------------------


@rule(
    "PR805",
    "psycopg2-binary-in-production",
    title="psycopg2-binary in the runtime dependencies",
    severity=Severity.INFO,
    kind="project",
    family=FAMILY,
    why="""
psycopg2's documentation ("psycopg vs psycopg-binary", psycopg.org/docs/install.html): the
binary package is meant for beginners and development; for production use the source
distribution is advised. The wheel bundles its own libpq and libssl, which system security
updates never patch, and which have clashed with other libssl copies in the same process.
Installing both psycopg2 and psycopg2-binary makes two packages write the same `psycopg2`
module: whichever installs last wins.
""",
    fix="Depend on psycopg2 (built against the system libpq), or move to psycopg 3.",
    bad="psycopg2-binary==2.9.10",
    good="psycopg2==2.9.10",
)
def psycopg2_binary_in_production(project: Project) -> Iterator[Hit]:
    runtime = runtime_dependencies(project)
    source_builds = {d.rel for d in runtime if d.name == "psycopg2"}
    for dep in runtime:
        if dep.name != "psycopg2-binary":
            continue
        if dep.rel in source_builds:
            message = "both psycopg2 and psycopg2-binary: they overwrite the same module"
        else:
            message = "psycopg2-binary in production: its docs advise the source package"
        yield Hit(dep.line, message, path=dep.rel)

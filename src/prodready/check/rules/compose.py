"""Rules for compose files (PR301-PR349), compose-spec.

Development overrides (compose.override.yaml, docker-compose.dev.yml ...) never reach these rules:
the engine skips dev-only files.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from prodready.check.context import FileContext
from prodready.check.memo import once_per_project
from prodready.check.model import Edit, Fix, Hit, Severity
from prodready.check.registry import rule
from prodready.check.rules._common import (
    debug_setting,
    is_secret_setting,
    leak,
    literal_secret,
    written_secret,
)
from prodready.check.rules.crossfile_facts import dockerfile_of, is_own_image, service_launches
from prodready.project.images import official_name, root_image
from prodready.project.model import Environment, FileKind, Project
from prodready.project.parsers.commands import (
    ends_with_exec,
    exec_form_shell_problem,
    sh_c_script,
    traps_sigterm,
)
from prodready.project.parsers.compose import DB_IMAGES, VAR_DEFAULT, ComposeFile, ComposeService
from prodready.project.parsers.dockerfile import Dockerfile, built_lineage, last_instruction
from prodready.project.parsers.yamlines import LineDict, LineList
from prodready.secretstrength import Verdict, is_provider_token, judge

KIND = FileKind.COMPOSE.value

URL_WITH_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/:@]*:[^\s/@]+@", re.IGNORECASE)
COMPOSE_VARIABLE = re.compile(r"\$\$|\$\{[^}]*\}|\$[A-Za-z_]\w*")


# --- shared helpers ---------------------------------------------------------------------------


def _compose(ctx: FileContext) -> ComposeFile | None:
    parsed = ctx.parsed
    return parsed if isinstance(parsed, ComposeFile) and parsed.data is not None else None


def _services(ctx: FileContext) -> list[ComposeService]:
    """The services the rule looks at (development and test services only for rules that run
    everywhere)."""
    compose = _compose(ctx)
    return [s for s in compose.services if ctx.checks_service(s.name)] if compose else []


def with_overlays(ctx: FileContext, service: ComposeService) -> dict[str, Any]:
    """The service's settings as production runs them: merged with the same service of the
    other production compose files in its folder, which `docker compose -f compose.yml -f
    compose.deploy.yml` lays over each other (the FastAPI template sets `restart: always` in
    compose.deploy.yml only). Top-level keys, and one level inside mappings such as deploy."""
    merged: dict[str, Any] = dict(service.data)
    folder = posixpath.dirname(ctx.rel)
    for other in ctx.project.compose_files:
        if other.rel == ctx.rel or posixpath.dirname(other.rel) != folder:
            continue
        twin = other.service(service.name)
        if twin is None or not ctx.project.service_env(other.rel, twin.name).deployed:
            continue
        for key, value in twin.data.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged.setdefault(key, value)
    return merged


def strings(value: Any, line: int) -> Iterator[tuple[str, int]]:
    """Every string in a YAML value with the line it is written on."""
    if isinstance(value, str):
        yield value, line
    elif isinstance(value, LineDict):
        for key, item in value.items():
            yield from strings(item, value.line_of(key))
    elif isinstance(value, LineList):
        for index, item in enumerate(value):
            yield from strings(item, value.line_of(index))


def interpolation_defaults(text: str) -> Iterator[tuple[str, str]]:
    """(variable, default) for `${VAR:-default}` and `${VAR-default}`; `$${...}` is escaped."""
    for match in VAR_DEFAULT.finditer(text):
        escaped = match.start() > 0 and text[match.start() - 1] == "$"
        if not escaped and match["op"] in (":-", "-"):
            yield match["name"], match["value"]


def url_password(text: str) -> str | None:
    """The password in `scheme://user:password@host`, or None."""
    match = URL_WITH_PASSWORD.search(text)
    if not match:
        return None
    try:
        return urlsplit(match[0] + "host").password
    except ValueError:
        return None


WAITS_FOR_SERVICE = re.compile(
    r"pg_isready|wait[-_]for(?:[-_]it|[-_]db|[-_]postgres|[-_]mysql)?\b|dockerize\b[^\n]*-wait"
    r"|/dev/tcp/|\bnc\b[^\n]*\s-z|mysqladmin\b[^\n]*\bping|redis-cli\b[^\n]*\bping"
    r"|init-wait-for|wait_for_(?:db|database|services?)\b"
)
"""An entrypoint or command that waits for its database or broker itself."""


def waits_itself(project: Project, compose: ComposeFile, service: ComposeService | None) -> bool:
    """The service's own command, or the image entrypoint and start scripts it runs, wait for
    the dependency before starting: depends_on's condition then changes nothing."""
    if service is None:
        return False
    own = " ".join(str(service.data.get(key) or "") for key in ("command", "entrypoint"))
    if WAITS_FOR_SERVICE.search(own):
        return True
    # The compose file's own text is not searched: another service's wait is not this one's
    # (and searching the whole file per service made check quadratic in services).
    rels = {
        launch.rel
        for launch in service_launches(project, compose, service)
        if launch.rel != compose.rel
    }
    dockerfile = dockerfile_of(project, compose, service)
    dockerfiles = [dockerfile] if dockerfile is not None else []
    if not dockerfiles and is_own_image(project, service.image):
        dockerfiles = [d for d in project.dockerfiles if project.env_of(d.rel).production]
    for built in dockerfiles:
        rels.add(built.rel)
        rels.update(_scripts_named_in(project, built.rel))
    waits = _files_that_wait(project)
    return any(waits(rel) for rel in rels)


@once_per_project
def _files_that_wait(project: Project) -> Callable[[str], bool]:
    """Whether a project file's text waits for a service, searched once per file."""

    @functools.cache
    def waits(rel: str) -> bool:
        return bool(WAITS_FOR_SERVICE.search(project.texts.get(rel, "")))

    return waits


def _scripts_named_in(project: Project, rel: str) -> list[str]:
    text = project.texts.get(rel, "")
    return [s.rel for s in project.files_of(FileKind.SCRIPT) if s.path.name in text]


def url_user(text: str) -> str | None:
    """The user in `scheme://user:password@host`, or None."""
    match = URL_WITH_PASSWORD.search(text)
    if not match:
        return None
    try:
        return urlsplit(match[0] + "host").username
    except ValueError:
        return None


def nested(data: LineDict, *keys: str) -> Any:
    """`nested(svc, "deploy", "resources", "limits")` or None when any level is missing."""
    value: Any = data
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def depends_on(service: ComposeService) -> list[tuple[str, str | None, int]]:
    """(service name, condition or None, line) for both forms of `depends_on`."""
    raw = service.data.get("depends_on")
    if isinstance(raw, LineList):
        return [(str(name), None, raw.line_of(i)) for i, name in enumerate(raw)]
    if isinstance(raw, LineDict):
        result = []
        for name, spec in raw.items():
            condition = spec.get("condition") if isinstance(spec, dict) else None
            result.append((str(name), condition, raw.line_of(name)))
        return result
    return []


def one_shot(ctx: FileContext, service: ComposeService) -> bool:
    """Migrations, seeders and other jobs that are meant to exit (project.environments judged
    them), and optional services started by a profile: no server settings are asked of them."""
    fact = ctx.project.service_env(ctx.rel, service.name)
    return fact.env == Environment.ONE_SHOT or "profiles" in service.data


def _built_from(ctx: FileContext, service: ComposeService) -> Dockerfile | None:
    """The project Dockerfile a service with `build:` is built from, when it has stages."""
    compose = _compose(ctx)
    dockerfile = dockerfile_of(ctx.project, compose, service) if compose else None
    return dockerfile if dockerfile is not None and dockerfile.stages else None


def _builds_app(ctx: FileContext, service: ComposeService) -> bool:
    """The service is built from the project (`build:`) and is not a database image extended
    with a few files (`FROM postgres:16` plus init scripts)."""
    if not service.builds:
        return False
    dockerfile = _built_from(ctx, service)
    if dockerfile is None:
        return True
    return official_name(root_image(dockerfile, dockerfile.stages[-1])) not in DB_IMAGES


def _image_healthcheck(ctx: FileContext, service: ComposeService) -> bool:
    """The service's Dockerfile declares a HEALTHCHECK, which the container inherits."""
    dockerfile = _built_from(ctx, service)
    if dockerfile is None:
        return False
    check = last_instruction(built_lineage(dockerfile), "HEALTHCHECK")
    return check is not None and check.value.split()[:1] != ["NONE"]


def _resolved(value: str) -> str:
    """`${FLASK_DEBUG:-1}` -> `1` when the whole value is one interpolation with a default."""
    match = VAR_DEFAULT.fullmatch(value.strip())
    return match["value"] if match and match["op"] in (":-", "-") else value


# --- PR301 ------------------------------------------------------------------------------------


@rule(
    "PR301",
    "compose-literal-secret",
    title="Secret written literally in compose environment",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
A password in `environment:` lives in the repository, in every clone, CI log and backup of it,
and in `docker inspect` of the container. When it is a default (`postgres`, `changeme`,
`admin`) every deployment of the project shares it, and database ports end up exposed more
often than anyone plans: scanners try exactly these defaults within minutes.
""",
    fix="""
Move the value out of the file: env_file (not committed), Docker secrets, or a required variable.
POSTGRES_PASSWORD: ${POSTGRES_PASSWORD?set POSTGRES_PASSWORD}
""",
    bad="environment:\n  POSTGRES_PASSWORD: postgres",
    good="environment:\n  POSTGRES_PASSWORD: ${POSTGRES_PASSWORD?required}",
    dev_files=True,
)
def compose_literal_secret(ctx: FileContext) -> Iterable[Hit]:
    """In development and test services only credentials of an outside service count (a
    GitHub token, an AWS key): `postgres`, or a random password of the CI's own throwaway
    database, guards nothing that outlives the stack, but a committed live key is leaked
    wherever it is written."""
    for service in _services(ctx):
        development = ctx.in_development(service.name)
        environment = list(service.environment())
        values = {name: value for name, value, _ in environment}
        for name, value, line in environment:
            if not value or "$" in value:
                continue
            if is_secret_setting(name) and "://" not in value:
                judgement = literal_secret(name, value)
                user = _user_beside(name, values)
                if judgement is not None and user and value.strip() == user.strip():
                    judgement = judge(value, user)
                subject = f"environment {name}"
            elif (password := url_password(value)) is not None:
                judgement = written_secret(password, url_user(value) or name)
                subject = f"environment {name} embeds a password that"
            else:
                continue
            if judgement is None or (development and not is_provider_token(value)):
                continue
            yield Hit(line, f"service {service.name}: {subject} {leak(judgement)}")


def _user_beside(name: str, values: dict[str, str | None]) -> str | None:
    """The user name set beside a password: POSTGRES_USER for POSTGRES_PASSWORD."""
    for word in ("PASSWORD", "PASS", "PWD"):
        if word in name.upper():
            start = name.upper().rindex(word)
            for user_word in ("USER", "USERNAME"):
                value = values.get(name[:start] + user_word + name[start + len(word) :])
                if value:
                    return value
    return None


# --- PR302 ------------------------------------------------------------------------------------


@rule(
    "PR302",
    "weak-interpolation-default",
    title="Weak default for a secret variable",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
`${DB_PASSWORD:-postgres}` looks configurable but silently falls back to a well-known password
whenever the variable is missing: a forgotten .env on the server, a typo in its name, a new
host. The deployment starts fine and runs with the default, exactly the credential scanners
try first. `${VAR?message}` refuses to start instead.
""",
    fix="""
Make the variable required instead of defaulting it.
POSTGRES_PASSWORD: ${POSTGRES_PASSWORD?set POSTGRES_PASSWORD in .env}
""",
    bad="environment:\n  POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-postgres}",
    good="environment:\n  POSTGRES_PASSWORD: ${POSTGRES_PASSWORD?required}",
)
def weak_interpolation_default(ctx: FileContext) -> Iterable[Hit]:
    for service in _services(ctx):
        for text, line in strings(service.data, service.line):
            if "${" not in text:
                continue
            for name, default in interpolation_defaults(text):
                reason = _weak_default(name, default)
                if reason:
                    yield Hit(
                        line,
                        f"service {service.name}: ${{{name}}} defaults to a value that {reason}",
                    )


def _weak_default(name: str, default: str) -> str | None:
    if is_secret_setting(name) and default.strip():
        judgement = judge(default, name)
        return judgement.reason if judgement.verdict in (Verdict.DEFAULT, Verdict.WEAK) else None
    password = url_password(default)
    if password and "$" not in password:
        judgement = judge(password, name)
        if judgement.verdict in (Verdict.DEFAULT, Verdict.WEAK):
            return f"embeds a password that {judgement.reason}"
    return None


# --- PR303 ------------------------------------------------------------------------------------

LOOPBACK = frozenset({"127.0.0.1", "[::1]", "::1"})


@rule(
    "PR303",
    "database-port-published",
    title="Database or cache port published to the host",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
`ports: ["5432:5432"]` publishes the database on every interface of the host. Docker writes
its own iptables rules ahead of ufw and firewalld, so the firewall you configured does not
apply: the database is on the internet. Exposed Redis and PostgreSQL instances are found by
scanners within hours and are the classic entry for ransom-note wipes and cryptominers.
Containers on the same compose network reach the database without any published port.
""",
    fix="""
Remove `ports:` from the database (services reach it by name), or bind to loopback.
ports: ["127.0.0.1:5432:5432"]
""",
    bad='db:\n  image: postgres:16\n  ports: ["5432:5432"]',
    good='db:\n  image: postgres:16\n  ports: ["127.0.0.1:5432:5432"]',
)
def database_port_published(ctx: FileContext) -> Iterable[Hit]:
    for service in _services(ctx):
        kind = service.database_kind
        if kind is None:
            continue
        for port in service.ports():
            if port.host_ip in LOOPBACK:
                continue
            host = f"host port {port.host}" if port.host else "a random host port"
            container = f"container port {port.container}" if port.container else "a port"
            yield Hit(
                port.line,
                f"service {service.name} ({kind}) publishes {container} as {host} on all "
                "interfaces: Docker bypasses ufw/firewalld",
            )


# --- PR304 ------------------------------------------------------------------------------------

SWARM_ONLY_KEYS = frozenset({"mode", "placement", "update_config", "rollback_config"})
"""deploy: keys only `docker stack deploy` reads: the file describes a Swarm stack."""


@rule(
    "PR304",
    "no-restart-policy",
    title="Long-running service has no restart policy",
    severity=Severity.WARNING,
    kind=KIND,
    why="""
Compose's default restart policy is "no": after a crash, an out-of-memory kill or a host
reboot (kernel update, provider maintenance) the service stays down until someone notices.
`restart: unless-stopped` brings it back, including after the Docker daemon restarts.
A Swarm stack (deploy: placement, update_config ...) restarts on any exit by default.
""",
    fix="Add `restart: unless-stopped` (or deploy.restart_policy in Swarm).",
    bad="web:\n  build: .",
    good="web:\n  build: .\n  restart: unless-stopped",
)
def no_restart_policy(ctx: FileContext) -> Iterable[Hit]:
    services = _services(ctx)
    for service in services:
        data = with_overlays(ctx, service)
        if "restart" in data or nested(data, "deploy", "restart_policy"):
            continue
        deploy = data.get("deploy")
        if isinstance(deploy, dict) and SWARM_ONLY_KEYS & set(deploy):
            continue  # a Swarm stack: its default restart_policy is `any`
        if one_shot(ctx, service):
            continue
        yield Hit(
            service.line,
            f"service {service.name} has no restart policy: after a crash or reboot it stays down",
        )


# --- PR305 ------------------------------------------------------------------------------------


@rule(
    "PR305",
    "compose-image-unpinned",
    title="Service image has no tag or uses :latest",
    severity=Severity.WARNING,
    kind=KIND,
    why="""
`image: postgres` or `image: redis:latest` means whatever the registry serves on the day of
the next `docker compose pull`: a new PostgreSQL major version will not even open the existing
data directory, and the service fails to start after a routine update.
""",
    fix="Pin the image to a version (postgres:16.4), ideally with a digest.",
    bad="db:\n  image: postgres",
    good="db:\n  image: postgres:16.4",
)
def compose_image_unpinned(ctx: FileContext) -> Iterable[Hit]:
    for service in _services(ctx):
        image = service.image
        if not image or "$" in image or service.builds or "@" in image:
            continue
        last = image.rsplit("/", 1)[-1]
        tag = last.split(":", 1)[1] if ":" in last else None
        if tag is None or tag == "latest":
            problem = "has no tag (means :latest)" if tag is None else "uses :latest"
            yield Hit(
                service.data.line_of("image"),
                f"service {service.name}: image {image} {problem}: a pull can change it",
            )


# --- PR306 ------------------------------------------------------------------------------------

DANGEROUS_CAPS = frozenset({"ALL", "SYS_ADMIN", "CAP_SYS_ADMIN"})
DOCKER_SOCKET = "/var/run/docker.sock"


@rule(
    "PR306",
    "dangerous-container-privileges",
    title="Container gets host-level privileges",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
`privileged: true`, `cap_add: [SYS_ADMIN]` or `[ALL]`, a mounted Docker socket, and the
host's PID namespace each hand the container root on the host: a single code execution bug
in the app becomes a full host compromise (mounting the host disk, starting a privileged
container through the socket). `network_mode: host` removes network isolation, so every
port the app or its debug tools open is on the host's interfaces.
""",
    fix="Remove the privilege; grant only the specific capability needed, and never the socket.",
    bad="web:\n  privileged: true\n  volumes: [/var/run/docker.sock:/var/run/docker.sock]",
    good="web:\n  cap_drop: [ALL]",
)
def dangerous_container_privileges(ctx: FileContext) -> Iterable[Hit]:
    for service in _services(ctx):
        data, name = service.data, service.name
        if data.get("privileged") is True:
            yield Hit(
                data.line_of("privileged"), f"service {name} runs privileged: root on the host"
            )
        for key in ("pid", "ipc", "userns_mode"):
            if data.get(key) == "host":
                yield Hit(data.line_of(key), f"service {name} shares the host's {key} namespace")
        if data.get("network_mode") == "host":
            yield Hit(
                data.line_of("network_mode"),
                f"service {name} uses the host network: no network isolation",
                severity=Severity.WARNING,
            )
        caps = data.get("cap_add")
        if isinstance(caps, LineList):
            for index, cap in enumerate(caps):
                if str(cap).upper() in DANGEROUS_CAPS:
                    yield Hit(caps.line_of(index), f"service {name} adds capability {cap}")
        yield from _socket_mounts(service)


def _socket_mounts(service: ComposeService) -> Iterator[Hit]:
    volumes = service.data.get("volumes")
    if not isinstance(volumes, LineList):
        return
    for index, volume in enumerate(volumes):
        source = volume.get("source") if isinstance(volume, dict) else str(volume).split(":")[0]
        if str(source or "").rstrip("/") in (DOCKER_SOCKET, "/run/docker.sock"):
            yield Hit(
                volumes.line_of(index),
                f"service {service.name} mounts the Docker socket: root on the host",
            )


# --- PR307 ------------------------------------------------------------------------------------


@rule(
    "PR307",
    "no-memory-limit",
    title="App service has no memory limit",
    severity=Severity.INFO,
    kind=KIND,
    why="""
Without a limit, a memory leak or one oversized request (a huge upload parsed in memory, an
unbounded query) grows until the kernel's OOM killer picks a victim on the host, often the
database next to the app rather than the app itself. A limit confines the damage to the
leaking container, which restarts alone.
""",
    fix="Set deploy.resources.limits.memory (or mem_limit) to what the app needs plus headroom.",
    bad="web:\n  build: .",
    good="web:\n  build: .\n  deploy:\n    resources:\n      limits:\n        memory: 512M",
)
def no_memory_limit(ctx: FileContext) -> Iterable[Hit]:
    services = _services(ctx)
    for service in services:
        data = with_overlays(ctx, service)
        if "mem_limit" in data or one_shot(ctx, service):
            continue
        if not _builds_app(ctx, service):  # databases manage their own memory (shared_buffers)
            continue
        if nested(data, "deploy", "resources", "limits", "memory") is not None:
            continue
        yield Hit(service.line, f"service {service.name} has no memory limit")


# --- PR308 ------------------------------------------------------------------------------------


ADMIN_CONSOLES = ("adminer", "dpage/pgadmin", "phpmyadmin", "mongo-express", "rediscommander")
"""Database consoles that connect when someone opens them, not at start-up."""
BROKERS = frozenset({"redis", "rabbitmq"})


@rule(
    "PR308",
    "depends-on-not-healthy",
    title="depends_on does not wait until the dependency is ready",
    severity=Severity.WARNING,
    kind=KIND,
    why="""
Plain `depends_on` only waits for the dependency's container to start, not for PostgreSQL to
accept connections (it takes seconds to initialise, much longer on first start). The app boots,
fails to connect, and crashes or serves errors on every deploy and host reboot.
`condition: service_healthy` makes compose wait for the dependency's healthcheck.
""",
    fix="""
Give the dependency a healthcheck and wait for it.
depends_on:
  db:
    condition: service_healthy
""",
    bad="depends_on: [db]",
    good="depends_on:\n  db:\n    condition: service_healthy",
)
def depends_on_not_healthy(ctx: FileContext) -> Iterable[Hit]:
    """Reported for dependencies that have a healthcheck (their own or their image's), and for
    databases and caches (which always need one: PR310 reports the missing healthcheck itself),
    when `depends_on` names no condition. One hit per `depends_on:`."""
    compose = _compose(ctx)
    if compose is None:
        return
    for service in _services(ctx):
        if official_name(service.image).startswith(ADMIN_CONSOLES):
            continue  # adminer connects per request: starting first is harmless
        unready = []
        for name, condition, _ in depends_on(service):
            target = compose.service(name)
            if target is None or condition is not None:
                continue  # an explicit condition, even service_started, is a choice
            if target.database_kind in BROKERS and _runs_celery(ctx, compose, service):
                continue  # Celery retries its broker connection at start-up
            if waits_itself(ctx.project, compose, service):
                continue  # its entrypoint waits (pg_isready loop, wait-for-it, /dev/tcp)
            if target.healthcheck_test() is not None or _image_healthcheck(ctx, target):
                unready.append(name)
            elif target.database_kind is not None:
                unready.append(f"{name} (which has no healthcheck)")
        if unready:
            yield Hit(
                service.data.line_of("depends_on"),
                f"service {service.name} depends on {', '.join(unready)} without condition: "
                f"service_healthy: it starts before {'it is' if len(unready) == 1 else 'they are'} "
                "ready",
            )


def _runs_celery(ctx: FileContext, compose: ComposeFile, service: ComposeService) -> bool:
    """A Celery worker or beat: by its command, or by its name when it runs the app's image
    with a role switch (mediacms' celery_beat)."""
    if "celery" in service.name.lower():
        return True
    return any(
        part.rsplit("/", 1)[-1] == "celery"
        for launch in service_launches(ctx.project, compose, service)
        for part in launch.argv[:3]
    )


# --- PR309 ------------------------------------------------------------------------------------


@rule(
    "PR309",
    "compose-debug-env",
    title="Debug mode enabled in compose environment",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
FLASK_DEBUG=1 (or FLASK_ENV=development) turns on the Werkzeug debugger: an error page with
an interactive Python console, remote code execution for anyone who triggers an exception.
Django's DEBUG=True shows settings, SQL queries and source code on error pages. In the main
compose file it applies to every deployment; put it in compose.override.yaml for development.
""",
    fix="Remove debug settings from the production compose file; use a dev override file.",
    bad="environment:\n  FLASK_DEBUG: 1",
    good="environment:\n  FLASK_DEBUG: 0",
)
def compose_debug_env(ctx: FileContext) -> Iterable[Hit]:
    for service in _services(ctx):
        for name, value, line in service.environment():
            if value is None:
                continue
            reason = debug_setting(name, _resolved(value))
            if reason:
                yield Hit(line, f"service {service.name}: {reason}")


# --- PR310 ------------------------------------------------------------------------------------


@rule(
    "PR310",
    "dependency-without-healthcheck",
    title="Database or app other services depend on has no healthcheck",
    severity=Severity.INFO,
    kind=KIND,
    why="""
Without a healthcheck compose cannot know when PostgreSQL, Redis or the app is ready, so the
services that depend on it start as soon as its container exists and race its start-up:
connection errors on every deploy and host reboot. A healthcheck (pg_isready,
redis-cli ping, the app's /health) plus `condition: service_healthy` removes the race.
""",
    fix="""
Give the dependency a healthcheck.
healthcheck:
  test: ["CMD-SHELL", "pg_isready -U $$POSTGRES_USER"]
  interval: 5s
""",
    bad="db:\n  image: postgres:16",
    good='db:\n  image: postgres:16\n  healthcheck:\n    test: ["CMD-SHELL", "pg_isready"]',
)
def dependency_without_healthcheck(ctx: FileContext) -> Iterable[Hit]:
    compose = _compose(ctx)
    if compose is None:
        return
    dependents: dict[str, list[str]] = {}
    for service in _services(ctx):
        for name, condition, _ in depends_on(service):
            if condition != "service_completed_successfully":
                dependents.setdefault(name, []).append(service.name)
    for service in _services(ctx):
        users = dependents.get(service.name)
        if not users or "healthcheck" in service.data:
            continue
        if all(waits_itself(ctx.project, compose, compose.service(u)) for u in users):
            continue
        if service.database_kind is None and not service.builds:
            continue
        if _image_healthcheck(ctx, service):
            continue
        yield Hit(
            service.line,
            f"service {service.name} has no healthcheck, so {', '.join(users)} cannot wait "
            "until it is ready",
        )


# --- PR311 ------------------------------------------------------------------------------------


@rule(
    "PR311",
    "obsolete-version-key",
    title="Obsolete top-level `version:` key",
    severity=Severity.INFO,
    kind=KIND,
    why="""
The Compose Specification ignores `version:`; Docker Compose v2 prints "the attribute `version`
is obsolete" on every command. Worse, it suggests the file targets an old format (2.x/3.x
semantics such as `mem_limit` vs `deploy`) that is no longer what runs it.
""",
    fix="Delete the `version:` line.",
    bad='version: "3.8"\nservices:\n  web:\n    build: .',
    good="services:\n  web:\n    build: .",
)
def obsolete_version_key(ctx: FileContext) -> Iterable[Hit]:
    compose = _compose(ctx)
    if compose is None or compose.data is None or "version" not in compose.data:
        return
    line = compose.data.line_of("version")
    text = ctx.line_text(line)
    fix = None
    if text.lstrip().startswith("version") and line < len(ctx.lines):
        fix = Fix("remove the version: line", (_version_line_removal(ctx, line),))
    yield Hit(
        line,
        f"`version: {compose.data['version']}` is obsolete in the Compose Specification",
        fix=fix,
    )


def _version_line_removal(ctx: FileContext, line: int) -> Edit:
    """Removes the `version:` line, and the blank lines after it when nothing but blank lines
    or comments comes before it: the file must not start with an empty line afterwards."""
    end = line
    above = ctx.lines[: line - 1]
    if all(not text.strip() or text.lstrip().startswith("#") for text in above):
        while end + 1 < len(ctx.lines) and not ctx.line_text(end + 1).strip():
            end += 1
    old = "".join(ctx.line_text(number) + "\n" for number in range(line, end + 1))
    return Edit(ctx.rel, line, old, "", end_line=end)


# --- PR312 ------------------------------------------------------------------------------------

PROJECT_ROOT_SOURCES = frozenset({".", "${PWD}", "$PWD"})


@rule(
    "PR312",
    "source-bind-mount",
    title="Project source bind-mounted over the built image",
    severity=Severity.WARNING,
    kind=KIND,
    why="""
`volumes: [".:/app"]` on a service that is built from the project hides the image's code
behind the host's checkout: what runs is whatever files sit on the server (a half-finished
`git pull`, a local edit), not the image that was built and tested, and a rollback to the
previous image changes nothing. It also mounts .env, .git and everything else into the
container. It is a development pattern: keep it in compose.override.yaml.
""",
    fix="Remove the bind mount from the production compose file (move it to an override).",
    bad="web:\n  build: .\n  volumes: ['.:/app']",
    good="web:\n  build: .\n  volumes: ['media:/app/media']",
)
def source_bind_mount(ctx: FileContext) -> Iterable[Hit]:
    for service in _services(ctx):
        volumes = service.data.get("volumes")
        if not service.builds or not isinstance(volumes, LineList):
            continue
        for index, volume in enumerate(volumes):
            if isinstance(volume, dict):
                source = str(volume.get("source") or "")
            else:
                source = str(volume).split(":", 1)[0]
            if source.rstrip("/") in PROJECT_ROOT_SOURCES:
                yield Hit(
                    volumes.line_of(index),
                    f"service {service.name} mounts the project directory over its image: "
                    "production runs the host's files, not the built image",
                )


# --- PR313 ------------------------------------------------------------------------------------


@rule(
    "PR313",
    "compose-shell-command-without-exec",
    title="Service command runs the server under sh -c without exec",
    severity=Severity.WARNING,
    kind=KIND,
    why="""
`command: sh -c "alembic upgrade head && gunicorn app:app"` makes the shell PID 1 of the
container and the server its child. `docker compose stop`, `up` with a new image and host
shutdowns send SIGTERM to PID 1; the shell ignores it, the server never drains its requests
and is SIGKILLed after stop_grace_period (10 s). `init: true` does not help: tini forwards the
signal to the shell only.
""",
    fix="""
End the script with exec, so the server replaces the shell.
command: sh -c "alembic upgrade head && exec gunicorn app:app"
A shell that must stay (a loop) traps TERM and passes it on to its child.
""",
    bad='command: sh -c "alembic upgrade head && gunicorn app:app"',
    good='command: sh -c "alembic upgrade head && exec gunicorn app:app"',
)
def compose_shell_command_without_exec(ctx: FileContext) -> Iterable[Hit]:
    for service in _services(ctx):
        for key in ("entrypoint", "command"):
            argv = service.command_argv(key)
            script = sh_c_script(argv) if argv else None
            if not script or ends_with_exec(script) or traps_sigterm(script):
                continue
            yield Hit(
                service.data.line_of(key),
                f"service {service.name}: {key} runs under {argv[0]} -c as PID 1 without exec: "
                "SIGTERM never reaches the server",
            )
            break  # an entrypoint shell owns the command too


# --- PR314 ------------------------------------------------------------------------------------


@rule(
    "PR314",
    "healthcheck-exec-form-shell-syntax",
    title="Healthcheck in CMD form uses shell syntax",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
`test: ["CMD", ...]` runs the program directly, without a shell. `||`, `&&`, `|`, redirects
and `$VAR` are then passed as literal arguments (curl tries to fetch a URL named `||`), and a
first item with spaces ("curl -f http://...") names a program that does not exist. The check
then fails on every probe (the container is unhealthy forever, dependants waiting for
`service_healthy` never start, orchestrators restart it in a loop) or tests something other
than what it says.
""",
    fix="""
Use CMD-SHELL for shell syntax, or split the command into separate CMD items.
test: ["CMD-SHELL", "curl -f http://127.0.0.1:8000/health || exit 1"]
""",
    bad='test: ["CMD", "curl", "-f", "http://127.0.0.1:8000/health", "||", "exit", "1"]',
    good='test: ["CMD", "curl", "-f", "http://127.0.0.1:8000/health"]',
)
def healthcheck_exec_form_shell_syntax(ctx: FileContext) -> Iterable[Hit]:
    for service in _services(ctx):
        test = nested(service.data, "healthcheck", "test")
        if not isinstance(test, LineList) or len(test) < 2 or test[0] != "CMD":
            continue
        found = exec_form_shell_problem([_as_container_sees_it(str(i)) for i in test[1:]])
        if found:
            problem, always_fails = found
            yield Hit(
                test.line,
                f"service {service.name}: healthcheck test in CMD form {problem}",
                severity=None if always_fails else Severity.WARNING,
            )


def _as_container_sees_it(text: str) -> str:
    """After compose's own interpolation: `${VAR}` is replaced on the host, `$$` is a `$`."""
    return COMPOSE_VARIABLE.sub(lambda m: "$" if m[0] == "$$" else "value", text)


# --- PR315 ------------------------------------------------------------------------------------


@rule(
    "PR315",
    "no-log-rotation",
    title="App container logs are never rotated",
    severity=Severity.INFO,
    kind=KIND,
    why="""
Docker's default json-file log driver keeps every line a container writes, forever, under
/var/lib/docker. A busy app (access logs, retries in a loop) fills the host disk in days or
weeks, and a full disk takes the database down with it. Rotation is set per service
(`logging.options.max-size`) or daemon-wide in /etc/docker/daemon.json; if you set it in
daemon.json, ignore this rule.
""",
    fix="""
Rotate the logs.
logging:
  driver: json-file
  options: {max-size: "10m", max-file: "5"}
""",
    bad="web:\n  build: .",
    good="web:\n  build: .\n  logging:\n    options: {max-size: 10m, max-file: '5'}",
)
def no_log_rotation(ctx: FileContext) -> Iterable[Hit]:
    services = _services(ctx)
    for service in services:
        if one_shot(ctx, service) or not _builds_app(ctx, service):
            continue
        logging = nested(with_overlays(ctx, service), "logging")
        if isinstance(logging, dict):
            driver = str(logging.get("driver") or "json-file")
            options = logging.get("options")
            rotated = isinstance(options, dict) and "max-size" in options
            if driver not in ("json-file", "") or rotated:
                continue  # local, journald, syslog, fluentd ... rotate or ship elsewhere
        yield Hit(
            service.line,
            f"service {service.name} logs with json-file and no max-size: logs grow until "
            "the disk is full",
        )

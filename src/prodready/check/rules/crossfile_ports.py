"""Cross-file rules about ports (PR916-PR918, PR921-PR922): where the server listens, against what
its container publishes, what its healthcheck calls and the $PORT a platform gives it.
Registered through crossfile.py."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from prodready.check.model import Hit, Severity
from prodready.check.registry import rule
from prodready.check.rules.crossfile_facts import (
    Served,
    container_launches,
    gunicorn_setup,
    judged,
    launches_in,
    listens,
    ports_of,
    production_compose,
    runs_app,
    service_launches,
)
from prodready.project.model import Project
from prodready.project.parsers.dockerfile import built_lineage, instructions

KIND = "project"
LOCAL_URL_PORT = re.compile(
    r"https?://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::(?P<port>\d+))?(?=[/\s'\"]|$)"
)


# --- PR916 -------------------------------------------------------------------------------------


@rule(
    "PR916",
    "container-listens-on-loopback",
    title="The server in a container listens on 127.0.0.1",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
Inside a container, 127.0.0.1 is the container's own loopback: nothing outside it, not the
published port, not nginx in the next container, can connect. gunicorn, uvicorn, flask run,
`manage.py runserver` and `app.run()` all listen on 127.0.0.1 unless told otherwise, so
`CMD ["uvicorn", "main:app"]` builds an image that works in `docker exec curl` and answers
"connection reset" or "empty reply" to everyone else.
""",
    fix="Listen on all interfaces inside the container: --bind 0.0.0.0:8000 / --host 0.0.0.0.",
    bad='CMD ["uvicorn", "main:app", "--port", "8000"]',
    good='CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]',
)
def container_listens_on_loopback(project: Project) -> Iterable[Hit]:
    seen: set[tuple[str, int]] = set()
    for container, launches in container_launches(project):
        for served in judged(launches):
            for listen in listens(project, served):
                if listen.loopback and (listen.rel, listen.line) not in seen:
                    seen.add((listen.rel, listen.line))
                    yield Hit(
                        listen.line,
                        f"the server listens on {listen.host}:{listen.port} ({listen.said_by}) "
                        f"inside a container ({container}): nothing outside it can connect",
                        path=listen.rel,
                    )


# --- PR917 -------------------------------------------------------------------------------------


@rule(
    "PR917",
    "published-port-not-served",
    title="compose publishes a container port the app does not listen on",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
`ports: ["80:5000"]` forwards to port 5000 inside the container; if gunicorn binds 8000 there,
every connection is refused (or reset) although the container is "up" and healthy from the
inside. The port mapping lives in the compose file, the bind in the Dockerfile, a start
script or the gunicorn config, and they drift apart when one of them changes.
""",
    fix="Make the container side of `ports:` the port the server binds (or change the bind).",
    bad='ports: ["80:5000"]   # CMD gunicorn --bind 0.0.0.0:8000 app:app',
    good='ports: ["80:8000"]',
)
def published_port_not_served(project: Project) -> Iterable[Hit]:
    for compose in production_compose(project):
        for service in compose.services:
            if not runs_app(project, compose, service):
                continue
            served = judged(service_launches(project, compose, service))
            ports = ports_of(project, served) if served else None
            if not ports:
                continue
            for published in service.ports():
                if published.container is not None and published.container not in ports:
                    yield Hit(
                        published.line,
                        f"service {service.name} publishes container port {published.container}, "
                        f"but the app listens on {_listed(ports)}",
                        path=compose.rel,
                    )


# --- PR918 -------------------------------------------------------------------------------------


@rule(
    "PR918",
    "healthcheck-port-not-served",
    title="A healthcheck calls a port the app does not listen on",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
A healthcheck that requests http://localhost:5000/health in a container whose server binds
8000 fails on every probe: the container is marked unhealthy, `depends_on: service_healthy`
never starts what waits on it, and an orchestrator restarts a working app in a loop. Typical
after moving from `app.run()` (port 5000) to gunicorn (8000) without touching the HEALTHCHECK.
""",
    fix="Probe the port the server binds.",
    bad="HEALTHCHECK CMD curl -f http://localhost:5000/health   # gunicorn binds :8000",
    good="HEALTHCHECK CMD curl -f http://localhost:8000/health",
)
def healthcheck_port_not_served(project: Project) -> Iterable[Hit]:
    for rel, line, text, ports in _healthchecks_with_ports(project):
        for match in LOCAL_URL_PORT.finditer(text):
            port = int(match["port"]) if match["port"] else 80
            if port not in ports:
                yield Hit(
                    line,
                    f"healthcheck calls port {port}, but the app listens on {_listed(ports)}",
                    path=rel,
                )


def _healthchecks_with_ports(project: Project) -> Iterator[tuple[str, int, str, dict[int, str]]]:
    """(file, line, command, ports the checked container listens on) for each healthcheck
    whose container's ports are all known."""
    dockerfile_ports: dict[str, dict[int, str] | None] = {}
    for container, launches in container_launches(project):
        if container.startswith("service "):
            continue
        dockerfile_ports[container] = ports_of(project, judged(launches)) if launches else None
    for dockerfile in project.dockerfiles:
        check = next(reversed(instructions(built_lineage(dockerfile), "HEALTHCHECK")), None)
        ports = dockerfile_ports.get(dockerfile.rel)
        if check is not None and ports:
            yield dockerfile.rel, check.line, check.value, ports
    for compose in production_compose(project):
        for service in compose.services:
            test = service.healthcheck_test()
            if not test or not runs_app(project, compose, service):
                continue
            served = judged(service_launches(project, compose, service))
            ports = ports_of(project, served) if served else None
            if ports:
                yield compose.rel, test[1], " ".join(test[0]), ports


def _listed(ports: dict[int, str]) -> str:
    return ", ".join(f"{port} ({why})" for port, why in sorted(ports.items()))


# --- PR921 -------------------------------------------------------------------------------------

PORT_VARIABLE = re.compile(r"\$\{?PORT\b")


@rule(
    "PR921",
    "procfile-ignores-port",
    title="The Procfile's web process does not listen on $PORT",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
Platforms that run a Procfile (Heroku, Dokku, Scalingo, Render's buildpacks) tell the web
process which port to use in $PORT and route traffic only there. A web process bound to a
fixed port, or to 127.0.0.1, is never reached: Heroku kills it after 60 s with "R10 Boot
timeout" and the deploy fails. Gunicorn reads $PORT by itself when no bind is given; uvicorn,
granian, hypercorn and `flask run` do not.
""",
    fix="""
Listen on 0.0.0.0:$PORT.
gunicorn app:app (no --bind), or uvicorn main:app --host 0.0.0.0 --port $PORT
""",
    bad="web: uvicorn main:app --host 0.0.0.0 --port 8000",
    good="web: uvicorn main:app --host 0.0.0.0 --port $PORT",
)
def procfile_ignores_port(project: Project) -> Iterable[Hit]:
    procfile = launches_in(project, "procfile")
    for served in judged(procfile):
        if served.launch.context != "web" or served.launch.dev_only:
            continue
        problem = _port_problem(project, served)
        if problem:
            rel, line, text = problem
            yield Hit(line, f"Procfile web process: {text}", path=rel)


def _port_problem(project: Project, served: Served) -> tuple[str, int, str] | None:
    at = (served.launch.rel, served.launch.line)
    if served.server.program == "gunicorn":
        setup = gunicorn_setup(project, served)
        found = setup.setting("bind") if setup else None
        if found is None:
            return None  # gunicorn binds 0.0.0.0:$PORT by itself
        value, rel, line = found
        text = " ".join(map(str, value)) if isinstance(value, list) else str(value)
        if value is None or PORT_VARIABLE.search(text):
            return None  # computed in the config, or from $PORT
        return (
            rel,
            line,
            f"gunicorn binds {text}, not $PORT: the platform never routes to it",
        )
    argv = " ".join(served.server.argv)
    if PORT_VARIABLE.search(argv):
        return None
    for listen in listens(project, served):
        if listen.port is not None:
            return *at, (
                f"{served.server.program} listens on port {listen.port} ({listen.said_by}), "
                "not $PORT: the platform never routes to it"
            )
    return None


# --- PR922 -------------------------------------------------------------------------------------

PRIVILEGED_PORTS = 1024


@rule(
    "PR922",
    "privileged-port-as-user",
    title="A systemd service binds a port below 1024 as an unprivileged user",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
On a host, only root (or a process with CAP_NET_BIND_SERVICE) may listen on ports below 1024.
A unit that rightly runs the app as `User=www-data` but binds 0.0.0.0:80 fails at every start
with "Permission denied" and, with Restart=, loops until systemd gives up. (Containers allow
it since Docker 20.10; a host does not.)
""",
    fix="""
Bind a high port behind nginx (127.0.0.1:8000), use a systemd .socket unit, or grant
AmbientCapabilities=CAP_NET_BIND_SERVICE.
""",
    bad="[Service]\nUser=www-data\nExecStart=/srv/app/.venv/bin/gunicorn -b 0.0.0.0:80 app",
    good="[Service]\nUser=www-data\nExecStart=/srv/app/.venv/bin/gunicorn -b 127.0.0.1:8000 app",
)
def privileged_port_as_user(project: Project) -> Iterable[Hit]:
    sockets = {
        u.rel.removesuffix(".socket") for u in project.systemd_units if u.rel.endswith(".socket")
    }
    for unit in project.systemd_units:
        user = unit.value("Service", "User", "root")
        capabilities = unit.value("Service", "AmbientCapabilities")
        if user in ("root", "0") or "CAP_NET_BIND_SERVICE" in capabilities:
            continue
        if unit.rel.removesuffix(".service") in sockets:
            continue  # socket-activated: systemd binds the port and passes it on
        launches = launches_in(project, "systemd", unit.rel)
        for served in judged(launches):
            for listen in listens(project, served):
                if listen.port is not None and 0 < listen.port < PRIVILEGED_PORTS:
                    yield Hit(
                        listen.line,
                        f"the service runs as User={user} but listens on port {listen.port} "
                        f"({listen.said_by}): binding fails with Permission denied",
                        path=listen.rel,
                    )

"""Cross-file rules (PR901-PR949): how the code, the launch commands and the deployment files
fit together. Each reads the whole Project and names the file and line to change."""

from __future__ import annotations

import posixpath
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from prodready.check.model import Edit, Fix, Hit, Severity
from prodready.check.registry import rule
from prodready.check.rules._common import debug_setting, env_file_secrets
from prodready.check.rules.crossfile_facts import (
    LOOPBACK,
    GunicornSetup,
    Served,
    app_services,
    app_sockets,
    compose_dir,
    container_launches,
    dockerfile_of,
    env_settings,
    find_file,
    gunicorn_setup,
    gunicorn_setups,
    inherited,
    judged,
    launches_in,
    module_for_script,
    modules_named,
    ports_of,
    production_compose,
    production_healthchecks,
    production_nginx,
    production_servers,
    proxy_targets,
    service_launches,
    socket_targets,
    workers_of,
)
from prodready.project.files import ENV_EXAMPLE, project_text
from prodready.project.images import image_lacks, installs, root_image
from prodready.project.model import FileKind, ModuleSummary, PoolSetting, Project
from prodready.project.parsers.commands import option_value, unwrap
from prodready.project.parsers.compose import ComposeFile, ComposeService, PublishedPort
from prodready.project.parsers.dockerfile import Dockerfile, built_lineage, instructions
from prodready.project.parsers.nginx import Directive
from prodready.project.pool import (
    POSTGRES_DEFAULT_MAX_CONNECTIONS,
    connection_budget,
    per_process_connections,
    production_pools,
)

KIND = "project"


def _is_dev(project: Project, rel: str) -> bool:
    source = project.file(rel)
    return bool(source and source.dev_only)


def _production_modules(project: Project) -> Iterator[ModuleSummary]:
    for summary in project.modules.values():
        if not _is_dev(project, summary.rel):
            yield summary


# --- PR901 -------------------------------------------------------------------------------------


@rule(
    "PR901",
    "dev-server-in-production",
    title="The production command runs a development server",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
The command that really starts the app in production (Dockerfile CMD/ENTRYPOINT, compose
`command:`, systemd ExecStart, Procfile, start scripts) decides what serves it, whatever the
README says. `python app.py` reaching `app.run()`, `flask run` and `manage.py runserver` start
Werkzeug's or Django's development server: one process, no worker management, no request
timeouts, not hardened ("do not use it in a production deployment", says the Flask doc), and
with debug on, the Werkzeug debugger executes any Python sent to it. `uvicorn --reload` and
`fastapi dev` watch files and restart, with one worker. A classic: a start script that falls
through to its development branch because APP_ENV is misspelt.
""",
    fix="""
Start a production server (gunicorn, uvicorn without --reload, or `prodready serve`).
Flask/Django: gunicorn --bind 0.0.0.0:8000 app:app
FastAPI: gunicorn -k uvicorn_worker.UvicornWorker main:app, or uvicorn main:app --workers 4
""",
    bad='CMD ["python", "app.py"]   # app.py: if __name__ == "__main__": app.run(debug=True)',
    good='CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]',
)
def dev_server_in_production(project: Project) -> Iterable[Hit]:
    for served in production_servers(project):
        reason, severity = served.server.dev_server, None
        if not reason:
            reason, severity = _script_dev_server(project, served) or (None, None)
        if reason:
            yield Hit(
                served.launch.line,
                f"{served.what} runs `{served.command}`: {reason}",
                path=served.launch.rel,
                severity=severity,
            )


ASYNC_SERVERS = ("eventlet", "gevent")
"""With one of these installed, socketio.run() serves with it instead of Werkzeug."""


def _script_dev_server(project: Project, served: Served) -> tuple[str, Severity | None] | None:
    """`python app.py` whose module starts a development server: Werkzeug's (app.run,
    socketio.run without eventlet or gevent) is an error; a lone uvicorn.run() process (no
    workers, no supervision of them, nothing restarts it in place) a warning."""
    if served.server.script is None:
        return None
    summary = module_for_script(project, served.server.script)
    if summary is None:
        return None
    for call in summary.run_calls:
        where = f"{call.callee}() at {call.rel}:{call.line}"
        last = call.callee.rsplit(".", 1)[-1]
        if call.callee.startswith("uvicorn"):
            if call.kwargs.get("reload") is True:
                return f"it reaches {where} with reload=True, uvicorn's development mode", None
            workers = call.kwargs.get("workers")
            if (isinstance(workers, int) and workers > 1) or (
                "workers" in call.kwargs and workers is None
            ):
                continue  # uvicorn supervises its workers itself, however many the operator sets
            return (
                f"it reaches {where}: one uvicorn process started from code, with no worker "
                "processes and nothing to replace one that hangs",
                Severity.WARNING,
            )
        if call.callee.startswith("socketio"):
            if call.kwargs.get("debug") is True:
                return f"it reaches {where} with debug=True: the debugger is on", None
            if project.has_dependency(*ASYNC_SERVERS):
                continue
            return (
                f"it reaches {where}, which serves with Werkzeug's development server "
                "(neither eventlet nor gevent is a dependency)",
                None,
            )
        debug = " with the debugger on" if call.kwargs.get("debug") is True else ""
        if last in ("run", "run_simple", "run_server"):
            return f"it reaches {where}, Werkzeug's development server{debug}", None
    return None


# --- PR902 -------------------------------------------------------------------------------------


@rule(
    "PR902",
    "launch-target-missing",
    title="The production command names an app that does not exist",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
`gunicorn wsgi:application` imports module `wsgi` and looks up `application` when it boots:
a renamed module, a factory called `create_app` while the command says `app`, or a script
path left over from an old layout makes every worker fail at start, and the container
restarts in a loop. Nothing catches it before the deploy, because tests import the app
their own way.
""",
    fix="""
Name a module and attribute that exist (module:attr, or module:factory() for a factory).
Or set --chdir / WORKDIR so the module is importable from where the server starts.
""",
    bad='CMD ["gunicorn", "wsgi:application"]   # wsgi.py defines `app`',
    good='CMD ["gunicorn", "wsgi:app"]',
)
def launch_target_missing(project: Project) -> Iterable[Hit]:
    if not project.modules:
        return
    for served in production_servers(project):
        problem = (
            _missing_script(project, served)
            or _missing_config(project, served)
            or _missing_target(project, served)
        )
        if problem:
            yield Hit(
                served.launch.line,
                f"{served.what} runs `{served.command}`: {problem}",
                path=served.launch.rel,
            )


def _missing_script(project: Project, served: Served) -> str | None:
    script = served.server.script
    if script is None or "$" in script or script.endswith("manage.py"):
        return None
    if find_file(project, script, FileKind.PYTHON) is None:
        return f"there is no {posixpath.basename(script)} in the project"
    return None


def _missing_config(project: Project, served: Served) -> str | None:
    """`gunicorn -c deploy/gunicorn.conf.py` naming a config file the project does not have."""
    setup = gunicorn_setup(project, served)
    named = setup.options.value("config") if setup else None
    if not isinstance(named, str) or not named.endswith(".py") or "$" in named:
        return None
    if setup.config is None and find_file(project, named) is None:
        return f"there is no {posixpath.basename(named)} (its -c config) in the project"
    return None


def _missing_target(project: Project, served: Served) -> str | None:
    target = served.server.app_target
    if not target or ":" not in target or "$" in target:
        return None
    module, _, attr = target.partition(":")
    name = attr.split("(", 1)[0].split(".", 1)[0]
    candidates = modules_named(project, module)
    if not candidates:
        top = module.split(".", 1)[0].replace("_", "-").lower()
        if project.has_dependency(top, module.split(".", 1)[0].lower()):
            return None  # an installed package's app
        return f"no module {module} in the project (looked for {module.replace('.', '/')}.py)"
    for summary in candidates:
        names = summary.top_level_names
        if summary.syntax_error or name in names or {"*", "__getattr__"} & names:
            return None
    found = sorted(
        n
        for summary in candidates
        for n in summary.top_level_names
        if n in {a.attr for a in summary.apps} or n in ("app", "application", "create_app")
    )
    hint = f" (it has {', '.join(found)})" if found else ""
    return f"{candidates[0].rel} defines no `{name}`{hint}"


# --- PR903 -------------------------------------------------------------------------------------

LOCAL_URL = re.compile(
    r"https?://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\]|\$\{?HOSTNAME\}?)(?::[\w${}:-]+)?"
    r"(?P<path>/[^\s'\"\\)]*)?"
)
HEALTH_LIBRARIES = frozenset(
    {"health_check", "healthcheck", "flask_healthz", "fastapi_health", "django_health"}
)
RUNTIME_KIT_ROUTES = frozenset({"/health", "/health/live", "/health/ready", "/metrics"})
"""Served by prodready.runtime's Production(app) in any app that imports it (default paths)."""
ROUTE_PARAM = re.compile(r"<[^>]+>|\{[^}]+\}")
BUILTIN_ROUTES = {
    "fastapi": ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"),
    "flask": ("/static/<path:filename>",),
}


@rule(
    "PR903",
    "healthcheck-route-missing",
    title="A healthcheck calls a route the app does not have",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
A Docker or compose healthcheck that requests `/healthz` from an app that only has `/health`
gets a 404 on every probe: the container is marked unhealthy forever, `depends_on:
service_healthy` never starts what waits for it, and an orchestrator restarts a working
app in a loop. The probe and the routes live in different files, written at different times.
""",
    fix="Point the healthcheck at a route the app serves, or add that route.",
    bad='test: ["CMD", "curl", "-f", "http://localhost:8000/healthz"]   # app has /health',
    good='healthcheck:\n  test: ["CMD", "curl", "-f", "http://localhost:8000/health"]',
)
def healthcheck_route_missing(project: Project) -> Iterable[Hit]:
    if not _routes_known(project):
        return
    for rel, line, text in production_healthchecks(project):
        for match in LOCAL_URL.finditer(text):
            path = (match["path"] or "/").split("?", 1)[0]
            if _uses_runtime_kit(project) and path.rstrip("/") in RUNTIME_KIT_ROUTES:
                continue
            probe = RUN_TIME_PREFIX.sub("/", path)  # /${CONTEXT_PATH}health: the tail is routed
            if not _routed(project, probe) and not _mentioned_in_code(project, probe):
                yield Hit(
                    line,
                    f"healthcheck requests {path}, but no route of the app serves it "
                    f"(routes: {_route_list(project)})",
                    path=rel,
                )


RUN_TIME_PREFIX = re.compile(r"\$\{\w+(?::?[-=?+][^}]*)?\}|\$\w+")
"""A variable in a probed path (`/${LD_CONTEXT_PATH}health`): a prefix set at run time."""


def _uses_runtime_kit(project: Project) -> bool:
    return any("prodready" in summary.imports for summary in project.modules.values())


def _routes_known(project: Project) -> bool:
    if not project.routes:
        return False
    for summary in project.modules.values():
        if summary.imports & HEALTH_LIBRARIES:
            return False
        for _, route, included in summary.url_patterns:
            if included and not modules_named(project, included) and not route.strip("^/$"):
                return False  # an external urls module included at the root
    return not any("<path:" in r.path or ":path}" in r.path for r in project.routes)


def _routed(project: Project, path: str) -> bool:
    """A route serves the path, or its tail: a router mounted under a prefix computed at run
    time (`prefix=settings.API_V1_STR`) shows in the routes without that prefix."""
    wanted = [part for part in path.strip("/").split("/") if part]
    builtin = BUILTIN_ROUTES.get(project.framework or "", ())
    for pattern in [*builtin, *(r.path for r in project.routes)]:
        parts = [part for part in pattern.strip("/").split("/") if part]
        if parts == wanted or (parts and _route_matches(parts, wanted[-len(parts) :])):
            return True
    return any(  # Django's admin/ and other included URL sets
        route.handler == "django"
        and route.path.strip("/")
        and "/".join(wanted).startswith(route.path.strip("/") + "/")
        for route in project.routes
    )


def _route_matches(parts: list[str], wanted: list[str]) -> bool:
    return len(parts) == len(wanted) and all(
        re.fullmatch("[^/]+".join(re.escape(p) for p in ROUTE_PARAM.split(part)), have)
        for part, have in zip(parts, wanted, strict=True)
    )


def _mentioned_in_code(project: Project, path: str) -> bool:
    """The path written as a string somewhere in the code (add_url_rule, middleware ...)."""
    needle = path.strip("/")
    if not needle:
        return False
    quoted = re.compile(rf"[\"']/?{re.escape(needle)}/?[\"']")
    for summary in _production_modules(project):
        text = project_text(project, summary.rel)
        if text and quoted.search(text):
            return True
    return False


def _route_list(project: Project) -> str:
    paths = sorted({r.path for r in project.routes})
    return ", ".join(paths[:6]) + (", ..." if len(paths) > 6 else "")


# --- PR904 -------------------------------------------------------------------------------------

HTTP_TOOLS = ("curl", "wget")


@rule(
    "PR904",
    "compose-healthcheck-tool-missing",
    title="A compose healthcheck uses curl or wget the image does not have",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
`python:3.x-slim`, distroless and alpine (no curl) images do not ship curl or wget. A compose
healthcheck running `curl -f http://localhost:8000/health` in such a container fails with
"executable file not found" on every probe: the service is marked unhealthy, dependants
waiting on `service_healthy` never start, and the logs say nothing about the app. The
healthcheck is in the compose file; the base image in the Dockerfile.
""",
    fix="""
Probe with Python, which the image has, or install curl in the Dockerfile.
test: ["CMD", "python", "-c",
       "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=3)"]
""",
    bad='build: .   # FROM python:3.12-slim\nhealthcheck:\n  test: ["CMD", "curl", "-f", "http://localhost:8000/health"]',
    good=(
        'test: ["CMD", "python", "-c", "import urllib.request; '
        "urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=3)\"]"
    ),
)
def compose_healthcheck_tool_missing(project: Project) -> Iterable[Hit]:
    for compose in production_compose(project):
        for service in compose.services:
            test = service.healthcheck_test()
            if not test:
                continue
            used = _programs(test[0]) & set(HTTP_TOOLS)
            for tool in sorted(used):
                image = _lacks(project, compose, service, tool)
                if image:
                    yield Hit(
                        test[1],
                        f"healthcheck of service {service.name} runs {tool}, but its image "
                        f"({image}) does not have it: every probe fails",
                        path=compose.rel,
                    )


def _programs(argv: list[str]) -> set[str]:
    """The programs a healthcheck runs (`sh -c "a && b"` unwrapped)."""
    return {simple[0].rsplit("/", 1)[-1] for simple in unwrap(argv) if simple}


def _lacks(
    project: Project, compose: ComposeFile, service: ComposeService, tool: str
) -> str | None:
    """The image (as written) when it is known to lack `tool`."""
    dockerfile = dockerfile_of(project, compose, service)
    if dockerfile is not None and dockerfile.final is not None:
        stages = built_lineage(dockerfile)
        image = root_image(dockerfile, stages[-1])
        if tool in image_lacks(image) and not installs(stages, tool):
            return f"built from {image} in {dockerfile.rel}"
        return None
    if service.builds or not service.image:
        return None
    return service.image if tool in image_lacks(service.image) else None


# --- PR905 -------------------------------------------------------------------------------------


@rule(
    "PR905",
    "proxy-port-mismatch",
    title="nginx proxies to a port or socket the app does not listen on",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
nginx's proxy_pass (or upstream server) names a port or a unix socket; the app's bind is set
somewhere else (the gunicorn config, the command line, EXPOSE, compose, a systemd .socket
unit). When they drift apart, after someone changes one of them, every request gets a 502 Bad
Gateway while the app itself looks healthy from inside its container.
""",
    fix="Make the proxy_pass/upstream address and the app's bind the same.",
    bad="upstream app { server web:8080; }   # gunicorn --bind 0.0.0.0:8000 (or another socket)",
    good="upstream app { server web:8000; }",
)
def proxy_port_mismatch(project: Project) -> Iterable[Hit]:
    """One finding per nginx file and wrong address, however many locations proxy to it."""
    sockets = app_sockets(project)
    for conf in production_nginx(project):
        wrong: dict[str, list[int]] = {}
        for at, path in socket_targets(conf):
            if sockets and not any(_same_socket(path, listened) for listened in sockets):
                listed = ", ".join(f"{p} ({why})" for p, why in sorted(sockets.items()))
                key = f"nginx sends requests to unix:{path}, but the app listens on {listed}"
                wrong.setdefault(key, []).append(at.line)
        for target in proxy_targets(conf):
            ports = _listening_ports(project, target.host)
            if ports and target.port not in ports:
                listed = ", ".join(f"{port} ({why})" for port, why in sorted(ports.items()))
                key = (
                    f"nginx sends requests to {target.host}:{target.port}, but the app listens "
                    f"on {listed}"
                )
                wrong.setdefault(key, []).append(target.at.line)
        for message, lines in wrong.items():
            yield Hit(min(lines), message + also_at(lines), path=conf.rel)


def also_at(lines: list[int]) -> str:
    """` (also lines 12, 18)`: the other places nginx shows one root cause through."""
    others = sorted(set(lines) - {min(lines)})
    if not others:
        return ""
    return f" (also line{'s' if len(others) > 1 else ''} {', '.join(map(str, others))})"


def _same_socket(path: str, listened: str) -> bool:
    """Whether nginx's socket path is the one a bind names; a systemd template unit's path
    (ListenStream=/run/app/%i.sock) stands for every instance (/run/app/blue.sock)."""
    if "%" not in listened:
        return path == listened
    pattern = "".join(
        "%" if part == "%%" else "[^/]+" if part.startswith("%") else re.escape(part)
        for part in re.split(r"(%%|%[A-Za-z])", listened)
    )
    return re.fullmatch(pattern, path) is not None


def _listening_ports(project: Project, host: str) -> dict[int, str]:
    """The ports the app behind `host` listens on, with what says so (empty: unknown)."""
    if host in LOOPBACK:
        ports = ports_of(project, production_servers(project)) or {}
        for _, service in app_services(project):
            for port in service.ports():
                if port.host and port.host.isdigit():
                    ports.setdefault(int(port.host), f"published by {service.name}")
        return ports
    found = _app_service(project, host)
    if found is None:
        return {}
    compose, service = found
    served = judged(service_launches(project, compose, service))
    if served:
        return ports_of(project, served) or {}
    dockerfile = dockerfile_of(project, compose, service)
    ports: dict[int, str] = {}
    for inst in instructions(built_lineage(dockerfile), "EXPOSE") if dockerfile else []:
        for word in inst.args:
            if word.split("/")[0].isdigit():
                ports[int(word.split("/")[0])] = f"EXPOSE ({dockerfile.rel}:{inst.line})"
    return ports


# --- PR906 -------------------------------------------------------------------------------------


@rule(
    "PR906",
    "app-port-beside-proxy",
    title="The app's port is published beside the reverse proxy",
    severity=Severity.WARNING,
    kind=KIND,
    why="""
When compose publishes nginx on 80/443 and also the app's own port (`5000:5000`), clients can
talk to the app directly and skip everything the proxy is there for: TLS, security headers,
rate and body-size limits, access logs, and the X-Forwarded-* headers the app may trust.
Docker's published ports also bypass host firewalls such as ufw.
""",
    fix="Remove the app's `ports:` (nginx reaches it over the compose network) or bind 127.0.0.1.",
    bad='api:\n  ports: ["5000:5000"]\nnginx:\n  ports: ["80:80"]',
    good='api:\n  expose: ["5000"]\nnginx:\n  ports: ["80:80"]',
)
def app_port_beside_proxy(project: Project) -> Iterable[Hit]:
    for compose in production_compose(project):
        proxies = [s for s in compose.services if s.is_proxy and _published(s)]
        for proxy in proxies:
            for app_compose, service in app_services(project):
                if app_compose is not compose or service is proxy:
                    continue
                if not _proxies_to(project, proxy, service.name):
                    continue
                for port in _published(service):
                    yield Hit(
                        port.line,
                        f"service {service.name} publishes port {port.host} beside "
                        f"{proxy.name}, which proxies to it: clients can bypass the proxy",
                        path=compose.rel,
                        fix=_loopback_fix(compose.rel, port),
                    )


def _loopback_fix(rel: str, port: PublishedPort) -> Fix | None:
    """`"5000:5000"` -> `"127.0.0.1:5000:5000"`: the host can still reach it, nobody else."""
    if port.host_ip is not None or port.host is None or port.container is None:
        return None
    old = f"{port.host}:{port.container}"
    return Fix(
        f"publish {old} on 127.0.0.1 only",
        (Edit(rel, port.line, old, f"127.0.0.1:{old}"),),
        safe=False,
    )


def _published(service: ComposeService) -> list[PublishedPort]:
    return [p for p in service.ports() if p.published]


def _proxies_to(project: Project, proxy: ComposeService, name: str) -> bool:
    depends = proxy.data.get("depends_on") or []
    if name in depends:
        return True
    return any(
        target.host == name for conf in production_nginx(project) for target in proxy_targets(conf)
    )


# --- PR907 -------------------------------------------------------------------------------------

MAX_CONNECTIONS = re.compile(r"max_connections\s*=\s*(\d+)")


@rule(
    "PR907",
    "pool-exceeds-max-connections",
    title="Workers x connection pool exceed PostgreSQL's max_connections",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
Each Gunicorn (or uvicorn) worker is a process with its own SQLAlchemy pool: up to
pool_size + max_overflow connections (5 + 10 by default). 4 workers x (20 + 30) = 200
connections against PostgreSQL's default max_connections of 100: under load the database
refuses new connections ("FATAL: sorry, too many clients already") and requests fail, while
every single setting looks reasonable in its own file. Deploys make it worse: old and new
workers overlap. A worker holds the pools of the code the served app imports; a script or a
task worker that creates its own engine is a process of its own and is not added.
""",
    fix="""
Keep workers x (pool_size + max_overflow) below max_connections, with headroom.
Or put PgBouncer in front, or raise max_connections (`postgres -c max_connections=N`).
""",
    bad="engine = create_engine(url, pool_size=20, max_overflow=30)   # gunicorn workers = 4",
    good="engine = create_engine(url, pool_size=5, max_overflow=5)    # 4 x 10 = 40 < 100",
)
def pool_exceeds_max_connections(project: Project) -> Iterable[Hit]:
    if not project.uses_service("postgresql"):
        return
    pools = production_pools(project)
    if not pools:
        return
    workers = _max_workers(project)
    if workers is None:
        return
    count, said_by = workers
    per_process = per_process_connections(pools)
    limit, limit_by = _max_connections(project)
    budget = connection_budget(limit, count, headroom=0)
    if not budget.fits(per_process):
        first = pools[0]
        yield Hit(
            first.line,
            f"{count} workers ({said_by}) x {per_process} connections per process "
            f"({_pool_text(pools)}) = {count * per_process} > PostgreSQL max_connections "
            f"{limit} ({limit_by}) less {budget.reserved} reserved for superusers",
            path=first.rel,
        )


def _pool_text(pools: list[PoolSetting]) -> str:
    return " + ".join(
        f"pool_size {p.pool_size if p.pool_size is not None else '5 (default)'} + "
        f"max_overflow {p.max_overflow if p.max_overflow is not None else '10 (default)'}"
        for p in pools
    )


def _max_workers(project: Project) -> tuple[int, str] | None:
    found = [w for s in production_servers(project) if (w := workers_of(project, s))]
    return max(found, key=lambda w: w[0]) if found else None


def _max_connections(project: Project) -> tuple[int, str]:
    for compose in production_compose(project):
        for service in compose.services:
            if service.database_kind != "postgresql":
                continue
            command = " ".join(service.command_argv() or [])
            if match := MAX_CONNECTIONS.search(command):
                line = service.data.line_of("command")
                return int(match.group(1)), f"{compose.rel}:{line}"
            for name, value, line in service.environment():
                if name.endswith("MAX_CONNECTIONS") and value and value.isdigit():
                    return int(value), f"{compose.rel}:{line}"
    return POSTGRES_DEFAULT_MAX_CONNECTIONS, "PostgreSQL's default"


# --- PR908 -------------------------------------------------------------------------------------

NGINX_DEFAULT_READ_TIMEOUT = 60
COMPOSE_DEFAULT_STOP = 10
SYSTEMD_DEFAULT_STOP = 90
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|h|min|m|s)?")


@rule(
    "PR908",
    "timeouts-do-not-fit",
    title="Timeouts across proxy, server and supervisor do not fit",
    severity=Severity.WARNING,
    kind=KIND,
    why="""
A request passes several clocks set in different files. nginx's proxy_read_timeout (60 s by
default) shorter than Gunicorn's timeout means nginx answers 504 to requests Gunicorn would
have finished (and the work goes on unseen). Gunicorn's graceful_timeout (30 s by default)
longer than the supervisor's stop timeout (compose stop_grace_period 10 s by default, systemd
TimeoutStopSec 90 s) means every deploy SIGKILLs workers in the middle of requests, the very
thing the graceful timeout was set for.
""",
    fix="""
Order them: proxy_read_timeout >= gunicorn timeout; stop timeout > graceful_timeout.
The stop timeout is compose stop_grace_period or systemd TimeoutStopSec; add a few seconds.
""",
    bad="proxy_read_timeout 30s;   # gunicorn timeout = 120",
    good="proxy_read_timeout 130s;  # gunicorn timeout = 120",
)
def timeouts_do_not_fit(project: Project) -> Iterable[Hit]:
    yield from _proxy_cuts_before_server(project)
    yield from _stop_before_graceful(project)


def _proxy_cuts_before_server(project: Project) -> Iterator[Hit]:
    timeouts = []
    for setup in gunicorn_setups(project):
        found = setup.setting("timeout")
        if found is not None and isinstance(found[0], int | float) and found[0] > 0:
            timeouts.append((found[0], f"{found[1]}:{found[2]}"))
    if not timeouts:
        return
    gunicorn_timeout, where = max(timeouts)
    for conf in production_nginx(project):
        short: dict[tuple[float, str], list[int]] = {}
        for target in proxy_targets(conf):
            if not target.loopback and not _is_app_service(project, target.host):
                continue
            setting = inherited(target.proxy_pass, "proxy_read_timeout")
            seconds = _seconds(setting.args[0]) if setting and setting.args else None
            read = seconds if seconds is not None else NGINX_DEFAULT_READ_TIMEOUT
            at = setting or target.proxy_pass
            if read < gunicorn_timeout:
                said = "" if setting else " (nginx's default)"
                short.setdefault((read, said), []).append(at.line)
        for (read, said), lines in short.items():
            yield Hit(
                min(lines),
                f"nginx proxy_read_timeout {_fmt(read)}{said} < gunicorn timeout "
                f"{_fmt(gunicorn_timeout)} ({where}): nginx answers 504 to requests "
                f"gunicorn would finish{also_at(lines)}",
                path=conf.rel,
            )


def _is_app_service(project: Project, host: str) -> bool:
    return _app_service(project, host) is not None


def _app_service(project: Project, name: str) -> tuple[ComposeFile, ComposeService] | None:
    return next(((c, s) for c, s in app_services(project) if s.name == name), None)


def _stop_before_graceful(project: Project) -> Iterator[Hit]:
    for compose in production_compose(project):
        for service in compose.services:
            launches = service_launches(project, compose, service)
            for setup in gunicorn_setups(project, judged(launches)):
                raw = service.data.get("stop_grace_period")
                stop = _seconds(str(raw)) if raw is not None else None
                given = raw is not None and stop is not None
                yield from _graceful_hit(
                    setup,
                    stop if given else COMPOSE_DEFAULT_STOP,
                    f"compose stop_grace_period of service {service.name}",
                    (compose.rel, service.data.line_of("stop_grace_period"))
                    if given
                    else (compose.rel, service.line),
                    given,
                )
    for unit in project.systemd_units:
        launches = launches_in(project, "systemd", unit.rel)
        for setup in gunicorn_setups(project, judged(launches)):
            setting = unit.get("Service", "TimeoutStopSec") or unit.get("Service", "TimeoutSec")
            stop = _seconds(setting.value) if setting else None
            given = setting is not None and stop is not None
            yield from _graceful_hit(
                setup,
                stop if given else SYSTEMD_DEFAULT_STOP,
                "systemd TimeoutStopSec",
                (unit.rel, setting.line if setting else launches[0].line),
                given,
            )


def _graceful_hit(
    setup: GunicornSetup,
    stop: float,
    stop_name: str,
    stop_at: tuple[str, int],
    given: bool,
) -> Iterator[Hit]:
    graceful = setup.setting("graceful_timeout")
    if not given and graceful is None:
        return  # both defaults: nobody chose either value, so no mismatch to point at
    value = graceful[0] if graceful and isinstance(graceful[0], int | float) else 30
    if stop >= value:
        return
    stop_text = f"{stop_name} {_fmt(stop)}{'' if given else ' (default)'}"
    graceful_text = (
        f"gunicorn graceful_timeout {_fmt(value)} ({graceful[1]}:{graceful[2]})"
        if graceful
        else "gunicorn graceful_timeout 30 s (default)"
    )
    rel, line = stop_at if given or not graceful else (graceful[1], graceful[2])
    yield Hit(
        line,
        f"{stop_text} < {graceful_text}: workers are killed in the middle of requests on "
        "every stop or deploy",
        path=rel,
    )


def _seconds(text: str) -> float | None:
    """`30s`, `1m30s`, `90`, `1min 30s`, `500ms` -> seconds; None for infinity or garbage."""
    text = text.strip().lower()
    if not text or text in ("infinity", "0"):
        return None
    total = 0.0
    matched = False
    for number, unit in DURATION_PART.findall(text):
        matched = True
        scale = {"ms": 0.001, "h": 3600, "min": 60, "m": 60}.get(unit, 1)
        total += float(number) * scale
    return total if matched else None


def _fmt(seconds: float) -> str:
    return f"{seconds:g} s"


# --- PR909 -------------------------------------------------------------------------------------


@rule(
    "PR909",
    "env-file-tracked",
    title="Committed env file holds secrets or turns debug on",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
An env file holds the real secrets of one environment. Once committed, every clone, fork,
CI log and backup of the repository has them, and deleting the file later does not remove
them from history: the secrets must be rotated. GitGuardian finds millions of secrets a year
in public commits, .env files among the most common. Judged by content, whatever the name:
a committed production env file that turns debug on is a warning; one that holds only
settings (`VITE_API_URL`) is fine; a development one counts only for real-looking
credentials (a real API key committed in `.env.development` leaks as well).
""",
    fix="""
`git rm --cached .env`, add it to .gitignore and rotate every secret it held.
Commit a `.env.example` with placeholders instead.
""",
    bad="$ git ls-files\n.env   # SECRET_KEY=...",
    good="$ git ls-files\n.env.example\n.gitignore   # contains .env",
)
def env_file_tracked(project: Project) -> Iterable[Hit]:
    if project.git_tracked is None:
        return
    for env in project.env_files:
        name = env.rel.rsplit("/", 1)[-1]
        if ENV_EXAMPLE.search(name) or env.rel not in project.git_tracked:
            continue
        pairs = [(v.name, v.value) for v in env.variables]
        secrets = env_file_secrets(pairs, real_only=_is_dev(project, env.rel))
        if secrets:
            listed = ", ".join(secrets[:4]) + (", ..." if len(secrets) > 4 else "")
            line = next(v.line for v in env.variables if v.name == secrets[0])
            yield Hit(
                line,
                f"{env.rel} is committed to git with secrets ({listed}): they are in every "
                "clone and in history",
                path=env.rel,
            )
            continue
        debug = (
            None
            if _is_dev(project, env.rel)
            else next(
                ((v, why) for v in env.variables if (why := debug_setting(v.name, v.value))), None
            )
        )
        if debug is not None:
            variable, why = debug
            yield Hit(
                variable.line,
                f"{env.rel} is committed to git and {why.split(' ', 1)[1]}: every deployment "
                "that uses the repository's copy runs in debug mode",
                path=env.rel,
                severity=Severity.WARNING,
            )


# --- PR910 -------------------------------------------------------------------------------------


@rule(
    "PR910",
    "env-file-in-image",
    title=".env copied into the image by COPY .",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
`COPY . .` copies the whole build context, and without a .dockerignore that excludes them,
the developer's or the CI's `.env` files go into an image layer. Anyone who can pull the
image (a registry, a customer, a leaked tarball) reads them with `docker save` or
`docker run --entrypoint cat`, even if a later layer deletes them.
""",
    fix="Exclude `.env` and `.env.*` (keep `!.env.example`) in .dockerignore.",
    bad="COPY . .   # no .dockerignore, .env beside the Dockerfile",
    good="# .dockerignore\n.env\n.env.*\n!.env.example",
)
def env_file_in_image(project: Project) -> Iterable[Hit]:
    for dockerfile in project.dockerfiles:
        if _is_dev(project, dockerfile.rel):
            continue
        for inst in instructions(built_lineage(dockerfile), "COPY", "ADD"):
            if "from" in inst.flags or not any(_whole_dir(a) for a in inst.args[:-1]):
                continue
            for context in _contexts(project, dockerfile):
                ignore_rel, patterns = _dockerignore(project, dockerfile, context)
                shipped = [
                    f"{env.rel} ({', '.join(secrets[:3])}{', ...' if len(secrets) > 3 else ''})"
                    for env in project.env_files
                    if _in_dir(env.rel, context)
                    and not ENV_EXAMPLE.search(env.rel.rsplit("/", 1)[-1])
                    and not _ignored(_relative(env.rel, context), patterns)
                    and (secrets := env_file_secrets((v.name, v.value) for v in env.variables))
                ]
                if shipped:
                    why = (
                        f"{ignore_rel} does not exclude it"
                        if ignore_rel
                        else "there is no .dockerignore"
                    )
                    yield Hit(
                        inst.line,
                        f"{inst.keyword} {' '.join(inst.args[:-1])} puts the secrets of "
                        f"{', '.join(shipped)} into the image: {why}",
                        path=dockerfile.rel,
                    )
                    break


def _whole_dir(source: str) -> bool:
    return source.rstrip("/") in (".", "", "*", "./*") or source in ("./", "/")


def _contexts(project: Project, dockerfile: Dockerfile) -> list[str]:
    """Build contexts the Dockerfile is used with: from compose `build:`, else its folder."""
    found = []
    for compose in production_compose(project):
        for service in compose.services:
            if dockerfile_of(project, compose, service) is dockerfile:
                build = service.data.get("build")
                context = build if isinstance(build, str) else str(build.get("context") or ".")
                found.append(posixpath.normpath(posixpath.join(compose_dir(compose), context)))
    return sorted(set(found)) or [posixpath.dirname(dockerfile.rel) or "."]


def _dockerignore(
    project: Project, dockerfile: Dockerfile, context: str
) -> tuple[str | None, list[str]]:
    """The ignore file Docker uses: `<Dockerfile>.dockerignore` beside it, else the context's."""
    for rel in (
        dockerfile.rel + ".dockerignore",
        posixpath.normpath(posixpath.join(context, ".dockerignore")),
    ):
        if rel in project.dockerignores:
            return rel, project.dockerignores[rel]
    return None, []


def _in_dir(rel: str, directory: str) -> bool:
    return directory in (".", "") or rel.startswith(directory.rstrip("/") + "/")


def _relative(rel: str, directory: str) -> str:
    return rel if directory in (".", "") else rel[len(directory.rstrip("/")) + 1 :]


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore semantics: the last matching pattern wins, `!` re-includes, a
    pattern matching a parent directory excludes everything below it."""
    ignored = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw[1:] if negate else raw
        pattern = posixpath.normpath(pattern.strip().lstrip("/")) if pattern.strip() else ""
        if pattern and _matches(pattern, path):
            ignored = not negate
    return ignored


def _matches(pattern: str, path: str) -> bool:
    regex = ""
    index = 0
    while index < len(pattern):
        if pattern.startswith("**", index):
            regex += ".*"
            index += 2
            if pattern.startswith("/", index):
                regex = regex[:-2] + "(?:.*/)?"
                index += 1
            continue
        char = pattern[index]
        regex += {"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char))
        index += 1
    parts = path.split("/")
    return any(re.fullmatch(regex, "/".join(parts[:n])) for n in range(1, len(parts) + 1))


# --- PR911 -------------------------------------------------------------------------------------


@rule(
    "PR911",
    "compose-mount-missing",
    title="compose mounts a file that does not exist",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
A bind mount whose host path does not exist is not an error to Docker: it creates an empty,
root-owned directory there and mounts it. A missing `./nginx.conf` becomes a directory at
`/etc/nginx/conf.d/default.conf` and the container fails with "not a directory", or a
missing config file silently leaves the app on its defaults. Usually the file was renamed,
moved, or never committed (it is in .gitignore).
""",
    fix="Fix the host path, or commit the file (or a template the deploy renders).",
    bad="volumes:\n  - ./config/local_settings.py:/app/local_settings.py:ro   # no such file",
    good="volumes:\n  - ./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro",
)
def compose_mount_missing(project: Project) -> Iterable[Hit]:
    for compose in production_compose(project):
        for service in compose.services:
            volumes = service.data.get("volumes") or []
            if not isinstance(volumes, list):
                continue
            for index, volume in enumerate(volumes):
                mount = _bind_mount(volume)
                if mount is None:
                    continue
                source, target = mount
                if not source.startswith(".") or "$" in source:
                    continue
                host = posixpath.normpath(posixpath.join(compose_dir(compose), source))
                if host.startswith("..") or (project.root / host).exists():
                    continue
                if (project.root / posixpath.normpath(source)).exists():
                    continue  # written for the root: run with --project-directory, or copied
                if _looks_like_file(source) or _looks_like_file(target):
                    line = volumes.line_of(index) if hasattr(volumes, "line_of") else service.line
                    effect = (
                        f"Docker creates an empty directory at {target} instead"
                        if isinstance(volume, str)
                        else "`docker compose up` fails (bind source path does not exist)"
                    )
                    yield Hit(
                        line,
                        f"service {service.name} mounts {source}, which does not exist: {effect}",
                        path=compose.rel,
                    )


def _bind_mount(volume: object) -> tuple[str, str] | None:
    """(host path, container path) of a bind mount in short or long syntax."""
    if isinstance(volume, str):
        parts = volume.split(":")
        return (parts[0], parts[1]) if len(parts) >= 2 else None
    if isinstance(volume, dict) and volume.get("type") == "bind":
        return str(volume.get("source") or ""), str(volume.get("target") or "")
    return None


def _looks_like_file(path: str) -> bool:
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return "." in name.strip(".") and not path.endswith("/")


# --- PR912 -------------------------------------------------------------------------------------

FORWARDED = re.compile(r"^x-forwarded-(for|proto)$", re.IGNORECASE)
TRUST_OPTIONS = ("--forwarded-allow-ips", "--proxy-headers")
PRODREADY_TRUST_OPTION = "--proxy"
"""`prodready serve --proxy ADDR` trusts that proxy's X-Forwarded-* (Gunicorn's
forwarded_allow_ips, set by serve)."""


@rule(
    "PR912",
    "forwarded-headers-not-trusted",
    title="nginx sends X-Forwarded-* headers the app does not trust",
    severity=Severity.WARNING,
    kind=KIND,
    why="""
nginx sets X-Forwarded-Proto and X-Forwarded-For so the app knows the request came over HTTPS
and from which client. The app only uses them when told to trust the proxy (werkzeug's
ProxyFix, Django's SECURE_PROXY_SSL_HEADER, Gunicorn's forwarded_allow_ips covering the
proxy's address, uvicorn's --forwarded-allow-ips). Otherwise it sees http and the proxy's IP:
redirects and absolute URLs point to http://, secure cookies and CSRF origin checks break,
and rate limits and logs put every client behind one address.
""",
    fix="""
Trust the proxy's address: --forwarded-allow-ips=<proxy IP> (gunicorn, uvicorn).
Or ProxyFix(app.wsgi_app, x_for=1, x_proto=1) (Flask), or Django's
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https").
""",
    bad="proxy_set_header X-Forwarded-Proto $scheme;   # gunicorn: no forwarded_allow_ips",
    good='forwarded_allow_ips = "172.18.0.0/16"   # gunicorn.conf.py: the proxy network',
)
def forwarded_headers_not_trusted(project: Project) -> Iterable[Hit]:
    if not project.modules or _app_trusts_proxy(project):
        return
    for conf in production_nginx(project):
        sent: dict[tuple[str, str, int], list[int]] = {}
        for target in proxy_targets(conf):
            if not target.loopback and not _is_app_service(project, target.host):
                continue
            if target.loopback and _servers_trust_loopback(project):
                continue
            header = _forwarded_header(target.proxy_pass)
            if header is not None:
                key = (header.args[0], target.host, target.port)
                sent.setdefault(key, []).append(header.line)
        for (name, host, port), lines in sent.items():
            yield Hit(
                min(lines),
                f"nginx sets {name} for {host}:{port}, but the app does not trust it (no "
                "ProxyFix, SECURE_PROXY_SSL_HEADER or forwarded_allow_ips for the proxy): it "
                f"sees http and the proxy's IP{also_at(lines)}",
                path=conf.rel,
            )


def _forwarded_header(proxy_pass: Directive) -> Directive | None:
    """The first X-Forwarded-For/-Proto proxy_set_header in effect (proxy_set_header is
    inherited from the enclosing block only when the block sets none)."""
    for block in proxy_pass.ancestors():
        headers = block.children("proxy_set_header")
        if headers:
            return next((h for h in headers if h.args and FORWARDED.match(h.args[0])), None)
    return None


def _app_trusts_proxy(project: Project) -> bool:
    if any(summary.trusts_proxy for summary in _production_modules(project)):
        return True
    if next(env_settings(project, "FORWARDED_ALLOW_IPS"), None) is not None:
        return True
    for served in production_servers(project):
        setup = gunicorn_setup(project, served)
        if setup is not None and setup.setting("forwarded_allow_ips") is not None:
            return True
        if served.server.program in ("uvicorn", "hypercorn", "granian") and any(
            word.split("=", 1)[0] in TRUST_OPTIONS for word in served.server.argv
        ):
            return True
    return any(
        server.program == "prodready"
        and any(word.split("=", 1)[0] == PRODREADY_TRUST_OPTION for word in server.argv)
        for launch in project.launches
        if launch.env.production
        for server in launch.servers
    )


def _servers_trust_loopback(project: Project) -> bool:
    """Gunicorn and uvicorn trust forwarded headers from 127.0.0.1 by default; inside a
    container, the proxy's requests come from the bridge network instead."""
    in_containers = {
        (launch.rel, launch.line)
        for _, launches in container_launches(project)
        for launch in launches
    }
    return any(
        served.server.program in ("gunicorn", "uvicorn")
        and (served.launch.rel, served.launch.line) not in in_containers
        for served in production_servers(project)
    )


# --- PR913 -------------------------------------------------------------------------------------


@rule(
    "PR913",
    "forwarded-headers-trusted-from-anyone",
    title="The app trusts X-Forwarded-* headers from anyone",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
`--forwarded-allow-ips '*'`, FORWARDED_ALLOW_IPS=* or ProxyHeadersMiddleware(trusted_hosts="*")
make the server take the client IP and scheme from headers any client can send. Whoever
reaches the app's port directly (a published port, another container, the LAN) can pose as
any IP, defeating rate limits, IP allow-lists and audit logs, and claim HTTPS. Only the proxy's
own address should be trusted. (`forwarded_allow_ips` in a gunicorn config file is PR604.)
""",
    fix="Trust only the proxy: --forwarded-allow-ips=<proxy IP or network>, or bind a unix socket.",
    bad='CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--forwarded-allow-ips", "*"]',
    good='CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--forwarded-allow-ips", "172.18.0.2"]',
)
def forwarded_headers_trusted_from_anyone(project: Project) -> Iterable[Hit]:
    for served in production_servers(project):
        value = option_value(list(served.server.argv[1:]), "--forwarded-allow-ips")
        if value is not None and "*" in value.split(",") and _tcp_reachable(served):
            yield Hit(
                served.launch.line,
                f"{served.what} passes --forwarded-allow-ips '*' while listening on TCP: any "
                "client can spoof its IP and scheme",
                path=served.launch.rel,
            )
    for setting in env_settings(project, "FORWARDED_ALLOW_IPS"):
        if "*" in setting.value.split(","):
            yield Hit(
                setting.line,
                "FORWARDED_ALLOW_IPS=* makes gunicorn/uvicorn trust X-Forwarded-* from any client",
                path=setting.rel,
            )
    for summary in _production_modules(project):
        for line, how in summary.trusts_proxy_from_anyone:
            yield Hit(
                line,
                f"{how}: X-Forwarded-* headers are trusted from any client",
                path=summary.rel,
            )


def _tcp_reachable(served: Served) -> bool:
    host = served.server.host or ""
    if host.startswith("unix:") or "--uds" in served.server.argv:
        return False
    return host not in LOOPBACK


# --- PR914 -------------------------------------------------------------------------------------

SERVER_PACKAGES = {
    "gunicorn": ("gunicorn",),
    "uvicorn": ("uvicorn",),
    "granian": ("granian",),
    "hypercorn": ("hypercorn",),
    "daphne": ("daphne", "channels"),
    "waitress-serve": ("waitress",),
    "uwsgi": ("uwsgi", "pyuwsgi"),
}


@rule(
    "PR914",
    "server-not-in-dependencies",
    title="The production server is not in the runtime dependencies",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
The image or host installs what the dependency files list. A CMD that runs gunicorn when
requirements.txt does not list it works on the laptop where gunicorn happens to be installed,
then fails in the fresh image with "gunicorn: not found" (exit 127) and a restart loop. The
same for a uvicorn worker class named in the gunicorn config without uvicorn installed.
""",
    fix="Add the server (pinned) to the runtime dependencies: gunicorn==23.0.0",
    bad='CMD ["gunicorn", "app:app"]   # requirements.txt: flask==3.0.3',
    good='CMD ["gunicorn", "app:app"]   # requirements.txt: flask==3.0.3, gunicorn==23.0.0',
)
def server_not_in_dependencies(project: Project) -> Iterable[Hit]:
    runtime = {d.name for d in project.dependencies if not d.dev}
    if not runtime:
        return
    for served in production_servers(project):
        packages = SERVER_PACKAGES.get(served.server.program)
        if packages and not _provided(project, runtime, packages):
            yield Hit(
                served.launch.line,
                f"{served.what} runs {served.server.program}, which no runtime dependency "
                f"file lists ({', '.join(sorted({d.rel for d in project.dependencies}))})",
                path=served.launch.rel,
            )
        yield from _worker_class_without_uvicorn(project, runtime, served)


def _worker_class_without_uvicorn(
    project: Project, runtime: set[str], served: Served
) -> Iterator[Hit]:
    setup = gunicorn_setup(project, served)
    found = setup.setting("worker_class") if setup else None
    if found is None or not isinstance(found[0], str):
        return
    value, rel, line = found
    package = "uvicorn-worker" if value.startswith("uvicorn_worker") else "uvicorn"
    if value.startswith(("uvicorn.", "uvicorn_worker.")) and not _provided(
        project, runtime, (package,)
    ):
        yield Hit(
            line,
            f"worker class {value} needs {package}, which no runtime dependency file lists",
            path=rel,
        )


def _provided(project: Project, runtime: set[str], packages: tuple[str, ...]) -> bool:
    """Listed, or installed by name in an image: in any of its stages, since a builder stage
    often builds the wheels (`pip wheel ... uwsgi`) that the final stage installs."""
    if runtime & set(packages):
        return True
    for dockerfile in project.dockerfiles:
        for inst in instructions(dockerfile.stages, "RUN"):
            text = " ".join(inst.args) if inst.exec_form else inst.value
            if re.search(
                r"\b(pip3?|uv pip|poetry add|pipx) [^;&|]*\b(" + "|".join(packages) + r")\b", text
            ):
                return True
        final = dockerfile.final
        if final is not None and any(p in final.base for p in packages):
            return True
    return False


# --- PR915 -------------------------------------------------------------------------------------


@rule(
    "PR915",
    "python-version-mismatch",
    title="The image's Python is not the project's Python",
    severity=Severity.WARNING,
    kind=KIND,
    why="""
The Dockerfile's base image decides the Python production runs; `.python-version` and
`requires-python` say which one the project is developed and tested on. When they differ,
production runs code on a version nobody tested: removed APIs (`datetime.utcnow` warnings,
`distutils` gone in 3.12), wheels missing for the new version, or syntax the older one
rejects.
""",
    fix="Use the same version in the FROM line and in .python-version / requires-python.",
    bad="FROM python:3.12-slim   # .python-version: 3.11",
    good="FROM python:3.11-slim   # .python-version: 3.11",
)
def python_version_mismatch(project: Project) -> Iterable[Hit]:
    declared = list(_declared_versions(project))
    if not declared:
        return
    for dockerfile in project.dockerfiles:
        if _is_dev(project, dockerfile.rel) or dockerfile.final is None:
            continue
        stages = built_lineage(dockerfile)
        match = re.match(r"^(?:[\w.\-/]*/)?python:(3\.\d+)", root_image(dockerfile, stages[-1]))
        if not match:
            continue
        image = match.group(1)
        for rel, spec, fits in declared:
            if not fits(image) and _same_tree(rel.split(" ", 1)[0], dockerfile.rel):
                yield Hit(
                    stages[0].line,
                    f"the image runs Python {image}, but {rel} says {spec}",
                    path=dockerfile.rel,
                )


def _same_tree(declared_rel: str, dockerfile_rel: str) -> bool:
    """The version file lies in the Dockerfile's folder, above it, or below it: not in a
    sibling project of the repository (polar's sdk/python/.python-version beside server/)."""
    declared = posixpath.dirname(declared_rel)
    built = posixpath.dirname(dockerfile_rel)
    inside = [declared, built]
    return any(
        outer == "" or inner == outer or inner.startswith(outer + "/")
        for outer, inner in (inside, inside[::-1])
    )


def _declared_versions(project: Project) -> Iterator[tuple[str, str, Callable[[str], bool]]]:
    """(file, what it says, test of an X.Y version) for .python-version and requires-python."""
    for source in project.files:
        if source.dev_only:
            continue
        text = project.texts.get(source.rel, "")
        if source.kind == FileKind.PYTHON_VERSION:
            found = re.search(r"3\.\d+", text)
            if found:
                wanted = found.group(0)
                yield source.rel, wanted, lambda v, wanted=wanted: v == wanted
        elif source.kind == FileKind.PYPROJECT:
            spec = _requires_python(text)
            if spec is not None:
                yield (
                    f"{source.rel} requires-python",
                    str(spec),
                    (
                        lambda v, spec=spec: (
                            spec.contains(Version(v), prereleases=True)
                            or spec.contains(Version(v + ".99"), prereleases=True)
                        )
                    ),
                )


def _requires_python(text: str) -> SpecifierSet | None:
    try:
        value = tomllib.loads(text).get("project", {}).get("requires-python")
        return SpecifierSet(value) if isinstance(value, str) else None
    except (tomllib.TOMLDecodeError, RecursionError, InvalidSpecifier, AttributeError):
        return None

"""What prodready knows about an app: the `Project`, built once by `detect()` and read by every
command. Plain dataclasses, picklable, with no behaviour beyond small lookups."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class FileKind(StrEnum):
    PYTHON = "python"
    DOCKERFILE = "dockerfile"
    DOCKERIGNORE = "dockerignore"
    COMPOSE = "compose"
    NGINX = "nginx"
    SYSTEMD = "systemd"
    GUNICORN = "gunicorn"
    ENV = "env"
    REQUIREMENTS = "requirements"
    PYPROJECT = "pyproject"
    PIPFILE = "pipfile"
    LOCKFILE = "lockfile"
    PROCFILE = "procfile"
    SCRIPT = "script"
    PYTHON_VERSION = "python-version"


@dataclass(frozen=True)
class SourceFile:
    """One file of the project, classified. `rel` is POSIX and relative to the project root."""

    path: Path
    rel: str
    kind: FileKind
    dev_only: bool = False


@dataclass(frozen=True)
class Location:
    rel: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.rel}:{self.line}"


@dataclass(frozen=True)
class FileProblem:
    """A file that could not be read or parsed. Becomes a PR001 finding in `check`."""

    rel: str
    line: int
    message: str


# --- Python ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppCandidate:
    """An object that is (or builds) a web app, found statically."""

    module: str
    attr: str
    framework: str  # flask | fastapi | starlette | django | quart | litestar | wsgi | asgi
    interface: str  # wsgi | asgi
    rel: str
    line: int
    found_by: str
    factory: bool = False

    @property
    def target(self) -> str:
        return f"{self.module}:{self.attr}()" if self.factory else f"{self.module}:{self.attr}"


@dataclass(frozen=True)
class RouteInfo:
    path: str
    methods: tuple[str, ...]
    rel: str
    line: int
    handler: str
    is_async: bool
    blocking_io: bool = False
    """True when the handler body calls something that waits on I/O (DB, HTTP, sleep)."""


@dataclass(frozen=True)
class RunCall:
    """A dev-server start in code: `app.run(...)`, `uvicorn.run(...)`, `socketio.run(...)`."""

    rel: str
    line: int
    callee: str
    under_main_guard: bool
    kwargs: dict[str, Any]


@dataclass(frozen=True)
class PoolSetting:
    """`create_engine(..., pool_size=N, max_overflow=M)` as written (None when not given)."""

    rel: str
    line: int
    pool_size: int | None
    max_overflow: int | None
    null_pool: bool = False


@dataclass(frozen=True)
class RouterMount:
    """`PARENT.register_blueprint(CHILD, url_prefix=P)` or `PARENT.include_router(CHILD,
    prefix=P)`, names as written in the module (dotted)."""

    parent: str
    child: str
    prefix: str | None
    replaces_own_prefix: bool
    """Flask: a url_prefix given at registration replaces the Blueprint's own; FastAPI: the
    include prefix goes before the router's own."""


@dataclass
class ModuleSummary:
    """What one Python file tells the project, gathered from its AST in one walk."""

    rel: str
    module: str
    imports: set[str] = field(default_factory=set)
    apps: list[AppCandidate] = field(default_factory=list)
    routes: list[RouteInfo] = field(default_factory=list)
    run_calls: list[RunCall] = field(default_factory=list)
    pools: list[PoolSetting] = field(default_factory=list)
    env_reads: dict[str, int] = field(default_factory=dict)
    """Environment variable name -> first line it is read on."""
    top_level_names: set[str] = field(default_factory=set)
    trusts_proxy: list[tuple[int, str]] = field(default_factory=list)
    """(line, how) for ProxyFix, SECURE_PROXY_SSL_HEADER, ProxyHeadersMiddleware, ..."""
    trusts_proxy_from_anyone: list[tuple[int, str]] = field(default_factory=list)
    django_settings: dict[str, tuple[int, Any]] = field(default_factory=dict)
    """For a Django settings module: NAME -> (line, literal value or None)."""
    url_literals: list[tuple[int, str]] = field(default_factory=list)
    factory_calls: list[tuple[str, str, int]] = field(default_factory=list)
    """Module-level `app = create_app()`: (variable, factory name, line)."""
    routers: dict[str, str | None] = field(default_factory=dict)
    """Blueprint/APIRouter variable -> its own prefix (None when not given). Routes on it are
    stored without prefixes; `project.routers` resolves them across modules."""
    router_mounts: list[RouterMount] = field(default_factory=list)
    """`register_blueprint` and `include_router` calls, in order."""
    import_aliases: dict[str, str] = field(default_factory=dict)
    """Local name -> what it names, absolute: `from .api import bp as api_bp` in shop/__init__.py
    gives api_bp -> shop.api.bp; `import shop.admin as admin` gives admin -> shop.admin."""
    url_patterns: list[tuple[int, str, str | None]] = field(default_factory=list)
    """Django urlpatterns: (line, route, included urls module or None)."""
    syntax_error: FileProblem | None = None


# --- Dependencies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dependency:
    name: str  # normalized (PEP 503)
    spec: str  # as written
    rel: str
    line: int
    pinned: bool
    dev: bool = False


@dataclass(frozen=True)
class ServiceUse:
    name: str  # postgresql | mysql | redis | mongodb | rabbitmq | ...
    evidence: str


@dataclass(frozen=True)
class Bind:
    host: str
    port: int
    rel: str
    line: int
    source: str  # what said so: "gunicorn bind", "EXPOSE", "compose ports", ...


# --- Commands that start the app -----------------------------------------------------------------


@dataclass(frozen=True)
class LaunchCommand:
    """A command line that starts something in production: Dockerfile CMD/ENTRYPOINT, compose
    `command:`, systemd ExecStart, a Procfile process, a start script's line."""

    argv: tuple[str, ...]
    rel: str
    line: int
    source: str  # dockerfile | compose | systemd | procfile | script
    dev_only: bool = False
    context: str = ""  # compose service name, Procfile process type, ...


@dataclass
class Project:
    root: Path
    files: list[SourceFile] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    modules: dict[str, ModuleSummary] = field(default_factory=dict)
    apps: list[AppCandidate] = field(default_factory=list)
    framework: str | None = None
    python_version: str | None = None
    python_version_source: str | None = None
    dependencies: list[Dependency] = field(default_factory=list)
    services: list[ServiceUse] = field(default_factory=list)
    routes: list[RouteInfo] = field(default_factory=list)
    binds: list[Bind] = field(default_factory=list)
    launches: list[LaunchCommand] = field(default_factory=list)
    dockerfiles: list[Any] = field(default_factory=list)  # parsers.dockerfile.Dockerfile
    compose_files: list[Any] = field(default_factory=list)  # parsers.compose.ComposeFile
    nginx_confs: list[Any] = field(default_factory=list)  # parsers.nginx.NginxConf
    systemd_units: list[Any] = field(default_factory=list)  # parsers.systemd.Unit
    gunicorn_configs: list[Any] = field(default_factory=list)  # parsers.gunicorn.GunicornConfig
    env_files: list[Any] = field(default_factory=list)  # parsers.envfile.EnvFile
    dockerignores: dict[str, list[str]] = field(default_factory=dict)
    candidates: list[AppCandidate] = field(default_factory=list)
    """Every app object or factory found, before choosing."""
    texts: dict[str, str] = field(default_factory=dict)
    """The text of every readable non-Python file, read once by detect() (rules reuse it)."""
    hook_results: dict[str, Any] = field(default_factory=dict)
    """Per Python file results of detect()'s `python_hook` (check's Python rules)."""
    git_tracked: set[str] | None = None
    """Paths git tracks (relative), or None when DIR is not in a git work tree."""
    servers: list[tuple[LaunchCommand, Any]] = field(default_factory=list)
    """Launches that run a Python server or app, unwrapped and judged (commands.ServerCommand)."""
    _by_rel: dict[str, SourceFile] | None = field(default=None, repr=False, compare=False)
    _by_name: dict[str, list[SourceFile]] | None = field(default=None, repr=False, compare=False)

    @property
    def app(self) -> AppCandidate | None:
        """The app when exactly one is evident (Django's WSGI/ASGI entry wins over others)."""
        return self.apps[0] if len(self.apps) == 1 else None

    def files_of(self, kind: FileKind) -> list[SourceFile]:
        return [f for f in self.files if f.kind == kind]

    def file(self, rel: str) -> SourceFile | None:
        return self._files_by_rel().get(rel)

    def files_named(self, name: str) -> list[SourceFile]:
        """Files whose base name is `name` (rules resolving paths in commands use this)."""
        if self._by_name is None:
            self._by_name = {}
            for source in self.files:
                self._by_name.setdefault(source.path.name, []).append(source)
        return self._by_name.get(name, [])

    def _files_by_rel(self) -> dict[str, SourceFile]:
        # Built on first use: detection adds every file before anything looks one up.
        if self._by_rel is None or len(self._by_rel) != len(self.files):
            self._by_rel = {f.rel: f for f in self.files}
        return self._by_rel

    def has_dependency(self, *names: str) -> bool:
        wanted = set(names)
        return any(d.name in wanted for d in self.dependencies)

    def uses_service(self, name: str) -> bool:
        return any(s.name == name for s in self.services)

    def route_paths(self) -> set[str]:
        return {r.path for r in self.routes}

"""What prodready knows about an app: the `Project`, built once by `detect()` and read by every
command. Plain dataclasses, picklable, with no behaviour beyond small lookups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the parsers import this module; their types are only named here
    from prodready.project.parsers.commands import ServerCommand
    from prodready.project.parsers.compose import ComposeFile
    from prodready.project.parsers.dockerfile import Dockerfile
    from prodready.project.parsers.envfile import EnvFile
    from prodready.project.parsers.gunicorn import GunicornConfig
    from prodready.project.parsers.nginx import NginxConf
    from prodready.project.parsers.systemd import Unit


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


class Environment(StrEnum):
    """Where a file, compose service, Dockerfile stage or launch command runs."""

    PRODUCTION = "production"
    DEVELOPMENT = "development"
    TEST = "test"
    ONE_SHOT = "one-shot"
    """Runs in production but exits: a migration, a static-files copy, a release task."""


@dataclass(frozen=True)
class EnvFact:
    """The environment of one thing of the project and what decided it (shown by
    `check --show-env` and in the JSON report)."""

    env: Environment
    reason: str

    @property
    def production(self) -> bool:
        """Serves production (a one-shot job runs there too, but serves nothing)."""
        return self.env == Environment.PRODUCTION

    @property
    def deployed(self) -> bool:
        """Reaches production at all: a production server or a one-shot job."""
        return self.env in (Environment.PRODUCTION, Environment.ONE_SHOT)


UNCLASSIFIED = EnvFact(Environment.PRODUCTION, "nothing marks it as development or test")


@dataclass(frozen=True)
class SourceFile:
    """One file of the project, classified. `rel` is POSIX and relative to the project root;
    `env` is decided once by `project.environments`."""

    path: Path
    rel: str
    kind: FileKind
    env: EnvFact = UNCLASSIFIED

    @property
    def dev_only(self) -> bool:
        """Never reaches production (development or test)."""
        return not self.env.deployed


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
    streams: bool = False
    """True when the handler answers with a long-lived stream: StreamingResponse,
    EventSourceResponse, StreamingHttpResponse, a text/event-stream media type, or
    `.response()` of a `prodready.runtime` stream (`x = prod.stream(...)` in the module)."""


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
    imported_modules: set[str] = field(default_factory=set)
    """Absolute dotted names this file imports, at any depth: `import a.b` gives a.b,
    `from .c import d` in pkg/x.py gives pkg.c and pkg.c.d (d may be a module or a name)."""
    apps: list[AppCandidate] = field(default_factory=list)
    routes: list[RouteInfo] = field(default_factory=list)
    stream_heartbeats: list[tuple[int, float]] = field(default_factory=list)
    """(line, heartbeat seconds) of each `x = <kit>.stream(...)` at module level: the
    heartbeat= given as a number, else prodready.runtime.streams' default (15 s)."""
    run_calls: list[RunCall] = field(default_factory=list)
    pools: list[PoolSetting] = field(default_factory=list)
    env_reads: dict[str, int] = field(default_factory=dict)
    """Environment variable name -> first line it is read on."""
    top_level_names: set[str] = field(default_factory=set)
    compared_strings: set[str] = field(default_factory=set)
    """String literals the code compares values with (`if value == "changethis": raise`): a
    placeholder the app itself refuses or warns about."""
    star_imports: list[str] = field(default_factory=list)
    """Absolute names of the modules `from <module> import *` copies (settings/prod.py:
    `from .base import *` gives `settings.base`)."""
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
    url_views: dict[int, str] = field(default_factory=dict)
    """Django urlpatterns: line -> the view as written (`views.place_order`), when it is a name."""
    view_methods: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Module-level Django view functions -> the methods their decorators allow
    (`@require_POST`, `@require_http_methods(["GET", "POST"])`)."""
    rq_queues: list[str] = field(default_factory=list)
    """Names of the RQ queues built here (`Queue("mail", ...)`; "default" when unnamed), in
    order: an `rq worker` started without them listens on "default" only."""
    syntax_error: FileProblem | None = None
    template: bool = False
    """A Jinja template of a Python file (`from pkg.{{ version }} import x`), which is not
    Python until rendered: not parsed, and its syntax errors are not reported."""


# --- Dependencies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dependency:
    name: str  # normalized (PEP 503)
    spec: str  # as written
    rel: str
    line: int
    pinned: bool
    dev: bool = False
    group: str | None = None
    """The dependency group or Poetry group it is declared in (`[dependency-groups] docker`)."""


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
    env: EnvFact = UNCLASSIFIED
    context: str = ""  # compose service name, Procfile process type, ...
    servers: tuple[ServerCommand, ...] = ()
    """The Python servers or apps this command runs, unwrapped and judged once in detect()."""

    @property
    def dev_only(self) -> bool:
        """Never reaches production (development or test)."""
        return not self.env.deployed


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
    dockerfiles: list[Dockerfile] = field(default_factory=list)
    compose_files: list[ComposeFile] = field(default_factory=list)
    nginx_confs: list[NginxConf] = field(default_factory=list)
    systemd_units: list[Unit] = field(default_factory=list)
    gunicorn_configs: list[GunicornConfig] = field(default_factory=list)
    env_files: list[EnvFile] = field(default_factory=list)
    dockerignores: dict[str, list[str]] = field(default_factory=dict)
    candidates: list[AppCandidate] = field(default_factory=list)
    """Every app object or factory found, before choosing."""
    texts: dict[str, str] = field(default_factory=dict)
    """The text of every readable non-Python file, read once by detect(), and of the other
    files `files.project_text()` was asked for (rules read files through it, never again)."""
    settings_overrides: dict[tuple[str, str], str] = field(default_factory=dict)
    """(module, NAME) -> the production module that copies that module with `import *` and
    assigns NAME again: the value in the first never runs in production (base.py's
    development SECRET_KEY under prod.py's own)."""
    hook_results: dict[str, Any] = field(default_factory=dict)
    """Per Python file results of detect()'s `python_hook` (check's Python rules)."""
    git_tracked: set[str] | None = None
    """Paths git tracks (relative), or None when DIR is not in a git work tree."""
    services_env: dict[tuple[str, str], EnvFact] = field(default_factory=dict)
    """(compose file, service name) -> its environment."""
    stages_env: dict[tuple[str, int], EnvFact] = field(default_factory=dict)
    """(Dockerfile, stage index) -> its environment."""
    _by_rel: dict[str, SourceFile] | None = field(default=None, repr=False, compare=False)
    _by_name: dict[str, list[SourceFile]] | None = field(default=None, repr=False, compare=False)
    _indexes: dict[str, tuple[int, dict[Any, Any]]] = field(
        default_factory=dict, repr=False, compare=False
    )
    """Lookups built on first use, each with the length of the list it was built from (rules
    ask them per file: scanning the lists each time made check quadratic in files)."""

    @property
    def app(self) -> AppCandidate | None:
        """The app when exactly one is evident (Django's WSGI/ASGI entry wins over others)."""
        return self.apps[0] if len(self.apps) == 1 else None

    def files_of(self, kind: FileKind) -> list[SourceFile]:
        """The files of one kind. The list is shared: do not modify it."""
        return self._index("kind", self.files, lambda f: [f.kind]).get(kind, [])

    def launches_from(
        self, source: str, rel: str | None = None, context: str | None = None
    ) -> list[LaunchCommand]:
        """The launch commands of one kind of file (`source`), of one file when `rel` is
        given, of one compose service or Procfile process of it when `context` is too. The
        list is shared: do not modify it."""
        index = self._index(
            "launch",
            self.launches,
            lambda c: [(c.source, "", None), (c.source, c.rel, None), (c.source, c.rel, c.context)],
        )
        return index.get((source, rel or "", context), [])

    def dockerfile_at(self, rel: str) -> Any:
        """The parsed Dockerfile at `rel` (parsers.dockerfile.Dockerfile), or None."""
        found = self._index("dockerfile", self.dockerfiles, lambda d: [d.rel]).get(rel)
        return found[0] if found else None

    def _index(
        self, name: str, items: list[Any], keys: Callable[[Any], list[Any]]
    ) -> dict[Any, list[Any]]:
        built = self._indexes.get(name)
        if built is None or built[0] != len(items):
            index: dict[Any, list[Any]] = {}
            for item in items:
                for key in keys(item):
                    index.setdefault(key, []).append(item)
            built = self._indexes[name] = (len(items), index)
        return built[1]

    def file(self, rel: str) -> SourceFile | None:
        return self._files_by_rel().get(rel)

    def files_named(self, name: str) -> list[SourceFile]:
        """Files whose base name is `name` (rules resolving paths in commands use this)."""
        if self._by_name is None:
            self._by_name = {}
            for source in self.files:
                self._by_name.setdefault(source.path.name, []).append(source)
        return self._by_name.get(name, [])

    def replace_files(self, files: list[SourceFile]) -> None:
        """Puts re-classified files in place of the old ones (and forgets the lookups)."""
        self.files = files
        self._by_rel = self._by_name = None

    def _files_by_rel(self) -> dict[str, SourceFile]:
        # Built on first use: detection adds every file before anything looks one up.
        if self._by_rel is None or len(self._by_rel) != len(self.files):
            self._by_rel = {f.rel: f for f in self.files}
        return self._by_rel

    def env_of(self, rel: str) -> EnvFact:
        """The environment of a project file (production when the file is not known)."""
        source = self.file(rel)
        return source.env if source else UNCLASSIFIED

    def service_env(self, rel: str, service: str) -> EnvFact:
        return self.services_env.get((rel, service)) or self.env_of(rel)

    @property
    def servers(self) -> list[tuple[LaunchCommand, ServerCommand]]:
        """Every launch that runs a Python server or app, with what it runs, in any
        environment (read `launch.env`)."""
        return [(launch, server) for launch in self.launches for server in launch.servers]

    def has_dependency(self, *names: str) -> bool:
        wanted = set(names)
        return any(d.name in wanted for d in self.dependencies)

    def uses_service(self, name: str) -> bool:
        return any(s.name == name for s in self.services)

    def route_paths(self) -> set[str]:
        return {r.path for r in self.routes}

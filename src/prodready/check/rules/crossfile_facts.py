"""Facts the cross-file rules share: which commands really serve production, what they run, on
which port, with how many workers and which Gunicorn settings, which compose service builds
from which Dockerfile, and where nginx sends its requests. Read from the Project only."""

from __future__ import annotations

import posixpath
import re
import shlex
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from prodready.check.memo import once_per_project
from prodready.check.model import Finding, Severity
from prodready.project.images import env_pairs, official_name, published_images
from prodready.project.model import FileKind, LaunchCommand, ModuleSummary, Project
from prodready.project.parsers import gunicorn as gunicorn_parser
from prodready.project.parsers.commands import ServerCommand
from prodready.project.parsers.compose import ComposeFile, ComposeService
from prodready.project.parsers.dockerfile import Dockerfile, built_lineage, instructions
from prodready.project.parsers.gunicorn import GunicornConfig, Setting
from prodready.project.parsers.nginx import Directive, NginxConf
from prodready.project.parsers.systemd import environment_assignments

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


# --- production launches ------------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    """A production launch judged to run a Python server or app."""

    launch: LaunchCommand
    server: ServerCommand

    @property
    def what(self) -> str:
        """`Dockerfile CMD`, `compose service web command`, ... (no location)."""
        return {
            "dockerfile": "Dockerfile CMD",
            "compose": f"compose service {self.launch.context} command",
            "systemd": "systemd ExecStart",
            "procfile": f"Procfile process {self.launch.context}",
            "script": "start script",
        }.get(self.launch.source, self.launch.source)

    @property
    def where(self) -> str:
        return f"{self.what} ({self.launch.rel}:{self.launch.line})"

    @property
    def command(self) -> str:
        return " ".join(self.server.argv)


def production_servers(project: Project) -> list[Served]:
    """Every launch that serves production (project.environments) and runs a Python server
    or app."""
    return [
        Served(launch, server)
        for launch in project.launches
        if launch.env.production
        for server in launch.servers
        if server.program != "prodready"
    ]


def production_healthchecks(project: Project) -> Iterator[tuple[str, int, str]]:
    """(file, line, command text) of each production healthcheck of the app's containers."""
    for dockerfile in project.dockerfiles:
        if _is_dev(project, dockerfile.rel):
            continue
        check = next(reversed(instructions(built_lineage(dockerfile), "HEALTHCHECK")), None)
        if check is not None:
            yield dockerfile.rel, check.line, check.value
    for compose in production_compose(project):
        for service in compose.services:
            test = service.healthcheck_test()
            if test and runs_app(project, compose, service):
                yield compose.rel, test[1], " ".join(test[0])


@once_per_project
def probe_scripts(project: Project) -> frozenset[str]:
    """Names of the Python files a production healthcheck runs (healthchecks' HEALTHCHECK
    CMD ./fetchstatus.py): probes that Docker's own timeout ends, not the service."""
    return frozenset(
        posixpath.basename(word)
        for _, _, text in production_healthchecks(project)
        for word in text.replace('"', " ").replace(",", " ").split()
        if word.endswith(".py")
    )


def outside_probes(project: Project, finding: Finding) -> Severity | None:
    """Calibration: nothing to report in a script a healthcheck runs."""
    if posixpath.basename(finding.path) in probe_scripts(project):
        return None
    return finding.severity


def only_when_run_directly(project: Project, finding: Finding) -> Severity | None:
    """Calibration for code a server never reaches (Hit.direct_run): an error when a production
    launch runs the file as a script, gone when production launches a server another way (the
    file is a developer's launcher), and as reported when nothing says how production runs."""
    if not finding.direct_run:
        return finding.severity
    served = production_servers(project)
    for launch in served:
        if launch.server.script and find_file(project, launch.server.script) == finding.path:
            return Severity.ERROR
    return None if served else finding.severity


def find_file(project: Project, path: str, kind: FileKind | None = None) -> str | None:
    """The project file a path in a command means (relative to an unknown working directory:
    `/app/app.py`, `./app.py` and `app.py` all find `app.py`): the longest matching suffix."""
    wanted = [p for p in posixpath.normpath(path).split("/") if p not in ("", ".")]
    if not wanted:
        return None
    best: tuple[int, str] | None = None
    for source in project.files_named(wanted[-1]):
        if kind is not None and source.kind != kind:
            continue
        parts = source.rel.split("/")
        common = 0
        while common < min(len(parts), len(wanted)) and parts[-1 - common] == wanted[-1 - common]:
            common += 1
        if common and (best is None or common > best[0]):
            best = (common, source.rel)
    return best[1] if best else None


def module_for_script(project: Project, script: str) -> ModuleSummary | None:
    rel = find_file(project, script, FileKind.PYTHON)
    return project.modules.get(rel) if rel else None


def modules_named(project: Project, module: str) -> list[ModuleSummary]:
    """Modules whose dotted name is `module`, or ends with it (a --chdir, WORKDIR or extra
    source folder in front). The name is also matched against the file's whole path, for a
    command run from the project root that imports through the src folder
    (`src.shop.main:app`: `src` is a namespace package there)."""
    return [
        summary
        for summary in project.modules.values()
        if _names(module, summary.module) or _names(module, _path_module(summary.rel))
    ]


def _names(module: str, dotted: str) -> bool:
    return dotted == module or dotted.endswith("." + module)


def _path_module(rel: str) -> str:
    """`src/shop/main.py` -> `src.shop.main`; `src/shop/__init__.py` -> `src.shop`."""
    return rel[:-3].replace("/", ".").removesuffix(".__init__")


def expand_scripts(project: Project, launches: list[LaunchCommand]) -> list[LaunchCommand]:
    """The launches plus those of the start scripts they run (`CMD ["sh", "start.sh"]`)."""
    result = list(launches)
    scripts = {
        find_file(project, word, FileKind.SCRIPT)
        for launch in launches
        for word in launch.argv
        if word.endswith(".sh") or "/" in word or word in ("start", "entrypoint")
    }
    for rel in sorted(rel for rel in scripts if rel is not None):
        result.extend(project.launches_from(FileKind.SCRIPT.value, rel))
    return result


def judged(launches: list[LaunchCommand]) -> list[Served]:
    """The launches with the servers detect() found each runs (`launch.servers`)."""
    return [Served(launch, server) for launch in launches for server in launch.servers]


# --- compose services and their images -------------------------------------------------------


def compose_dir(compose: ComposeFile) -> str:
    return posixpath.dirname(compose.rel)


def dockerfile_of(
    project: Project, compose: ComposeFile, service: ComposeService
) -> Dockerfile | None:
    """The Dockerfile a service with `build:` is built from."""
    rel = service.dockerfile_rel(compose.rel)
    return project.dockerfile_at(rel) if rel else None


def launches_in(
    project: Project, source: str, rel: str | None = None, context: str | None = None
) -> list[LaunchCommand]:
    """The launch commands a kind of file gives (compose, dockerfile, systemd, procfile), of
    one file when `rel` is given, of one compose service when `context` is."""
    return project.launches_from(source, rel, context)


def service_launches(
    project: Project, compose: ComposeFile, service: ComposeService
) -> list[LaunchCommand]:
    """What a compose service runs: its own command, else its image's CMD, with the scripts
    either of them starts."""
    own = launches_in(project, "compose", compose.rel, service.name)
    if not own:
        dockerfile = dockerfile_of(project, compose, service)
        if dockerfile is not None:
            own = launches_in(project, "dockerfile", dockerfile.rel)
    return expand_scripts(project, own)


@once_per_project
def own_names(project: Project) -> frozenset[str]:
    """What the project calls itself: its folder's name, pyproject's [project] name and the
    images its CI publishes."""
    names = {project.root.resolve().name.lower(), *published_images(project)}
    for source in project.files_of(FileKind.PYPROJECT):
        try:
            data = tomllib.loads(project.texts.get(source.rel, ""))
        except tomllib.TOMLDecodeError:
            continue
        name = data.get("project", {}).get("name") if isinstance(data, dict) else None
        if isinstance(name, str):
            names.add(name.lower())
    return frozenset(names)


def is_own_image(project: Project, image: str) -> bool:
    """A published image of this very project (Tandoor's compose runs vabene1111/recipes from
    the recipes repository): what its Dockerfiles build, pulled instead of built."""
    if not image:
        return False
    name = official_name(image).rsplit("/", 1)[-1].lower()
    return name in own_names(project)


def runs_app(project: Project, compose: ComposeFile, service: ComposeService) -> bool:
    """The service runs a Python server or app (its command, or its image's CMD)."""
    if service.is_proxy or service.database_kind:
        return False
    return bool(judged(service_launches(project, compose, service)))


@once_per_project
def app_services(project: Project) -> list[tuple[ComposeFile, ComposeService]]:
    """The production compose services that run the app, worked out once per project (the
    rules ask for every proxy target)."""
    return [
        (compose, service)
        for compose in production_compose(project)
        for service in compose.services
        if runs_app(project, compose, service)
    ]


def production_compose(project: Project) -> Iterator[ComposeFile]:
    """The compose files that reach production, each with only its services that do
    (development and test services, as project.environments judged them, left out)."""
    return iter(_production_compose(project))


@once_per_project
def _production_compose(project: Project) -> list[ComposeFile]:
    found = []
    for compose in project.compose_files:
        if project.env_of(compose.rel).deployed and compose.data is not None:
            services = [
                service
                for service in compose.services
                if project.service_env(compose.rel, service.name).deployed
            ]
            same = len(services) == len(compose.services)
            found.append(compose if same else replace(compose, services=services))
    return found


# --- gunicorn setups ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GunicornSetup:
    """One Gunicorn launch with the settings it really gets, in Gunicorn's order of precedence:
    command-line options, then GUNICORN_CMD_ARGS, then the config file (the one `-c` names, or
    ./gunicorn.conf.py, Gunicorn's default)."""

    served: Served
    config: GunicornConfig | None
    options: GunicornConfig
    environment: GunicornConfig | None = None
    """The options in GUNICORN_CMD_ARGS, where production sets it."""

    def setting(self, name: str) -> tuple[Any, str, int] | None:
        """(value, file, line) where the setting is given, command line first."""
        for source in (self.options, self.environment, self.config):
            if source is not None and (found := source.get(name)) is not None:
                return found.value, source.rel, found.line
        return None

    def override(self, name: str) -> Setting | None:
        """The setting as the command line or GUNICORN_CMD_ARGS give it (they beat the file)."""
        for source in (self.options, self.environment):
            if source is not None and (found := source.get(name)) is not None:
                return found
        return None


def gunicorn_setup(project: Project, served: Served) -> GunicornSetup | None:
    if served.server.program != "gunicorn":
        return None
    argv = list(served.server.argv[1:])
    options = gunicorn_parser.from_argv(served.launch.rel, argv, served.launch.line)
    named = options.value("config")
    config: GunicornConfig | None = None
    if isinstance(named, str) and not named.startswith("python:"):
        rel = find_file(project, named)
        config = next((c for c in project.gunicorn_configs if c.rel == rel), None)
    elif named is None:  # Gunicorn reads ./gunicorn.conf.py: beside the launch file, or the root
        here = posixpath.join(posixpath.dirname(served.launch.rel), "gunicorn.conf.py")
        config = next((c for c in project.gunicorn_configs if c.rel == here), None) or next(
            (c for c in project.gunicorn_configs if c.rel == "gunicorn.conf.py"), None
        )
    return GunicornSetup(served, config, options, _cmd_args(project))


def _cmd_args(project: Project) -> GunicornConfig | None:
    found = env_value(project, "GUNICORN_CMD_ARGS")
    if found is None:
        return None
    try:
        words = shlex.split(found.value)
    except ValueError:
        words = found.value.split()
    return gunicorn_parser.from_argv(found.rel, words, found.line)


def gunicorn_setups(project: Project, served: list[Served] | None = None) -> list[GunicornSetup]:
    chosen = production_servers(project) if served is None else served
    return [setup for s in chosen if (setup := gunicorn_setup(project, s)) is not None]


def workers_of(project: Project, served: Served) -> tuple[int, str] | None:
    """How many worker processes a launch starts, and what says so; None when not literal."""
    setup = gunicorn_setup(project, served)
    if setup is not None:
        found = setup.setting("workers")
        if found is not None:
            value, rel, line = found
            return (value, f"{rel}:{line}") if isinstance(value, int) else None
        concurrency = env_value(project, "WEB_CONCURRENCY")
        if concurrency is not None and concurrency.value.isdigit():
            return int(concurrency.value), f"WEB_CONCURRENCY ({concurrency.at})"
        return 1, "Gunicorn's default"
    if served.server.program in ("uvicorn", "hypercorn", "granian", "fastapi"):
        rest = list(served.server.argv[1:])
        for index, word in enumerate(rest):
            if word in ("--workers", "-w") and index + 1 < len(rest) and rest[index + 1].isdigit():
                return int(rest[index + 1]), f"{served.launch.rel}:{served.launch.line}"
            if word.startswith("--workers=") and word[10:].isdigit():
                return int(word[10:]), f"{served.launch.rel}:{served.launch.line}"
    return None


# --- environment --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnvSetting:
    value: str
    rel: str
    line: int

    @property
    def at(self) -> str:
        return f"{self.rel}:{self.line}"


def env_settings(project: Project, name: str) -> Iterator[EnvSetting]:
    """Where production sets a variable: compose `environment:`, .env files, Dockerfile ENV,
    systemd Environment=."""
    return iter(_env_settings_by_name(project).get(name, ()))


@once_per_project
def _env_settings_by_name(project: Project) -> dict[str, list[EnvSetting]]:
    """Every variable production sets, in env_settings' order (rules ask per launch)."""
    found: dict[str, list[EnvSetting]] = {}
    for compose in production_compose(project):
        for service in compose.services:
            for key, value, line in service.environment():
                if value is not None:
                    found.setdefault(key, []).append(EnvSetting(value, compose.rel, line))
    for env in project.env_files:
        if project.env_of(env.rel).deployed:
            last = {var.name: var for var in env.variables}  # the one dotenv keeps
            for var in last.values():
                found.setdefault(var.name, []).append(EnvSetting(var.value, env.rel, var.line))
    for dockerfile in project.dockerfiles:
        if _is_dev(project, dockerfile.rel):
            continue
        for inst in instructions(built_lineage(dockerfile), "ENV"):
            for key, value in env_pairs(inst):
                setting = EnvSetting(value.strip("'\""), dockerfile.rel, inst.line)
                found.setdefault(key, []).append(setting)
    for unit in project.systemd_units:
        for setting in unit.all("Service", "Environment"):
            for key, value in environment_assignments(setting.value):
                found.setdefault(key, []).append(EnvSetting(value, unit.rel, setting.line))
    return found


def env_value(project: Project, name: str) -> EnvSetting | None:
    return next(env_settings(project, name), None)


def _is_dev(project: Project, rel: str) -> bool:
    return not project.env_of(rel).deployed


# --- nginx --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProxyTarget:
    conf: NginxConf
    proxy_pass: Directive
    at: Directive  # where the address is written: the proxy_pass, or an upstream's `server`
    host: str
    port: int

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK


PROXY_URL = re.compile(r"^https?://(?P<host>\[[^\]]+\]|[^:/$]+)(?::(?P<port>\d+))?")


def production_nginx(project: Project) -> Iterator[NginxConf]:
    for conf in project.nginx_confs:
        if not _is_dev(project, conf.rel):
            yield conf


def proxy_targets(conf: NginxConf) -> Iterator[ProxyTarget]:
    """Where each proxy_pass sends requests, through `upstream` blocks of the same file."""
    upstreams = {d.args[0]: d for d in conf.find("upstream") if d.args}
    for directive in conf.find("proxy_pass"):
        match = PROXY_URL.match(directive.args[0]) if directive.args else None
        if not match:
            continue
        host = match["host"]
        upstream = upstreams.get(host)
        if upstream is not None and match["port"] is None:
            for server in upstream.children("server"):
                if not server.args or server.args[0].startswith("unix:"):
                    continue
                name, _, port = server.args[0].rpartition(":")
                if port.isdigit() and name:
                    yield ProxyTarget(conf, directive, server, name, int(port))
                else:
                    yield ProxyTarget(conf, directive, server, server.args[0], 80)
            continue
        default = 443 if directive.args[0].startswith("https") else 80
        port = int(match["port"]) if match["port"] else default
        yield ProxyTarget(conf, directive, directive, host, port)


def socket_targets(conf: NginxConf) -> Iterator[tuple[Directive, str]]:
    """(where, path) for each unix socket nginx proxies to, directly or through an upstream."""
    upstreams = {d.args[0]: d for d in conf.find("upstream") if d.args}
    for directive in conf.find("proxy_pass"):
        url = directive.args[0] if directive.args else ""
        if url.startswith(("http://unix:", "https://unix:")):
            yield directive, url.split("unix:", 1)[1].split(":", 1)[0]
            continue
        match = PROXY_URL.match(url)
        upstream = upstreams.get(match["host"]) if match and not match["port"] else None
        for server in upstream.children("server") if upstream is not None else []:
            if server.args and server.args[0].startswith("unix:"):
                yield server, server.args[0][5:]


def app_sockets(project: Project) -> dict[str, str]:
    """Unix sockets the app listens on (gunicorn `unix:` binds, uvicorn --uds, systemd .socket
    units), each with what says so."""
    sockets: dict[str, str] = {}
    for served in production_servers(project):
        setup = gunicorn_setup(project, served)
        found = setup.setting("bind") if setup else None
        values = found[0] if found and isinstance(found[0], list) else [found[0] if found else ""]
        for value in values:
            if isinstance(value, str) and value.startswith("unix:"):
                sockets.setdefault(value[5:], f"gunicorn bind ({found[1]}:{found[2]})")
        uds = _option(list(served.server.argv[1:]), "--uds")
        if uds:
            sockets.setdefault(uds, served.where)
    for unit in project.systemd_units:
        for setting in unit.all("Socket", "ListenStream"):
            if setting.value.startswith("/"):
                sockets.setdefault(setting.value, f"ListenStream ({unit.rel}:{setting.line})")
    return sockets


def inherited(directive: Directive, name: str) -> Directive | None:
    """The directive `name` in effect at `directive`: its own block's, else the nearest
    enclosing block's (nginx inheritance for simple directives)."""
    for block in directive.ancestors():
        found = block.child(name)
        if found is not None:
            return found
    return None


# --- where servers listen -----------------------------------------------------------------------

DEFAULT_LISTEN = {
    "gunicorn": ("127.0.0.1", 8000),
    "uvicorn": ("127.0.0.1", 8000),
    "hypercorn": ("127.0.0.1", 8000),
    "granian": ("127.0.0.1", 8000),
    "daphne": ("127.0.0.1", 8000),
    "flask": ("127.0.0.1", 5000),
    "manage.py": ("127.0.0.1", 8000),
    "waitress-serve": ("0.0.0.0", 8080),
    "fastapi": ("0.0.0.0", 8000),  # `fastapi run`; `fastapi dev` is 127.0.0.1
}
ENV_OVERRIDES = {
    "gunicorn": ("GUNICORN_CMD_ARGS", "PORT"),
    "uvicorn": ("UVICORN_HOST", "UVICORN_PORT"),
    "flask": ("FLASK_RUN_HOST", "FLASK_RUN_PORT"),
    "granian": ("GRANIAN_HOST", "GRANIAN_PORT"),  # granian reads every option as GRANIAN_<NAME>
}


@dataclass(frozen=True)
class Listen:
    """Where one server listens; host or port None when it cannot be known statically."""

    host: str | None
    port: int | None
    said_by: str
    rel: str
    line: int

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK


def listens(project: Project, served: Served) -> list[Listen]:
    """The addresses a launch listens on (empty for a unix socket or a non-server script)."""
    program = served.server.program
    argv = list(served.server.argv[1:])
    at = (served.launch.rel, served.launch.line)
    if program == "gunicorn":
        return _gunicorn_listens(project, served)
    if program == "python":
        return _script_listens(project, served)
    if _option(argv, "--uds", "--fd") is not None:
        return []
    if program not in DEFAULT_LISTEN:
        return [Listen(None, None, served.where, *at)]
    default_host, default_port = DEFAULT_LISTEN[program]
    if program == "fastapi" and argv[:1] == ["dev"]:
        default_host = "127.0.0.1"
    if _env_overridden(project, program):
        return [Listen(None, None, f"environment ({served.where})", *at)]
    if program == "manage.py":
        host_text = "0.0.0.0" if served.server.host == "0" else served.server.host
        port_text = str(served.server.port) if served.server.port else None
        if host_text is not None and port_text is None:
            port_text = "$"  # `runserver 0.0.0.0:$PORT`: not known here
    else:
        host_text = _option(argv, "--host", "-h")
        port_text = _option(argv, "--port", "-p")
        bind_text = _option(argv, "--bind", "-b", "--listen")
        if bind_text and ":" in bind_text:
            host_text, _, port_text = bind_text.rpartition(":")
        elif bind_text:
            host_text = bind_text
    return [
        Listen(
            default_host if host_text is None else (None if "$" in host_text else host_text),
            default_port if port_text is None else _number(port_text),
            served.where if port_text is not None else f"{program}'s default port, {served.where}",
            *at,
        )
    ]


def _gunicorn_listens(project: Project, served: Served) -> list[Listen]:
    at = (served.launch.rel, served.launch.line)
    setup = gunicorn_setup(project, served)
    found = setup.setting("bind") if setup else None
    if found is None:
        if _env_overridden(project, "gunicorn"):
            return [Listen(None, None, f"environment ({served.where})", *at)]
        return [Listen("127.0.0.1", 8000, f"gunicorn's default ({served.where})", *at)]
    value, rel, line = found
    values = value if isinstance(value, list) else [value]
    result = []
    for item in values:
        if item is None:  # computed where the config runs (the environment): not known here
            result.append(Listen(None, None, f"gunicorn bind ({rel}:{line})", rel, line))
            continue
        text = str(item)
        if text.startswith(("unix:", "fd://")):
            continue
        host, _, port = text.rpartition(":") if ":" in text else (text, "", "8000")
        result.append(
            Listen(
                None if "$" in host else (host or "0.0.0.0"),
                _number(port),
                f"gunicorn bind ({rel}:{line})",
                rel,
                line,
            )
        )
    return result


def _script_listens(project: Project, served: Served) -> list[Listen]:
    summary = module_for_script(project, served.server.script or "")
    result = []
    for call in summary.run_calls if summary else []:
        if call.callee.startswith("uvicorn"):
            default_host, default_port = "127.0.0.1", 8000
        elif call.callee.rsplit(".", 1)[-1] == "run":
            default_host, default_port = "127.0.0.1", 5000
        else:
            continue
        host = call.kwargs.get("host", default_host)
        port = call.kwargs.get("port", default_port)
        result.append(
            Listen(
                host if isinstance(host, str) else None,
                port if isinstance(port, int) else None,
                f"{call.callee}() ({call.rel}:{call.line})",
                call.rel,
                call.line,
            )
        )
    return result


def _env_overridden(project: Project, program: str) -> bool:
    return any(env_value(project, name) for name in ENV_OVERRIDES.get(program, ()))


def _option(argv: list[str], *names: str) -> str | None:
    for index, word in enumerate(argv):
        for name in names:
            if word == name and index + 1 < len(argv):
                return argv[index + 1]
            if word.startswith(name + "="):
                return word.split("=", 1)[1]
    return None


def _number(text: str | None) -> int | None:
    if text is None:
        return None
    match = re.fullmatch(r"\$\{\w+:-(\d+)\}|(\d+)", text)
    return int(match.group(1) or match.group(2)) if match else None


def ports_of(project: Project, served: list[Served]) -> dict[int, str] | None:
    """Every port these launches listen on, with what says so; None when one is unknown."""
    ports: dict[int, str] = {}
    for item in served:
        for listen in listens(project, item):
            if listen.port is None:
                return None
            ports.setdefault(listen.port, listen.said_by)
    return ports


def container_launches(project: Project) -> Iterator[tuple[str, list[LaunchCommand]]]:
    """(what runs it, launches) for each production container that runs the app: each
    Dockerfile's CMD, and each compose service's own command."""
    for dockerfile in project.dockerfiles:
        if _is_dev(project, dockerfile.rel):
            continue
        yield (
            dockerfile.rel,
            expand_scripts(project, launches_in(project, "dockerfile", dockerfile.rel)),
        )
    for compose in production_compose(project):
        for service in compose.services:
            own = launches_in(project, "compose", compose.rel, service.name)
            if own:
                yield f"service {service.name}", expand_scripts(project, own)

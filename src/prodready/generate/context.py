"""The facts every renderer reads, computed once from the Project and the options."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prodready.errors import AppNotFoundError, UsageError
from prodready.generate import safevalues
from prodready.generate.buildsteps import BuildStep, build_steps
from prodready.generate.existing import DEFAULT_DEPLOY_DIR, app_port, deploy_folder, own_nginx_site
from prodready.generate.install import InstallPlan, install_plan
from prodready.generate.nginxtarget import NginxTarget
from prodready.generate.serverdeps import SERVER_REQUIREMENTS
from prodready.generate.serverplan import server_settings
from prodready.generate.workers import Worker, background_worker
from prodready.project.migrations import Migrations, detect_migrations
from prodready.project.model import AppCandidate, FileKind, Project
from prodready.project.probes import Probes, choose_probes, is_url_path
from prodready.serve.plan import Setting

DEFAULT_PYTHON = "3.12"
APP_PORT = 8000
COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
ASGI_FRAMEWORKS = frozenset({"fastapi", "starlette", "quart", "litestar", "asgi"})
STREAM_WORDS = ("stream", "events", "sse", "subscribe", "live-updates")
SEARCHED_FOR = (
    "Flask(...), FastAPI(...), Starlette(...), Django's WSGI_APPLICATION/ASGI_APPLICATION, "
    "Quart, Litestar and plain WSGI/ASGI callables, and app factories"
)


@dataclass(frozen=True)
class Options:
    app: str | None = None
    server_name: str = "app.example.com"
    nginx_version: str | None = None
    openssl_version: str | None = None
    client_max_body_size: str = "10m"
    deploy_root: str | None = None
    """`prodready deploy`'s root on the host: the site's upstream is then its include."""


@dataclass
class DeployContext:
    name: str
    app: AppCandidate
    target: str
    python_version: str
    python_version_source: str
    install: InstallPlan
    probes: Probes
    nginx: NginxTarget
    server_name: str
    client_max_body_size: str
    postgres: bool
    redis: bool
    migrations: Migrations | None
    env_vars: dict[str, str]
    """Every environment variable the app reads -> where it is first read (file:line)."""
    stream_paths: list[str]
    dependencies: frozenset[str]
    """Normalized names of the production (non-dev) dependencies."""
    server: list[Setting]
    """prodready serve's machine-independent Gunicorn settings (see serverplan)."""
    compose_path: str
    """The project's own top-level compose file when it has one (so it is compared, never
    shadowed: `docker compose` would pick compose.yaml over docker-compose.yml), else
    compose.yaml."""
    deploy_dir: str = DEFAULT_DEPLOY_DIR
    deploy_root: str | None = None
    """Where `prodready deploy` keeps releases on the host (--deploy-root), if it is used."""
    """The project's own folder of deployment files (nginx, systemd ...) when it has one, so
    init adds to it instead of starting a second one beside it; else deploy/."""
    nginx_site: str | None = None
    """The project's own nginx site when it has exactly one: init's site is compared with it
    (left alone unless --force) rather than written as a second nginx config beside it."""
    port: int = APP_PORT
    notes: list[str] = field(default_factory=list)
    build_steps: list[BuildStep] = field(default_factory=list)
    """Commands the image build runs after copying the code (compiled translations ...)."""
    worker: Worker | None = None
    """The background worker the app's task queue needs (Celery, RQ ...), if any."""
    conflicts: list[str] = field(default_factory=list)
    """Existing files that contradict each other (two ports for one app): what must change,
    and why. `init --validate` exits 1 while there are any."""

    def server_setting(self, name: str) -> Any:
        return next(s.value for s in self.server if s.name == name)

    @property
    def graceful_timeout(self) -> int:
        """Seconds Gunicorn gives workers to finish; the stop timeouts around it are longer."""
        return int(self.server_setting("graceful_timeout"))

    @property
    def request_timeout(self) -> int:
        return int(self.server_setting("timeout"))

    @property
    def worker_class(self) -> str:
        return str(self.server_setting("worker_class"))

    @property
    def asgi(self) -> bool:
        return self.app.interface == "asgi"


def build_context(project: Project, options: Options, target: NginxTarget) -> DeployContext:
    app = _chosen_app(project, options.app)
    probes = choose_probes(project)
    notes = [probes.note] if probes.note else []
    python_version = project.python_version or DEFAULT_PYTHON
    python_source = project.python_version_source or "default: no version pinned in the project"
    if not project.python_version:
        notes.append(
            f"no Python version pinned (.python-version, pyproject): using {python_version}"
        )
    steps = build_steps(project, app)
    notes += [f"the image build runs `{' '.join(s.command)}`: {s.why}" for s in steps]
    worker = background_worker(project)
    if worker is not None:
        notes.append(
            f"background worker ({worker.evidence}): `{' '.join(worker.command)}` runs as "
            "compose service worker and its own systemd unit"
        )
    port, port_notes, conflicts = app_port(project, APP_PORT)
    notes += port_notes
    deploy_dir, deploy_evidence = deploy_folder(project)
    if deploy_dir != DEFAULT_DEPLOY_DIR:
        notes.append(
            f"deployment files go to {deploy_dir}/, the project's own deployment folder "
            f"(it holds {deploy_evidence})"
        )
    return DeployContext(
        name=service_name(project.root),
        app=app,
        target=app.target,
        python_version=_minor(python_version),
        python_version_source=python_source,
        install=install_plan(project),
        probes=probes,
        nginx=target,
        server_name=safevalues.server_name(options.server_name),
        client_max_body_size=options.client_max_body_size,
        postgres=project.uses_service("postgresql"),
        redis=project.uses_service("redis"),
        migrations=detect_migrations(project, app),
        env_vars=_env_vars(project),
        stream_paths=_stream_paths(project),
        dependencies=frozenset(
            d.name for d in project.dependencies if not d.dev and d.rel != SERVER_REQUIREMENTS
        ),
        server=server_settings(project, app),
        compose_path=_compose_path(project),
        deploy_dir=deploy_dir,
        deploy_root=options.deploy_root,
        nginx_site=own_nginx_site(project),
        port=port,
        worker=worker,
        build_steps=steps,
        notes=notes,
        conflicts=conflicts,
    )


def service_name(root: Path) -> str:
    """A name valid for systemd units, compose services, DNS labels and Kubernetes objects."""
    slug = re.sub(r"[^a-z0-9]+", "-", root.resolve().name.lower()).strip("-")
    return (slug or "app")[:40].strip("-") or "app"


def _chosen_app(project: Project, wanted: str | None) -> AppCandidate:
    candidates = project.candidates
    if wanted:
        return _given_app(project, wanted)
    if project.app:
        return project.app
    if not candidates:
        raise AppNotFoundError(
            f"no web app found in {project.root} ({len(project.modules)} Python files searched "
            f"for {SEARCHED_FOR})",
            "run prodready init in the app's directory, or give --app MODULE:ATTR",
        )
    listed = ", ".join(f"{c.target} ({c.rel}:{c.line})" for c in candidates)
    raise AppNotFoundError(
        f"{len(candidates)} app candidates found: {listed}",
        f"choose one with --app, e.g. --app {candidates[0].target}",
    )


def _compose_path(project: Project) -> str:
    names = {f.rel for f in project.files_of(FileKind.COMPOSE) if not f.dev_only}
    return next((n for n in COMPOSE_NAMES if n in names), COMPOSE_NAMES[0])


def _given_app(project: Project, wanted: str) -> AppCandidate:
    """The --app target: a found candidate, or an app static detection could not see (built
    dynamically, say) in a module that exists, taken on the user's word."""
    module, _, attr = wanted.partition(":")
    if not module or not attr:
        raise UsageError(f"--app {wanted!r} is not MODULE:ATTR", "e.g. --app myapp.main:app")
    factory = attr.endswith("()")
    attr = attr.removesuffix("()")
    for candidate in project.candidates:
        if candidate.module == module and candidate.attr == attr:
            return candidate
    base = module.replace(".", "/")
    rel = next((r for r in (f"{base}.py", f"{base}/__init__.py") if project.file(r)), None)
    if rel is None:
        known = ", ".join(c.target for c in project.candidates) or "none"
        raise AppNotFoundError(
            f"--app {wanted}: no module {module} in {project.root} (apps found: {known})",
            "give MODULE:ATTR with the module's dotted path from the app's directory",
        )
    framework = project.framework or "wsgi"
    interface = "asgi" if framework in ASGI_FRAMEWORKS else "wsgi"
    return AppCandidate(module, attr, framework, interface, rel, 1, "--app", factory=factory)


def _minor(version: str) -> str:
    parts = version.split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else version


def _env_vars(project: Project) -> dict[str, str]:
    found: dict[str, str] = {}
    for rel, summary in sorted(project.modules.items()):
        source = project.file(rel)
        if source is None or not source.dev_only:
            for name, line in summary.env_reads.items():
                if safevalues.is_env_name(name):  # written as NAME=... lines: nothing else may pass
                    found.setdefault(name, f"{rel}:{line}")
    return dict(sorted(found.items()))


def _stream_paths(project: Project) -> list[str]:
    """Routes that answer a stream (detected from the handler: see RouteInfo.streams) or look
    like one by name (a handler the scan cannot read): nginx must not buffer them."""
    paths = set()
    for route in project.routes:
        segments = [s.lower() for s in route.path.split("/") if s]
        if route.streams or any(word in segments for word in STREAM_WORDS):
            prefix = route.path.split("{")[0].split("<")[0]
            paths.add(prefix.rstrip("/") or "/")
    return sorted(p for p in paths if p != "/" and is_url_path(p))

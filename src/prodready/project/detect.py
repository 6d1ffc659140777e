"""One detection pass over a directory builds the `Project` every command reads.

Reads files, never imports or runs user code. Python modules are parsed in parallel across the
CPUs this process may use; a caller may pass `python_hook` to run more work on each parsed module
in the same worker (`check` runs its Python rules there so each file is parsed once).
"""

from __future__ import annotations

import ast
import dataclasses
import subprocess
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from prodready.errors import InputError
from prodready.project import deps as deps_module
from prodready.project import environments
from prodready.project import files as files_module
from prodready.project import services as services_module
from prodready.project.cpus import usable_cpus
from prodready.project.model import (
    AppCandidate,
    Bind,
    Dependency,
    FileKind,
    FileProblem,
    LaunchCommand,
    ModuleSummary,
    Project,
    RouteInfo,
    ServiceUse,
    SourceFile,
)
from prodready.project.overrides import find_overrides
from prodready.project.parsers import (
    commands,
    compose,
    dockerfile,
    envfile,
    gunicorn,
    nginx,
    systemd,
)
from prodready.project.pyscan import JINJA_TAG, summarize
from prodready.project.routers import RouterPrefixes
from prodready.project.routers import join as join_path

PythonHook = Callable[[str, str, ast.Module | None], Any]
PARALLEL_THRESHOLD = 48
"""Below this many Python files, a process pool costs more than it saves."""


def detect(
    root: Path | str,
    exclude: Iterable[str] = (),
    python_hook: PythonHook | None = None,
) -> Project:
    """Builds the Project for `root`. With `python_hook`, returns its per-file results in
    `project.hook_results`."""
    root = Path(root)
    if not root.exists():
        raise InputError(f"{root} does not exist", "give the directory of the app to check")
    if not root.is_dir():
        raise InputError(f"{root} is not a directory", "give the app's directory, not a file")
    found, problems = files_module.walk(root, exclude)
    project = Project(root=root, files=found, problems=problems)
    texts = project.texts = _read_texts(project)
    _scan_python(project, python_hook)
    _parse_deployment_files(project, texts)
    environments.classify(project)
    project.settings_overrides = find_overrides(project)
    _dependencies(project, texts)
    _launches(project)
    _resolve_apps(project)
    _resolve_routes(project)
    _binds(project)
    _services(project)
    _python_version(project, texts)
    project.git_tracked = _git_tracked(root)
    return project


# --- reading ------------------------------------------------------------------------------------


def _read_texts(project: Project) -> dict[str, str]:
    texts: dict[str, str] = {}
    for source in project.files:
        if source.kind == FileKind.PYTHON:
            continue  # read in the workers
        text, problem = files_module.read_text(source.path, source.rel)
        if problem:
            project.problems.append(problem)
        if text is not None:
            texts[source.rel] = text
    return texts


def _scan_one(
    job: tuple[Path, str, PythonHook | None],
) -> tuple[ModuleSummary | None, list[FileProblem], Any]:
    path, rel, hook = job
    text, problem = files_module.read_text(path, rel)
    problems = [problem] if problem else []
    if text is None:
        return None, problems, None
    summary, tree = summarize(rel, text)
    if summary.syntax_error and not summary.template:
        problems.append(summary.syntax_error)
    result = hook(rel, text, tree) if hook else None
    return summary, problems, result


def _scan_python(project: Project, hook: PythonHook | None) -> None:
    jobs = [(f.path, f.rel, hook) for f in project.files if f.kind == FileKind.PYTHON]
    workers = usable_cpus()
    if len(jobs) >= PARALLEL_THRESHOLD and workers > 1:
        chunk = max(1, len(jobs) // (workers * 8))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_scan_one, jobs, chunksize=chunk))
    else:
        results = [_scan_one(job) for job in jobs]
    for (_, rel, _), (summary, problems, hook_result) in zip(jobs, results, strict=True):
        project.problems.extend(problems)
        if summary is not None:
            project.modules[rel] = summary
        if hook is not None:
            project.hook_results[rel] = hook_result


def _parse_deployment_files(project: Project, texts: dict[str, str]) -> None:
    for source in project.files:
        text = texts.get(source.rel)
        if text is None:
            continue
        if source.kind == FileKind.DOCKERFILE:
            project.dockerfiles.append(dockerfile.parse(source.rel, text))
        elif source.kind == FileKind.COMPOSE:
            parsed = compose.parse(source.rel, text)
            if parsed.problem and not JINJA_TAG.search(text):  # a template is YAML once rendered
                project.problems.append(parsed.problem)
            project.compose_files.append(parsed)
        elif source.kind == FileKind.NGINX:
            conf = nginx.parse(source.path, source.rel, text)
            project.problems.extend(conf.problems)
            project.nginx_confs.append(conf)
        elif source.kind == FileKind.SYSTEMD:
            unit = systemd.parse(source.rel, text)
            project.problems.extend(unit.problems)
            project.systemd_units.append(unit)
        elif source.kind == FileKind.GUNICORN:
            config = gunicorn.parse(source.rel, text)
            project.problems.extend(config.problems)
            project.gunicorn_configs.append(config)
        elif source.kind == FileKind.ENV:
            env = envfile.parse(source.rel, text)
            project.problems.extend(env.problems)
            project.env_files.append(env)
        elif source.kind == FileKind.DOCKERIGNORE:
            project.dockerignores[source.rel] = [
                line.strip()
                for line in text.splitlines()
                if line.strip() and not line.startswith("#")
            ]


def _dependencies(project: Project, texts: dict[str, str]) -> None:
    locked = any(f.kind == FileKind.LOCKFILE for f in project.files)
    for source in project.files:
        text = texts.get(source.rel)
        if text is None:
            continue
        found: list[Dependency] = []
        problems: list[FileProblem] = []
        if source.kind == FileKind.REQUIREMENTS:
            found, problems = deps_module.from_requirements(source.rel, text, source.dev_only)
        elif source.kind == FileKind.PYPROJECT:
            found, python, problems = deps_module.from_pyproject(source.rel, text, locked)
            if python and project.python_version is None:
                project.python_version = deps_module.python_version_from_spec(python)
                project.python_version_source = f"{source.rel} requires-python"
        elif source.kind == FileKind.PIPFILE:
            found, python, problems = deps_module.from_pipfile(source.rel, text, locked)
            if python and project.python_version is None:
                project.python_version = deps_module.python_version_from_spec(python)
                project.python_version_source = f"{source.rel} [requires]"
        project.dependencies.extend(found)
        project.problems.extend(problems)
    _installed_groups_are_runtime(project)


def _installed_groups_are_runtime(project: Project) -> None:
    """A dependency group a production Dockerfile installs (`--group docker`) is a runtime
    dependency of that image, whatever PEP 735 or Poetry say groups are by default."""
    commands = [
        inst.value
        for dockerfile in project.dockerfiles
        if project.env_of(dockerfile.rel).deployed
        for stage in dockerfile.stages
        for inst in stage.all("RUN")
    ]
    groups = deps_module.installed_groups(commands)
    project.dependencies = [
        dataclasses.replace(d, dev=False) if d.dev and d.group in groups else d
        for d in project.dependencies
    ]


# --- commands -----------------------------------------------------------------------------------


def _launches(project: Project) -> None:
    """Every command that starts something, with the environment it runs in and the Python
    servers it runs, judged once here."""
    found: list[LaunchCommand] = []
    for parsed in project.dockerfiles:
        launch = parsed.launch_argv()
        if launch:
            argv, inst = launch
            found.append(LaunchCommand(tuple(argv), parsed.rel, inst.line, "dockerfile"))
    for compose_file in project.compose_files:
        for service in compose_file.services:
            argv = service.command_argv("command") or []
            entry = service.command_argv("entrypoint") or []
            if argv or entry:
                line = service.data.line_of("command" if argv else "entrypoint")
                found.append(
                    LaunchCommand(
                        tuple(entry + argv), compose_file.rel, line, "compose", context=service.name
                    )
                )
    for unit in project.systemd_units:
        for setting in unit.all("Service", "ExecStart"):
            value = setting.value.lstrip("-@:+!")
            if value:
                found.append(LaunchCommand(tuple(_split(value)), unit.rel, setting.line, "systemd"))
    for source in project.files:
        if source.kind in (FileKind.PROCFILE, FileKind.SCRIPT):
            found.extend(_text_launches(source, project.texts.get(source.rel)))
    judged = [dataclasses.replace(launch, servers=_servers(launch)) for launch in found]
    project.launches = [
        dataclasses.replace(launch, env=environments.launch_fact(project, launch))
        for launch in judged
    ]


def _text_launches(source: SourceFile, text: str | None) -> list[LaunchCommand]:
    if text is None:
        return []
    found = []
    lines = commands.logical_lines(text) if source.kind == FileKind.SCRIPT else None
    branches = commands.CaseBranches()
    for number, raw in lines or enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        context = ""
        if source.kind == FileKind.PROCFILE:
            context, sep, line = line.partition(":")
            if not sep:
                continue
        elif source.kind == FileKind.SCRIPT:
            line, context = branches.read(line)
        for argv in commands.split_shell(line):
            if source.kind == FileKind.SCRIPT:
                argv = commands.evaluated_assignment(argv, text) or argv
            for simple in commands.unwrap(argv):
                if commands.judge(simple):
                    found.append(
                        LaunchCommand(
                            tuple(simple),
                            source.rel,
                            number,
                            source.kind.value,
                            context=context.strip(),
                        )
                    )
    return found


def _split(text: str) -> list[str]:
    return [word for cmd in commands.split_shell(text) for word in cmd][:64] or text.split()


def _servers(launch: LaunchCommand) -> tuple[commands.ServerCommand, ...]:
    return tuple(
        judged
        for simple in commands.unwrap(list(launch.argv))
        if (judged := commands.judge(simple)) is not None
    )


def server_commands(project: Project) -> list[tuple[LaunchCommand, commands.ServerCommand]]:
    """Every launch that runs a Python server or app, with what it runs (judged once, in
    detect(); where each runs is `launch.env`)."""
    return project.servers


# --- apps and routes ----------------------------------------------------------------------------


def _resolve_apps(project: Project) -> None:
    candidates: list[AppCandidate] = []
    factories = {}
    for summary in project.modules.values():
        if _is_dev(project, summary.rel):
            continue
        for app in summary.apps:
            candidates.append(app)
            if app.factory:
                factories[app.attr] = app
    for summary in project.modules.values():
        for var, factory_name, line in summary.factory_calls:
            factory = factories.get(factory_name)
            if factory and not _is_dev(project, summary.rel):
                candidates.append(
                    AppCandidate(
                        summary.module,
                        var,
                        factory.framework,
                        factory.interface,
                        summary.rel,
                        line,
                        f"{factory_name}() result assigned to {var} at {summary.rel}:{line}",
                    )
                )
    project.candidates = candidates
    project.apps = _choose(project, candidates)
    chosen = project.app
    if chosen:
        project.framework = chosen.framework
    elif candidates:
        project.framework = candidates[0].framework
    else:
        for name in ("django", "fastapi", "flask", "starlette", "quart", "litestar"):
            if project.has_dependency(name):
                project.framework = name
                break


def _choose(project: Project, candidates: list[AppCandidate]) -> list[AppCandidate]:
    if len(candidates) <= 1:
        return candidates
    named = {c.split(":")[0]: c for c in _launch_targets(project)}
    by_target = [
        c
        for c in candidates
        if named.get(c.module) in (f"{c.module}:{c.attr}", f"{c.module}:{c.attr}()")
    ]
    if len(by_target) == 1:
        return by_target
    django_entry = _django_entry(project)
    if django_entry:
        module, _, attr = django_entry.rpartition(".")
        match = [c for c in candidates if c.module == module and c.attr == attr]
        if match:
            return match
    plain = [c for c in candidates if not c.factory]
    made_by_factory = {c.module for c in plain if "result assigned" in c.found_by}
    if made_by_factory:
        plain = [c for c in plain if c.module in made_by_factory] or plain
    if len(plain) == 1:
        return plain
    return candidates


def _launch_targets(project: Project) -> list[str]:
    return [j.app_target for _, j in server_commands(project) if j.app_target]


def _django_entry(project: Project) -> str | None:
    for summary in project.modules.values():
        for key in ("WSGI_APPLICATION", "ASGI_APPLICATION"):
            value = summary.django_settings.get(key, (0, None))[1]
            if isinstance(value, str):
                return value
    return None


def django_setting(project: Project, name: str) -> tuple[str, int, Any] | None:
    """(settings file, line, literal value) of a Django setting, from the settings module."""
    for summary in project.modules.values():
        if name in summary.django_settings and not _is_dev(project, summary.rel):
            line, value = summary.django_settings[name]
            return summary.rel, line, value
    return None


def _resolve_routes(project: Project) -> None:
    prefixes = RouterPrefixes(project.modules.values())
    for summary in project.modules.values():
        if _is_dev(project, summary.rel):
            continue
        for route in summary.routes:
            owner = route.handler.split(":")[0]
            for prefix in prefixes.of(summary, owner):
                project.routes.append(_prefixed(route, prefix))
    root_urlconf = django_setting(project, "ROOT_URLCONF")
    if root_urlconf and isinstance(root_urlconf[2], str):
        by_module = {s.module: s for s in project.modules.values()}
        _django_routes(project, by_module, root_urlconf[2], "/", set())


def _prefixed(route: RouteInfo, prefix: str) -> RouteInfo:
    return RouteInfo(
        join_path(prefix, route.path) or "/",
        route.methods,
        route.rel,
        route.line,
        route.handler,
        route.is_async,
        route.blocking_io,
        route.streams,
    )


def _django_routes(
    project: Project, by_module: dict[str, ModuleSummary], module: str, prefix: str, seen: set[str]
) -> None:
    summary = by_module.get(module) or next(
        (s for m, s in by_module.items() if m.endswith("." + module)), None
    )
    if summary is None or module in seen:
        return
    seen.add(module)
    for line, route, included in summary.url_patterns:
        full = prefix + route.lstrip("^").rstrip("$")
        if included:
            _django_routes(project, by_module, included, full, seen)
        else:
            methods = _django_view_methods(summary, by_module, summary.url_views.get(line))
            project.routes.append(RouteInfo(full, methods, summary.rel, line, "django", False))


def _django_view_methods(
    summary: ModuleSummary, by_module: dict[str, ModuleSummary], view: str | None
) -> tuple[str, ...]:
    """What a view's decorators allow (`@require_POST`), found through the urls module's
    imports (`from . import views` then `views.place_order`); GET when they say nothing."""
    if view is None:
        return ("GET",)
    head, dot, rest = view.partition(".")
    absolute = summary.import_aliases.get(head)
    if absolute is None:
        module, name = (summary.module, view) if not dot else (None, "")
    else:
        module, _, name = f"{absolute}{dot}{rest}".rpartition(".")
    owner = (
        by_module.get(module)
        or next((s for m, s in by_module.items() if m.endswith("." + module)), None)
        if module
        else None
    )
    return (owner.view_methods.get(name) if owner else None) or ("GET",)


def _is_dev(project: Project, rel: str) -> bool:
    return not project.env_of(rel).deployed


# --- binds, services, version -------------------------------------------------------------------


def _binds(project: Project) -> None:
    for config in project.gunicorn_configs:
        setting = config.get("bind")
        values = (
            setting.value
            if setting and isinstance(setting.value, list)
            else ([setting.value] if setting and isinstance(setting.value, str) else [])
        )
        for value in values:
            if not isinstance(value, str):
                continue  # `bind = ["0.0.0.0:8000", PORT]`: only literal addresses are known
            host, port = commands._split_addr(value)
            if port:
                project.binds.append(
                    Bind(host or "", port, config.rel, setting.line, "gunicorn bind")
                )
    for launch, judged in server_commands(project):
        if judged.port and not launch.dev_only:
            project.binds.append(
                Bind(
                    judged.host or "",
                    judged.port,
                    launch.rel,
                    launch.line,
                    f"{judged.program} command line",
                )
            )
    for parsed in project.dockerfiles:
        for port, inst in parsed.exposed_ports():
            project.binds.append(Bind("", port, parsed.rel, inst.line, "EXPOSE"))
    for summary in project.modules.values():
        for call in summary.run_calls:
            port = call.kwargs.get("port")
            if isinstance(port, int):
                project.binds.append(
                    Bind(
                        str(call.kwargs.get("host") or ""),
                        port,
                        summary.rel,
                        call.line,
                        f"{call.callee}()",
                    )
                )


def _services(project: Project) -> None:
    seen: dict[str, str] = {}
    for dep in project.dependencies:
        name = services_module.SERVICE_BY_PACKAGE.get(dep.name)
        if name and not dep.dev:
            seen.setdefault(name, f"dependency {dep.name} ({dep.rel}:{dep.line})")
    for summary in project.modules.values():
        for line, url in summary.url_literals:
            name = services_module.service_of_url(url)
            if name:
                seen.setdefault(name, f"URL in {summary.rel}:{line}")
        databases = summary.django_settings.get("DATABASES", (0, None))[1]
        if isinstance(databases, dict):
            for config in databases.values():
                engine = config.get("ENGINE", "") if isinstance(config, dict) else ""
                name = services_module.service_of_django_engine(str(engine))
                if name:
                    seen.setdefault(name, f"Django DATABASES in {summary.rel}")
    for env in project.env_files:
        for var in env.variables:
            name = services_module.service_of_url(var.value)
            if name:
                seen.setdefault(name, f"{var.name} in {env.rel}:{var.line}")
    for compose_file in project.compose_files:
        for service in compose_file.services:
            kind = service.database_kind
            if kind:
                seen.setdefault(kind, f"compose service {service.name} ({compose_file.rel})")
    project.services = [ServiceUse(name, evidence) for name, evidence in seen.items()]


def _python_version(project: Project, texts: dict[str, str]) -> None:
    for source in project.files:
        if source.kind == FileKind.PYTHON_VERSION and source.rel in texts:
            version = deps_module.python_version_from_spec(texts[source.rel])
            if version:
                project.python_version = version
                project.python_version_source = source.rel
                return
    if project.python_version:
        return
    for parsed in project.dockerfiles:
        final = parsed.built
        if final:
            match = deps_module.PYTHON_FROM_IMAGE.match(final.base)
            if match:
                project.python_version = match["version"]
                project.python_version_source = f"{parsed.rel} FROM"
                return


def _git_tracked(root: Path) -> set[str] | None:
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--full-name", "."],
            capture_output=True,
            timeout=20,
            check=False,
        )
        prefix = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-prefix"],
            capture_output=True,
            timeout=20,
            check=False,
            text=True,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0 or prefix.returncode != 0:
        return None
    start = prefix.stdout.strip()
    names = result.stdout.decode("utf-8", errors="replace").split("\0")
    return {n[len(start) :] for n in names if n and n.startswith(start)}

"""How production starts the app, as far as the project says, turned into a local boot.

- Where: a compose service's build context (its image holds that folder's code, so the app's
  imports resolve from there), else the Dockerfile's folder, else the project root.
- What: the app the launch names (`gunicorn manage:app`), else the detected one.
- How: a Gunicorn command line's options reach `prodready serve` as $GUNICORN_CMD_ARGS (taken as
  the project's own values, the dangerous ones kept with a warning, as for gunicorn.conf.py); a
  development server, or no launch found, means the plan prodready computes.
"""

from __future__ import annotations

import posixpath
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from prodready.project.gunicornsettings import CMD_ARGS_ENV
from prodready.project.model import LaunchCommand, Project
from prodready.project.parsers.compose import ComposeService
from prodready.project.parsers.dockerfile import built_lineage, last_instruction


@dataclass(frozen=True)
class BootSource:
    note: str
    env: dict[str, str] = field(default_factory=dict)
    app_dir: str = "."
    """Relative to the project root: where the server runs (its imports resolve from here)."""
    target: str | None = None
    """MODULE:ATTR as the launch names it, relative to `app_dir`; None: the detected app."""


def production_launch(project: Project) -> LaunchCommand | None:
    """The first launch that reaches production and runs a Python server or app."""
    return next((c for c in project.launches if c.env.deployed and c.servers), None)


def boot_source(project: Project) -> BootSource:
    launch = production_launch(project)
    if launch is None:
        return BootSource("no production launch found: served with the plan prodready computes")
    server = launch.servers[0]
    where = f"{launch.rel}:{launch.line}"
    shown = shlex.join(server.argv)
    app_dir = _code_folder(project, launch)
    service, environment = compose_environment(project, launch, app_dir)
    if environment:
        where += f", with the {len(environment)} variables compose gives service {service}"
    target = server.app_target if server.app_target and ":" in server.app_target else None
    dev = server.dev_server or _reached_run_call(project, server.script)
    if dev:
        return BootSource(
            f"production runs `{shown}` ({where}), a development server ({dev}): "
            "verify serves the plan prodready computes instead",
            environment,
            app_dir=app_dir,
        )
    if server.program == "gunicorn":
        options = [word for word in server.argv[1:] if word != server.app_target]
        return BootSource(
            f"production runs `{shown}` ({where})"
            + (": its options reach prodready serve" if options else ""),
            {**environment, **({CMD_ARGS_ENV: shlex.join(options)} if options else {})},
            app_dir,
            target,
        )
    return BootSource(
        f"production runs `{shown}` ({where}): the same app, served by prodready serve",
        environment,
        app_dir=app_dir,
        target=target,
    )


def _code_folder(project: Project, launch: LaunchCommand) -> str:
    if launch.source == "compose":
        compose = next((c for c in project.compose_files if c.rel == launch.rel), None)
        service = compose.service(launch.context) if compose else None
        context = service.build_context_rel(launch.rel) if service else None
        if context:
            return context
    if launch.source == "dockerfile":
        return posixpath.dirname(launch.rel) or "."
    return "."


def _reached_run_call(project: Project, script: str | None) -> str | None:
    """`python app.py` where app.py calls app.run() under its main guard."""
    module = (
        next((m for m in project.modules.values() if m.rel == script), None) if script else None
    )
    call = next((c for c in module.run_calls if c.under_main_guard), None) if module else None
    return f"it reaches {call.callee}() at {call.rel}:{call.line}" if call else None


def compose_environment(
    project: Project, launch: LaunchCommand, app_dir: str
) -> tuple[str, dict[str, str]]:
    """The variables a compose service gives its container: its `env_file:` files that exist,
    then `environment:` (which wins, as in compose). Values still holding `${...}` are left
    out: compose would fill them from a shell verify does not have. A Dockerfile's command
    gets the environment of the production service that builds that Dockerfile. Returns the
    service's name with them. `app_dir`: the local folder container paths under WORKDIR map to."""
    found = _service_building(project, launch) if launch.source == "dockerfile" else None
    if launch.source == "compose":
        compose = next((c for c in project.compose_files if c.rel == launch.rel), None)
        service = compose.service(launch.context) if compose else None
        found = (launch.rel, service) if service else None
    if found is None:
        return "", {}
    compose_rel, service = found
    env: dict[str, str] = {}
    folder = project.root / posixpath.dirname(compose_rel)
    for name in _as_list(service.data.get("env_file")):
        path = name.get("path") if isinstance(name, dict) else name
        if isinstance(path, str):
            env.update(_read_env_file(folder / path))
    given = service.data.get("environment")
    pairs = given.items() if isinstance(given, dict) else (
        str(item).partition("=")[::2] for item in _as_list(given)
    )  # fmt: skip
    env.update({str(k): "" if v is None else str(v) for k, v in pairs})
    workdir = _image_workdir(project, service.dockerfile_rel(compose_rel) or launch.rel)
    local = str((project.root / app_dir).resolve())
    return service.name, {k: _to_local(v, workdir, local) for k, v in env.items() if "${" not in v}


def _image_workdir(project: Project, dockerfile_rel: str) -> str | None:
    """The WORKDIR the image's command runs in, when absolute (`/app`)."""
    dockerfile = next((d for d in project.dockerfiles if d.rel == dockerfile_rel), None)
    workdir = last_instruction(built_lineage(dockerfile), "WORKDIR") if dockerfile else None
    path = workdir.args[0] if workdir and workdir.args else ""
    return posixpath.normpath(path) if path.startswith("/") and path != "/" else None


def _to_local(value: str, workdir: str | None, local: str) -> str:
    """A path inside the image's code folder (MODEL_PATH=/app/model/weights.json), as the
    same path in the local copy of that folder verify serves from."""
    if workdir and (value == workdir or value.startswith(workdir + "/")):
        return local + value[len(workdir) :]
    return value


def _service_building(project: Project, launch: LaunchCommand) -> tuple[str, ComposeService] | None:
    """(compose file, service) of the first production service built from the Dockerfile
    `launch` comes from."""
    for compose in project.compose_files:
        for service in compose.services:
            if (
                service.dockerfile_rel(compose.rel) == launch.rel
                and project.service_env(compose.rel, service.name).production
            ):
                return compose.rel, service
    return None


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _read_env_file(path: Path) -> dict[str, str]:
    from dotenv import dotenv_values  # pydantic-settings' dependency, the dotenv reference

    if not path.is_file():
        return {}
    return {k: v for k, v in dotenv_values(path, interpolate=False).items() if v is not None}

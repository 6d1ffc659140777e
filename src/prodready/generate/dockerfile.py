"""Dockerfile and .dockerignore: a multi-stage build with the project's own dependency manager,
a non-root user with a real home, and a Python healthcheck on the app's readiness route."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from prodready.generate.artifact import Kind, Rendered
from prodready.generate.context import DeployContext
from prodready.generate.probecommand import python_probe
from prodready.generate.templates import render

APP_UID = 10001


def render_dockerfile(ctx: DeployContext) -> list[Rendered]:
    dockerfile = render(
        "Dockerfile.j2",
        target=ctx.target,
        framework=ctx.app.framework,
        interface=ctx.app.interface,
        python_version=ctx.python_version,
        manager=ctx.install.manager,
        copy=ctx.install.copy,
        commands=_install_commands(ctx),
        cache=ctx.install.cache,
        port=ctx.port,
        uid=APP_UID,
        healthcheck=python_probe(ctx.port, ctx.probes.ready, ctx.server_name),
    )
    return [
        Rendered(Kind.DOCKERFILE, "Dockerfile", dockerfile),
        Rendered(Kind.DOCKERFILE, ".dockerignore", render("dockerignore.j2")),
    ]


def _install_commands(ctx: DeployContext) -> list[str]:
    commands = list(ctx.install.commands)
    server_packages = missing_server_packages(ctx)
    if server_packages:
        commands.append(f"pip install {' '.join(server_packages)}")
    return commands


def missing_server_packages(ctx: DeployContext) -> list[str]:
    """Gunicorn (and the uvicorn worker for ASGI) pinned to the versions prodready runs with,
    when the project does not depend on them itself."""
    wanted = ["gunicorn"] + (["uvicorn-worker", "uvicorn"] if ctx.asgi else [])
    return [_pinned(name) for name in wanted if name not in ctx.dependencies]


def _pinned(name: str) -> str:
    try:
        return f"{name}=={version(name)}"
    except PackageNotFoundError:
        return name

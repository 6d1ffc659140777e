"""Dockerfile and .dockerignore: a multi-stage build with the project's own dependency manager,
a non-root user with a real home, and a Python healthcheck on the app's readiness route."""

from __future__ import annotations

import shlex

from prodready.generate.artifact import Kind, Rendered
from prodready.generate.context import DeployContext
from prodready.generate.probecommand import python_probe
from prodready.generate.serverdeps import (
    SERVER_REQUIREMENTS,
    missing_server_packages,
    render_server_requirements,
)
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
        copy=_copied(ctx),
        commands=_install_commands(ctx),
        cache=ctx.install.cache,
        port=ctx.port,
        uid=APP_UID,
        healthcheck=python_probe(ctx.port, ctx.probes.ready, ctx.server_name),
        build_steps=[(step.why, shlex.join(step.command)) for step in ctx.build_steps],
    )
    return [
        Rendered(Kind.DOCKERFILE, "Dockerfile", dockerfile),
        Rendered(
            Kind.DOCKERFILE, ".dockerignore", render("dockerignore.j2", deploy_dir=ctx.deploy_dir)
        ),
        *render_server_requirements(ctx.worker_class, ctx.dependencies),
    ]


def _install_commands(ctx: DeployContext) -> list[str]:
    commands = list(ctx.install.commands)
    if missing_server_packages(ctx.worker_class, ctx.dependencies):
        commands.append(f"pip install -r {SERVER_REQUIREMENTS}")
    return commands


def _copied(ctx: DeployContext) -> list[str]:
    copied = list(ctx.install.copy)
    if missing_server_packages(ctx.worker_class, ctx.dependencies):
        copied.append(SERVER_REQUIREMENTS)
    return copied

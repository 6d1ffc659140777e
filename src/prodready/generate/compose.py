"""compose.yaml, and the nginx site it mounts (upstream on the compose network)."""

from __future__ import annotations

from prodready.generate.artifact import Kind, Rendered
from prodready.generate.context import DeployContext
from prodready.generate.dockerfile import APP_UID
from prodready.generate.nginx import Listen, render_site
from prodready.generate.probecommand import python_probe
from prodready.generate.systemd import STOP_MARGIN
from prodready.generate.templates import render

PATH = "compose.yaml"


def render_compose(ctx: DeployContext) -> list[Rendered]:
    depends: list[tuple[str, str]] = []
    if ctx.postgres:
        depends.append(("postgres", "service_healthy"))
    if ctx.redis:
        depends.append(("redis", "service_healthy"))
    if ctx.migrations:
        depends.append(("migrate", "service_completed_successfully"))
    text = render(
        "compose.yaml.j2",
        name=ctx.name,
        port=ctx.port,
        uid=APP_UID,
        depends=depends,
        healthcheck=python_probe(ctx.port, ctx.probes.ready, ctx.server_name),
        stop_grace=ctx.graceful_timeout + STOP_MARGIN,
        migrations=list(ctx.migrations.command) if ctx.migrations else None,
        postgres=ctx.postgres,
        redis=ctx.redis,
    )
    site = render_site(ctx, Listen(f"app:{ctx.port}"))
    return [
        Rendered(Kind.COMPOSE, PATH, text),
        Rendered(Kind.COMPOSE, f"deploy/nginx/compose/{ctx.name}.conf", site),
    ]

"""compose.yaml, and the nginx site it mounts (upstream on the compose network)."""

from __future__ import annotations

import hashlib

from prodready.generate.artifact import Kind, Rendered
from prodready.generate.context import DeployContext
from prodready.generate.dockerfile import APP_UID
from prodready.generate.nginx import Listen, render_site
from prodready.generate.probecommand import python_probe
from prodready.generate.systemd import STOP_MARGIN
from prodready.generate.templates import render


def backend_network(name: str) -> tuple[str, str]:
    """(subnet, nginx address): a /24 in 10.100-199.x.0, picked by the project name so two
    generated projects on one host rarely collide, outside Docker's default pools (172.17-31,
    192.168) so it never overlaps a network Docker made itself."""
    digest = hashlib.sha256(name.encode()).digest()
    prefix = f"10.{100 + digest[0] % 100}.{digest[1]}"
    return f"{prefix}.0/24", f"{prefix}.10"


def render_compose(ctx: DeployContext) -> list[Rendered]:
    depends: list[tuple[str, str]] = []
    if ctx.postgres:
        depends.append(("postgres", "service_healthy"))
    if ctx.redis:
        depends.append(("redis", "service_healthy"))
    if ctx.migrations:
        depends.append(("migrate", "service_completed_successfully"))
    subnet, proxy_ip = backend_network(ctx.name)
    text = render(
        "compose.yaml.j2",
        subnet=subnet,
        proxy_ip=proxy_ip,
        name=ctx.name,
        port=ctx.port,
        uid=APP_UID,
        depends=depends,
        healthcheck=python_probe(ctx.port, ctx.probes.ready, ctx.server_name),
        stop_grace=ctx.graceful_timeout + STOP_MARGIN,
        migrations=list(ctx.migrations.command) if ctx.migrations else None,
        postgres=ctx.postgres,
        redis=ctx.redis,
        deploy_dir=ctx.deploy_dir,
        worker=list(ctx.worker.command) if ctx.worker else None,
        worker_stop_grace=ctx.graceful_timeout + STOP_MARGIN,
    )
    site = render_site(ctx, Listen(f"app:{ctx.port}"))
    return [
        Rendered(Kind.COMPOSE, ctx.compose_path, text),
        Rendered(Kind.COMPOSE, f"{ctx.deploy_dir}/nginx/compose/{ctx.name}.conf", site),
    ]

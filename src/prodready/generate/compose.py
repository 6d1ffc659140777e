"""compose.yaml, and the nginx site it mounts (upstream on the compose network)."""

from __future__ import annotations

import hashlib

from prodready import __version__
from prodready.generate.artifact import Kind, Rendered
from prodready.generate.context import DeployContext
from prodready.generate.dockerfile import APP_UID
from prodready.generate.nginx import Listen, render_site
from prodready.generate.probecommand import python_probe
from prodready.generate.systemd import BACKUP_HOUR, STOP_MARGIN
from prodready.generate.templates import render


def backend_network(name: str) -> tuple[str, str]:
    """(subnet, nginx address): a /24 in 10.100-199.x.0, picked by the project name so two
    generated projects on one host rarely collide, outside Docker's default pools (172.17-31,
    192.168) so it never overlaps a network Docker made itself."""
    digest = hashlib.sha256(name.encode()).digest()
    prefix = f"10.{100 + digest[0] % 100}.{digest[1]}"
    return f"{prefix}.0/24", f"{prefix}.10"


POSTGRES_IMAGE = "postgres:17-bookworm"
BACKUPS = "/var/backups/app"
"""Where the backup service keeps its backups: a named volume."""


def backup_loop(seconds_of_day: int = BACKUP_HOUR * 3600) -> str:
    """The backup service's command, in POSIX sh (the image has no cron): sleep until the next
    time of day, take a verified backup, repeat. Computing each sleep from the clock keeps the
    time from drifting by the length of the backups. The shell stays, so it traps SIGTERM and
    passes it on: a backup stopped by `docker compose stop` cleans up and records nothing,
    instead of being SIGKILLed halfway. `$$` is compose's escape for `$`."""
    return (
        'trap \'kill -TERM "$$child" 2>/dev/null; wait "$$child"; exit 143\' TERM INT; '
        "while :; do now=$$(date +%s); "
        f"next=$$((now - now % 86400 + {seconds_of_day})); "
        '[ "$$next" -gt "$$now" ] || next=$$((next + 86400)); '
        'sleep $$((next - now)) & child=$$!; wait "$$child"; '
        f"prodready backup --dir {BACKUPS} --dest {BACKUPS} "
        "--keep-daily 7 --keep-weekly 4 --keep-monthly 6 --quiet & child=$$!; "
        'wait "$$child"; done'
    )


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
        postgres_image=POSTGRES_IMAGE,
        backups=BACKUPS,
        backup_loop=backup_loop(),
        backup_at=f"{BACKUP_HOUR:02d}:00",
    )
    site = render_site(ctx, Listen(f"app:{ctx.port}"))
    files = [
        Rendered(Kind.COMPOSE, ctx.compose_path, text),
        Rendered(
            Kind.COMPOSE, f"{ctx.deploy_dir}/nginx/compose/{ctx.name}.conf", site, ctx.compose_path
        ),
    ]
    if ctx.postgres:
        dockerfile = render(
            "backup.Dockerfile.j2",
            postgres_image=POSTGRES_IMAGE,
            version=__version__,
            backups=BACKUPS,
        )
        backup_image = f"{ctx.deploy_dir}/backup/Dockerfile"
        files.append(Rendered(Kind.COMPOSE, backup_image, dockerfile, ctx.compose_path))
    return files

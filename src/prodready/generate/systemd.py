"""The systemd unit: Type=notify Gunicorn, graceful reload and stop, hardened to an exposure
score of at most 1.5 in `systemd-analyze security`."""

from __future__ import annotations

import shlex

from prodready.generate.artifact import Kind, Rendered
from prodready.generate.context import DeployContext
from prodready.generate.templates import render

EXPECTED_SCORE = "1.1"
"""Measured with systemd 252's `systemd-analyze security --offline=true`; the tests re-measure."""
STOP_MARGIN = 10
"""Seconds systemd waits past Gunicorn's graceful_timeout before it kills what is left."""
PRODREADY_BIN = "/usr/local/bin/prodready"
"""Where `pipx install --global` puts the command line: the app's own virtualenv has only the
runtime kit, not the CLI that backups need."""
BACKUP_HOUR = 3
"""The daily backup's hour (UTC in compose; the host's time zone under systemd)."""
BACKUP_TIMEOUT = "6h"


def default_app_dir(ctx: DeployContext) -> str:
    return f"/srv/{ctx.name}"


def render_unit(ctx: DeployContext, app_dir: str) -> str:
    return render(
        "systemd.service.j2",
        name=ctx.name,
        target=ctx.target,
        app_dir=app_dir,
        graceful_timeout=ctx.graceful_timeout,
        stop_timeout=ctx.graceful_timeout + STOP_MARGIN,
        expected_score=EXPECTED_SCORE,
    )


def render_systemd(ctx: DeployContext) -> list[Rendered]:
    path = f"{ctx.deploy_dir}/systemd/{ctx.name}.service"
    units = [Rendered(Kind.SYSTEMD, path, render_unit(ctx, default_app_dir(ctx)))]
    if ctx.worker is not None:
        worker_path = f"{ctx.deploy_dir}/systemd/{ctx.name}-worker.service"
        text = render_worker_unit(ctx, default_app_dir(ctx))
        units.append(Rendered(Kind.SYSTEMD, worker_path, text))
    if ctx.postgres:
        service, timer = render_backup_units(ctx, default_app_dir(ctx), PRODREADY_BIN)
        units.append(
            Rendered(Kind.SYSTEMD, f"{ctx.deploy_dir}/systemd/{ctx.name}-backup.service", service)
        )
        units.append(
            Rendered(Kind.SYSTEMD, f"{ctx.deploy_dir}/systemd/{ctx.name}-backup.timer", timer)
        )
    return units


def render_backup_units(ctx: DeployContext, app_dir: str, prodready: str) -> tuple[str, str]:
    """The daily backup: a hardened oneshot service running `prodready backup` and its timer."""
    service = render(
        "systemd-backup.service.j2",
        name=ctx.name,
        app_dir=app_dir,
        prodready=prodready,
        timeout=BACKUP_TIMEOUT,
    )
    return service, render("systemd-backup.timer.j2", name=ctx.name, at=f"{BACKUP_HOUR:02d}:00:00")


def render_worker_unit(ctx: DeployContext, app_dir: str) -> str:
    assert ctx.worker is not None
    return render(
        "systemd-worker.service.j2",
        name=ctx.name,
        library=ctx.worker.library,
        app_dir=app_dir,
        command=shlex.join(ctx.worker.command),
        stop_timeout=ctx.graceful_timeout + STOP_MARGIN,
    )

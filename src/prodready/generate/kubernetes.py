"""Kubernetes Deployment (probes on the runtime kit's routes, locked-down securityContext),
Service and PodDisruptionBudget."""

from __future__ import annotations

from prodready.generate.artifact import Kind, Rendered
from prodready.generate.context import DeployContext
from prodready.generate.dockerfile import APP_UID
from prodready.generate.systemd import STOP_MARGIN
from prodready.generate.templates import render

PRESTOP_SECONDS = 5


def render_kubernetes(ctx: DeployContext) -> list[Rendered]:
    text = render(
        "kubernetes.yaml.j2",
        name=ctx.name,
        port=ctx.port,
        uid=APP_UID,
        live_path=ctx.probes.live,
        ready_path=ctx.probes.ready,
        metrics_path=ctx.probes.metrics,
        server_name=ctx.server_name,
        termination_grace=ctx.graceful_timeout + STOP_MARGIN + PRESTOP_SECONDS,
    )
    return [Rendered(Kind.KUBERNETES, f"{ctx.deploy_dir}/kubernetes/{ctx.name}.yaml", text)]

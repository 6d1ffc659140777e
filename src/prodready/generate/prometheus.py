"""Prometheus alert rules over prodready.runtime's metric names."""

from __future__ import annotations

from prodready.generate.artifact import Kind, Rendered
from prodready.generate.context import DeployContext
from prodready.generate.probes import KIT_METRICS
from prodready.generate.templates import render


def render_prometheus(ctx: DeployContext) -> list[Rendered]:
    path = f"deploy/prometheus/{ctx.name}-alerts.yml"
    text = render(
        "alerts.yml.j2",
        name=ctx.name,
        prefix="".join(part.capitalize() for part in ctx.name.split("-")),
        path=path,
        metrics_path=ctx.probes.metrics or KIT_METRICS,
        ready_path=ctx.probes.ready,
        note=ctx.probes.note,
    )
    return [Rendered(Kind.PROMETHEUS, path, text)]

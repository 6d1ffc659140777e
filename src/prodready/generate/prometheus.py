"""Prometheus alert rules over prodready.runtime's metric names, and the scrape jobs they
read (the app's metrics, its readiness through the blackbox exporter)."""

from __future__ import annotations

from prodready.generate.artifact import Kind, Rendered
from prodready.generate.context import DeployContext
from prodready.generate.templates import render
from prodready.project.probes import KIT_METRICS


def render_prometheus(ctx: DeployContext) -> list[Rendered]:
    rules_file = f"{ctx.name}-alerts.yml"
    path = f"{ctx.deploy_dir}/prometheus/{rules_file}"
    config_path = f"{ctx.deploy_dir}/prometheus/prometheus.yml"
    config = render(
        "prometheus.yml.j2",
        name=ctx.name,
        path=config_path,
        rules_file=rules_file,
        metrics_path=ctx.probes.metrics or KIT_METRICS,
        target=f"{ctx.name}:{ctx.port}",
        ready_path=ctx.probes.ready,
    )
    text = render(
        "alerts.yml.j2",
        name=ctx.name,
        prefix="".join(part.capitalize() for part in ctx.name.split("-")),
        path=path,
        metrics_path=ctx.probes.metrics or KIT_METRICS,
        ready_path=ctx.probes.ready,
        note=ctx.probes.note,
    )
    return [Rendered(Kind.PROMETHEUS, path, text), Rendered(Kind.PROMETHEUS, config_path, config)]

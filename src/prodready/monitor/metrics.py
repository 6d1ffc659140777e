"""The monitor's own Prometheus metrics: per endpoint, the last probe's result and latency
histogram, probes by result, up/down state and certificate days left; notifications by
outcome. Served at `/metrics` by `prodready monitor --metrics HOST:PORT`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from aiohttp import web

    from prodready.monitor.scheduler import Verdict

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class MonitorMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.success = Gauge(
            "prodready_monitor_probe_success",
            "1 if the endpoint's last verdict passed.",
            ["endpoint"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "prodready_monitor_probe_duration_seconds",
            "Latency of every probe, re-checks included.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.probes = Counter(
            "prodready_monitor_probes",
            "Probes made, by result (re-checks included).",
            ["endpoint", "result"],
            registry=self.registry,
        )
        self.up = Gauge(
            "prodready_monitor_endpoint_up",
            "1 up, 0 down (after re-checks and recovery successes).",
            ["endpoint"],
            registry=self.registry,
        )
        self.cert_days = Gauge(
            "prodready_monitor_cert_expiry_days",
            "Days until the endpoint's TLS certificate expires.",
            ["endpoint"],
            registry=self.registry,
        )
        self.notifications = Counter(
            "prodready_monitor_notifications",
            "Notifications by outcome (sent, failed).",
            ["outcome"],
            registry=self.registry,
        )

    def observe(self, verdict: Verdict, status: str) -> None:
        name = verdict.endpoint.name
        for _, result in verdict.probes:
            self.duration.labels(name).observe(result.latency)
            self.probes.labels(name, "ok" if result.ok else "fail").inc()
        self.success.labels(name).set(1 if verdict.ok else 0)
        if status in ("up", "down"):
            self.up.labels(name).set(1 if status == "up" else 0)
        if verdict.result.cert_days is not None:
            self.cert_days.labels(name).set(round(verdict.result.cert_days, 3))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


async def serve_metrics(metrics: MonitorMetrics, host: str, port: int) -> web.AppRunner:
    """Starts `/metrics` on host:port (0 picks a free port); returns the runner to clean up."""
    from aiohttp import web

    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=metrics.exposition(), content_type="text/plain", charset="utf-8")

    app = web.Application()
    app.router.add_get("/metrics", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner

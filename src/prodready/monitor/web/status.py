"""What the pages show, computed from the store: uptime over 24 h / 7 d / 30 d from incidents
(time down over time watched), p50/p95 latency over the last 24 h from minute rollups and the
raw results not rolled up yet, incidents with their duration, failed notifications."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from prodready.monitor.slo import SUFFIX
from prodready.monitor.store import Incident, Notification, Store

WINDOWS = (("24h", 86_400), ("7d", 7 * 86_400), ("30d", 30 * 86_400))
CHART_BUCKETS = 96
"""15-minute points over 24 h."""


@dataclass(frozen=True)
class EndpointStatus:
    name: str
    state: str
    """`up`, `down` or `unknown` (not probed yet)."""
    reason: str
    latency_ms: float | None
    cert_days: float | None
    uptime: dict[str, float | None]
    """Percent per window; None before the endpoint was watched at all."""
    chart: list[tuple[float, float, float]]
    """(bucket start, p50 ms, p95 ms) over the last 24 h."""
    incidents: list[Incident]
    """Downs and error-budget burns (named `<endpoint> error budget`), newest first."""


def uptime(
    incidents: list[Incident], first_seen: float | None, since: float, now: float
) -> float | None:
    """Percent of the watched part of [since, now] not inside an incident."""
    if first_seen is None or first_seen >= now:
        return None
    start = max(since, first_seen)
    down = sum(
        max(0.0, min(i.resolved_at or now, now) - max(i.started_at, start)) for i in incidents
    )
    return 100.0 * (1 - down / (now - start))


def latency_chart(store: Store, name: str, now: float) -> list[tuple[float, float, float]]:
    since = now - 86_400
    width = 86_400 / CHART_BUCKETS
    buckets: dict[int, list[tuple[int, int]]] = {}
    for rollup in store.rollups("minute", name, since):
        buckets.setdefault(int((rollup.start - since) // width), []).append(
            (rollup.p50_ms, rollup.p95_ms)
        )
    for at, _, latency, _ in store.results(name, max(since, store.rolled_until())):
        ms = round(latency * 1000)
        buckets.setdefault(int((at - since) // width), []).append((ms, ms))
    return [
        (
            since + index * width,
            statistics.median(p50 for p50, _ in points),
            max(p95 for _, p95 in points),
        )
        for index, points in sorted(buckets.items())
        if 0 <= index < CHART_BUCKETS
    ]


def endpoint_status(
    store: Store, name: str, state: str, reason: str, latency_ms: float | None,
    cert_days: float | None, now: float,
) -> EndpointStatus:  # fmt: skip
    incidents = store.incidents(
        "endpoint IN (?, ?) AND (resolved_at IS NULL OR resolved_at >= ?)",
        (name, name + SUFFIX, now - 30 * 86_400),
    )
    downs = [i for i in incidents if i.endpoint == name]  # a burning budget is not downtime
    first = store.first_seen(name)
    return EndpointStatus(
        name=name,
        state=state,
        reason=reason,
        latency_ms=latency_ms,
        cert_days=cert_days,
        uptime={label: uptime(downs, first, now - span, now) for label, span in WINDOWS},
        chart=latency_chart(store, name, now),
        incidents=sorted(incidents, key=lambda i: i.started_at, reverse=True)[:20],
    )


def failed_notifications(store: Store, now: float) -> list[Notification]:
    return store.notifications("state = 'failed' AND created_at >= ?", (now - 7 * 86_400,))[-20:]

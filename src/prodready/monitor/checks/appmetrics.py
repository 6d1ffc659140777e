"""The app's own Prometheus `/metrics` (`metrics+http://app:8000/metrics`): the error ratio
(5xx answers over all answers) and the p95 latency from the runtime kit's
`http_requests_total` and `http_request_duration_seconds` histogram, over the requests since
the previous scrape (since the app started, on the first one). No second Prometheus needed.

The previous scrape's totals are kept per endpoint in this module: the verdict is about the
interval between two scrapes, which is also why these checks are never re-checked at once
(a second scrape a moment later would see almost no requests)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prodready.monitor.checks import ProbeResult

if TYPE_CHECKING:
    import aiohttp

    from prodready.monitor.config import Endpoint

REQUESTS = "http_requests_total"
DURATION = "http_request_duration_seconds"
DEFAULT_MAX_ERROR_RATIO = 0.05


@dataclass
class Totals:
    requests: float = 0.0
    errors: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)
    """Cumulative count per upper bound (le), summed over every method and route."""

    def minus(self, earlier: Totals) -> Totals:
        """The requests between two scrapes; a counter that went down means the app restarted,
        so this scrape's totals are all new."""
        if self.requests < earlier.requests:
            return self
        return Totals(
            self.requests - earlier.requests,
            self.errors - earlier.errors,
            {le: n - earlier.buckets.get(le, 0.0) for le, n in self.buckets.items()},
        )


_previous: dict[str, Totals] = {}


def read_totals(text: str) -> Totals:
    from prometheus_client.parser import text_string_to_metric_families

    totals = Totals()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == REQUESTS:
                totals.requests += sample.value
                if str(sample.labels.get("status", "")).startswith("5"):
                    totals.errors += sample.value
            elif sample.name == f"{DURATION}_bucket":
                le = float(sample.labels["le"])
                totals.buckets[le] = totals.buckets.get(le, 0.0) + sample.value
    return totals


def quantile(buckets: dict[float, float], q: float) -> float | None:
    """histogram_quantile as Prometheus computes it: linear inside the bucket that holds the
    q-th observation; the highest finite bound when it falls in +Inf."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return None
    rank = q * buckets[bounds[-1]]
    lower_bound, lower_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return lower_bound


async def check_app_metrics(endpoint: Endpoint, session: aiohttp.ClientSession) -> ProbeResult:
    url = endpoint.url.removeprefix("metrics+")
    started = time.perf_counter()
    async with session.get(url) as response:
        text = await response.text()
    latency = time.perf_counter() - started
    if response.status != 200:
        return ProbeResult(False, latency, f"metrics: HTTP {response.status}")
    now = read_totals(text)
    if now.requests == 0 and not now.buckets:
        return ProbeResult(False, latency, f"metrics: no {REQUESTS} at {url}")
    window = now.minus(_previous.get(endpoint.name, Totals()))
    _previous[endpoint.name] = now
    if window.requests <= 0:
        return ProbeResult(True, latency, "no requests since the last scrape")
    ratio = window.errors / window.requests
    limit = endpoint.max_error_ratio
    if limit is None:
        limit = DEFAULT_MAX_ERROR_RATIO
    if ratio > limit:
        return ProbeResult(
            False,
            latency,
            f"error ratio {ratio:.1%} > {limit:.1%} "
            f"({window.errors:.0f} of {window.requests:.0f} requests)",
        )
    p95 = quantile(window.buckets, 0.95)
    if endpoint.max_p95 is not None and p95 is not None and p95 > endpoint.max_p95:
        return ProbeResult(
            False, latency, f"p95 {p95 * 1000:.0f}ms > {endpoint.max_p95 * 1000:.0f}ms"
        )
    shown = f", p95 {p95 * 1000:.0f}ms" if p95 is not None else ""
    return ProbeResult(
        True, latency, f"error ratio {ratio:.1%} of {window.requests:.0f} requests{shown}"
    )

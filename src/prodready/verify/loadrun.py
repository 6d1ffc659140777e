"""Load for the items that put load on the app (compare, reload, deploy), through
`prodready.load`: the requests production's front would send, what counts as a failed request,
and the latency-over-time series the HTML report charts."""

from __future__ import annotations

import threading
from dataclasses import replace

from prodready.load import BackgroundLoad, LoadConfig, LoadResult, config_for

REPORT_INTERVAL_S = 0.25
"""Runs here last seconds, not minutes: quarter-second points still draw a curve."""
TIMEOUT_S = 5.0
"""A request unanswered this long is a failed one (a reload or a switch must not stall)."""
FLOWING_TIMEOUT_S = 15.0


def front_headers(server_name: str) -> dict[str, str]:
    """What nginx sends the app for a client request: the site's name as Host (the one the
    app's allowed hosts accept) and the scheme the client used."""
    return {"Host": server_name, "X-Forwarded-Proto": "https"}


def load_config(
    url: str,
    headers: dict[str, str],
    *,
    connections: int,
    duration: float,
    rate: float | None = None,
) -> LoadConfig:
    """One worker process (the CPUs are the servers'), closed model unless `rate` is given."""
    config = config_for(
        url,
        rate=rate,
        duration=duration,
        connections=connections,
        workers=1,
        headers=headers,
        timeout=TIMEOUT_S,
    )
    return replace(config, report_interval_s=REPORT_INTERVAL_S)


def start_flowing(config: LoadConfig) -> BackgroundLoad:
    """Starts the load in the background and returns once requests flow (its first report
    interval is in), so what is done to the server next lands in steady traffic."""
    flowing = threading.Event()
    load = BackgroundLoad(config, lambda _progress: flowing.set())
    flowing.wait(FLOWING_TIMEOUT_S)
    return load


def failed(result: LoadResult) -> int:
    """Failed requests: transport errors (refused, reset, timeout) and answers of 400 or
    more. The routes loaded answered 2xx before the run, so any other answer is a failure."""
    return result.error_count


def failure_text(result: LoadResult) -> str:
    kinds = ", ".join(f"{kind} {count}" for kind, count in result.errors.items())
    return kinds or "none"


def p99_series(result: LoadResult, offset_s: float = 0.0) -> list[tuple[float, float]]:
    """(seconds, p99 ms) per report interval that had responses, shifted by `offset_s`."""
    return [
        (round(offset_s + i.t_s + i.duration_s, 3), i.p99_ms)
        for i in result.timeline
        if i.responses
    ]

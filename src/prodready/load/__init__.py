"""`prodready load`: an HTTP load generator with HDR latency, open and closed models, SLO gates.

From Python::

    from prodready.load import run

    result = run("http://127.0.0.1:8000/health", rate=200, duration=5)
    result.latency_ms(99), result.rps, result.errors   # {'timeout': 2, 'http_503': 7, ...}

`rate` set means the open model (constant arrival, latency from the intended send time);
without it each of `connections` sends its next request when the previous one is answered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from prodready.load.config import DEFAULT_TIMEOUT_S, LoadConfig, build_config, parse_header
from prodready.load.engine import Progress, run_load
from prodready.load.result import LoadResult

__all__ = ["LoadConfig", "LoadResult", "Progress", "run", "run_load"]


def run(
    url: str,
    *,
    rate: float | None = None,
    duration: float | None = None,
    requests: int | None = None,
    connections: int | None = None,
    workers: int | None = 1,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | str = b"",
    timeout: float = DEFAULT_TIMEOUT_S,
    insecure: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
) -> LoadResult:
    """Loads `url` and returns the merged result.

    `duration` is in seconds (default 10 unless `requests` is given); `workers=None` uses
    every CPU this process may run on. Raises `prodready.errors.UserError` for bad input.
    """
    header_pairs = tuple(
        parse_header(f"{name}: {value}") for name, value in (headers or {}).items()
    )
    config = build_config(
        url,
        method=method,
        headers=header_pairs,
        body=body.encode() if isinstance(body, str) else body,
        connections=connections,
        duration_s=duration,
        total_requests=requests,
        rate=rate,
        workers=workers,
        timeout_s=timeout,
        insecure=insecure,
    )
    return run_load(config, on_progress)

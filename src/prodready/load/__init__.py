"""`prodready load`: an HTTP load generator with HDR latency, open and closed models, SLO gates.

From Python::

    from prodready.load import run, start

    result = run("http://127.0.0.1:8000/health", rate=200, duration=5)
    result.latency_ms(99), result.rps, result.errors   # {'timeout': 2, 'http_503': 7, ...}

    with start("http://127.0.0.1:8000/", rate=200, duration=10) as load:
        reload_the_server()                              # load keeps arriving meanwhile
    load.wait().errors                                   # what the reload cost

`rate` set means the open model (constant arrival, latency from the intended send time);
without it each of `connections` sends its next request when the previous one is answered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypedDict, Unpack

from prodready.load.config import DEFAULT_TIMEOUT_S, LoadConfig, build_config, parse_header
from prodready.load.engine import BackgroundLoad, Progress, run_load
from prodready.load.result import LoadResult

__all__ = [
    "BackgroundLoad",
    "LoadConfig",
    "LoadOptions",
    "LoadResult",
    "Progress",
    "config_for",
    "run",
    "run_load",
    "start",
]


def config_for(
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
) -> LoadConfig:
    """A checked `LoadConfig` from plain arguments (seconds, requests per second).

    `duration` defaults to 10 s unless `requests` is given; `workers=None` uses every CPU
    this process may run on. Raises `prodready.errors.UserError` for bad input.
    """
    header_pairs = tuple(
        parse_header(f"{name}: {value}") for name, value in (headers or {}).items()
    )
    return build_config(
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


class LoadOptions(TypedDict, total=False):
    """The keyword arguments of `run`, `start` and `config_for`."""

    rate: float | None
    duration: float | None
    requests: int | None
    connections: int | None
    workers: int | None
    method: str
    headers: Mapping[str, str] | None
    body: bytes | str
    timeout: float
    insecure: bool


def run(
    url: str,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    **options: Unpack[LoadOptions],
) -> LoadResult:
    """Loads `url` and returns the merged result; `options` are those of `config_for`."""
    return run_load(config_for(url, **options), on_progress)


def start(
    url: str,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    **options: Unpack[LoadOptions],
) -> BackgroundLoad:
    """Starts loading `url` in the background; `.wait()` returns the result, `.stop()` ends
    it early. `options` are those of `config_for`."""
    return BackgroundLoad(config_for(url, **options), on_progress)

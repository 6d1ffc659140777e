"""One probe of one endpoint: `probe(endpoint, session)` returns a `ProbeResult`, never raises."""

from __future__ import annotations

import asyncio
import os
import ssl
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import aiohttp

    from prodready.monitor.config import Endpoint


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    latency: float
    """Seconds the probe took (to the response headers for HTTP, to connect for TCP)."""
    reason: str = ""
    """Why it failed (or a warning on a passing probe, such as health+json `warn`)."""
    cert_days: float | None = None


_HEAVY_IMPORTS = {"postgres": "psycopg", "redis": "redis.asyncio", "host": "psutil"}


def preload(kinds: set[str]) -> None:
    """Imports the client libraries these kinds of check use, before any probe runs: a first
    import inside a probe would block the event loop and inflate every latency measured then."""
    import importlib

    for kind in kinds & _HEAVY_IMPORTS.keys():
        importlib.import_module(_HEAVY_IMPORTS[kind])


async def probe(endpoint: Endpoint, session: aiohttp.ClientSession | None) -> ProbeResult:
    """Runs the endpoint's check once, bounded by its timeout; any error is a failed probe."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(endpoint.timeout):
            return await _run(endpoint, session)
    except TimeoutError:
        return ProbeResult(
            False, time.perf_counter() - started, f"timeout after {endpoint.timeout:g}s"
        )
    except Exception as error:  # a probe reports every failure; it never stops the monitor
        return ProbeResult(False, time.perf_counter() - started, describe(error))


async def _run(endpoint: Endpoint, session: aiohttp.ClientSession | None) -> ProbeResult:
    if endpoint.kind == "http":
        from prodready.monitor.checks.http import check_http

        assert session is not None, "HTTP checks need the monitor's client session"
        return await check_http(endpoint, session)
    if endpoint.kind == "metrics":
        from prodready.monitor.checks.appmetrics import check_app_metrics

        assert session is not None, "metrics checks need the monitor's client session"
        return await check_app_metrics(endpoint, session)
    if endpoint.kind == "tcp":
        from prodready.monitor.checks.tcp import check_tcp

        return await check_tcp(endpoint)
    if endpoint.kind == "tls":
        from prodready.monitor.checks.tls import check_tls

        return await check_tls(endpoint)
    if endpoint.kind == "postgres":
        from prodready.monitor.checks.postgres import check_postgres

        return await check_postgres(endpoint)
    if endpoint.kind == "redis":
        from prodready.monitor.checks.redis import check_redis

        return await check_redis(endpoint)
    from prodready.monitor.checks.host import check_host

    return await check_host(endpoint)


def _os_reason(error: OSError) -> str:
    return (os.strerror(error.errno) if error.errno else str(error.strerror)).lower()


def describe(error: BaseException) -> str:
    """One short line for a failed probe or send: `cannot connect to host:port: connection
    refused` rather than aiohttp's repr of the whole connection key."""
    certificate = getattr(error, "certificate_error", None)
    if isinstance(certificate, ssl.SSLError):
        detail = getattr(certificate, "verify_message", None) or certificate.reason
        return f"certificate verify failed: {detail}"
    os_error = getattr(error, "os_error", None)
    if isinstance(os_error, ssl.SSLError):
        return f"TLS: {os_error.reason or os_error}"
    if isinstance(os_error, OSError) and hasattr(error, "port"):
        host = getattr(error, "host", "")
        return f"cannot connect to {host}:{error.port}: {_os_reason(os_error)}"
    if isinstance(error, OSError) and (error.errno or error.strerror):
        return _os_reason(error)
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__

"""TCP connect: the port accepts a connection within the timeout."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from prodready.monitor.checks import ProbeResult

if TYPE_CHECKING:
    from prodready.monitor.config import Endpoint


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if not parts.hostname or not parts.port:
        raise ValueError(f"{url}: needs a host and a port, as tcp://db.internal:5432")
    return parts.hostname, parts.port


async def check_tcp(endpoint: Endpoint) -> ProbeResult:
    host, port = host_port(endpoint.url)
    started = time.perf_counter()
    _, writer = await asyncio.open_connection(host, port)
    latency = time.perf_counter() - started
    writer.close()
    await writer.wait_closed()
    return ProbeResult(True, latency)

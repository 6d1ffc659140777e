"""Redis: `PING` answers PONG within the timeout."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from prodready.monitor.checks import ProbeResult

if TYPE_CHECKING:
    from prodready.monitor.config import Endpoint


async def check_redis(endpoint: Endpoint) -> ProbeResult:
    import redis.asyncio

    started = time.perf_counter()
    client = redis.asyncio.Redis.from_url(
        endpoint.url, socket_timeout=endpoint.timeout, socket_connect_timeout=endpoint.timeout
    )
    try:
        answered = await client.ping()
    finally:
        await client.aclose()
    latency = time.perf_counter() - started
    return ProbeResult(bool(answered), latency, "" if answered else "PING not answered")

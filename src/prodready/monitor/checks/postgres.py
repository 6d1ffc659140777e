"""PostgreSQL: connect and `SELECT 1` within the timeout (psycopg's async connection)."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from prodready.monitor.checks import ProbeResult

if TYPE_CHECKING:
    from prodready.monitor.config import Endpoint


async def check_postgres(endpoint: Endpoint) -> ProbeResult:
    import psycopg

    started = time.perf_counter()
    async with await psycopg.AsyncConnection.connect(
        endpoint.url, connect_timeout=max(1, math.ceil(endpoint.timeout)), autocommit=True
    ) as connection:
        cursor = await connection.execute("SELECT 1")
        row = await cursor.fetchone()
    latency = time.perf_counter() - started
    if row != (1,):
        return ProbeResult(False, latency, f"SELECT 1 returned {row!r}")
    return ProbeResult(True, latency)

"""The host the monitor runs on: CPU, memory, disk and load against their limits (psutil)."""

from __future__ import annotations

import asyncio
import os
import time
from typing import TYPE_CHECKING

from prodready.monitor.checks import ProbeResult

if TYPE_CHECKING:
    from prodready.monitor.config import Endpoint


def host_readings(disk_path: str) -> dict[str, float]:
    """CPU % (over a short sample), memory %, disk % of `disk_path`, 1-minute load per CPU."""
    import psutil

    return {
        "cpu": psutil.cpu_percent(interval=0.2),
        "memory": psutil.virtual_memory().percent,
        "disk": psutil.disk_usage(disk_path).percent,
        "load": os.getloadavg()[0] / (psutil.cpu_count() or 1),
    }


async def check_host(endpoint: Endpoint) -> ProbeResult:
    started = time.perf_counter()
    readings = await asyncio.to_thread(host_readings, endpoint.disk_path)
    limits = {
        "cpu": endpoint.max_cpu_percent,
        "memory": endpoint.max_memory_percent,
        "disk": endpoint.max_disk_percent,
        "load": endpoint.max_load,
    }
    over = [
        f"{name} {readings[name]:.1f}{'' if name == 'load' else '%'} > {limit:g}"
        for name, limit in limits.items()
        if limit is not None and readings[name] > limit
    ]
    latency = time.perf_counter() - started
    return ProbeResult(not over, latency, "; ".join(over))

"""A year of history for many endpoints, written fast through the store's own API on a fake
clock: every simulated day writes that day's hourly rollups and prunes as the monitor does;
minute rollups are written for the last 31 days and raw results for the last 3 (older ones
would be pruned the same day they were written, so writing them proves nothing but time)."""

from __future__ import annotations

from pathlib import Path

from prodready.monitor.store import Rollup, Store

DAY = 86_400
START = 1_767_225_600  # 2026-01-01T00:00:00Z


def simulate_year(path: Path, endpoints: int = 100, interval: float = 30.0) -> Store:
    store = Store(path)
    names = [f"endpoint-{i:03}" for i in range(endpoints)]
    per_minute = max(1, round(60 / interval))
    per_hour = round(3600 / interval)
    for day in range(365):
        start = START + day * DAY
        store.write_rollups(
            "hour",
            (
                Rollup(
                    start + h * 3600, name, per_hour, int((h + i) % 97 == 0), 40 + i % 7, 180 + h
                )
                for h in range(24)
                for i, name in enumerate(names)
            ),
        )
        if day >= 365 - 31:
            store.write_rollups(
                "minute",
                (
                    Rollup(
                        start + m * 60,
                        name,
                        per_minute,
                        int((m + i) % 331 == 0),
                        40 + m % 9,
                        120 + m % 60,
                    )
                    for m in range(1440)
                    for i, name in enumerate(names)
                ),
            )
        if day >= 365 - 3:
            store.record(
                (start + k * interval + i * interval / endpoints, name, k % 500 != 7, 0.041, "")
                for k in range(int(DAY / interval))
                for i, name in enumerate(names)
            )
        store.prune(start + DAY)
    return store

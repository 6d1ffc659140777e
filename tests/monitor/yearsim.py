"""A year of history for many endpoints, written fast through the store's own API on a fake
clock: every simulated day writes that day's hourly rollups and prunes as the monitor does;
minute rollups are written for the last 31 days and raw results for the last 3 (older ones
would be pruned the same day they were written, so writing them proves nothing but time).

By hand, on any store (the tests run it on SQLite only; minutes of work on PostgreSQL):
`python -m tests.monitor.yearsim postgresql://postgres@127.0.0.1/scratch --endpoints 100`."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from prodready.monitor.store import Rollup, Store

DAY = 86_400
START = 1_767_225_600  # 2026-01-01T00:00:00Z


def simulate_year(path: Path | str, endpoints: int = 100, interval: float = 30.0) -> Store:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", help="an empty SQLite file or PostgreSQL database (URL)")
    parser.add_argument("--endpoints", type=int, default=100)
    args = parser.parse_args()
    started = time.monotonic()
    store = simulate_year(args.store, endpoints=args.endpoints, interval=30)
    took = time.monotonic() - started
    rows = [
        store.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("results", "rollup_minute", "rollup_hour")
    ]
    size = store.size_bytes()
    store.close()
    print(
        f"{args.endpoints} endpoints, a year at 30 s: {rows[0]:,} raw results, {rows[1]:,} "
        f"minute and {rows[2]:,} hourly rollups written in {took:.0f} s: {size / 1e6:.0f} MB, "
        f"{size / 1e6 / args.endpoints:.2f} MB per endpoint-year"
    )


if __name__ == "__main__":
    main()

"""The store on SQLite and on PostgreSQL: rollups made from raw results, pruning by retention,
the one-monitor lock; and (SQLite only: minutes of work) a simulated year of 100 endpoints at
a 30 s interval staying under 200 MB."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodready.errors import InputError
from prodready.monitor.config import Retention
from prodready.monitor.store import Rollup, Store
from tests.monitor.yearsim import DAY, START, simulate_year
from tests.services import pg_admin, scratch_database


def test_raw_results_fold_into_minutes_and_hours(store_at: Path | str) -> None:
    store = Store(store_at)
    base = START + 7200  # an hour boundary
    rows = []
    for second in range(0, 7200, 10):
        ok = not (600 <= second < 660)  # one minute of failures in the first hour
        rows.append((base + second, "api", ok, (second % 60 + 10) / 1000, "" if ok else "HTTP 503"))
    store.record(rows)
    store.roll_up(base + 7200 + 5)
    minutes = store.rollups("minute", "api", base)
    assert len(minutes) == 120
    assert minutes[10].failures == 6 and minutes[10].probes == 6
    assert sum(m.failures for m in minutes) == 6
    assert (minutes[0].p50_ms, minutes[0].p95_ms) == (35, 60)
    hours = store.rollups("hour", "api", base)
    assert [(h.probes, h.failures) for h in hours] == [(360, 6), (360, 0)]
    store.roll_up(base + 7200 + 65)  # nothing new: no double counting
    assert store.rollups("hour", "api", base)[0].probes == 360


def test_prune_keeps_each_table_to_its_retention(store_at: Path | str) -> None:
    store = Store(store_at, Retention(raw=3600, minute=2 * 3600, hour=DAY))
    now = START + 10 * DAY
    store.record((now - age, "api", True, 0.01, "") for age in range(0, 3 * 3600, 60))
    store.roll_up(now)
    store.prune(now)
    assert min(at for at, *_ in store.results("api", 0)) >= now - 3600
    assert min(r.start for r in store.rollups("minute", "api", 0)) >= now - 2 * 3600
    assert store.rollups("hour", "api", 0)


def test_rollups_of_an_endpoint_not_yet_seen(store_at: Path | str) -> None:
    store = Store(store_at)
    store.write_rollups("hour", [Rollup(START, "new", 120, 1, 40, 90)])
    assert store.rollups("hour", "new", 0) == [Rollup(START, "new", 120, 1, 40, 90)]


def test_one_monitor_per_store(store_at: Path | str) -> None:
    first = Store(store_at)
    first.lock()
    second = Store(store_at)
    with pytest.raises(InputError) as refused:
        second.lock()
    assert str(refused.value) == f"another monitor is running on {first.shown}"
    first.close()  # a stopped monitor frees the store at once
    second.lock()
    second.close()


def test_a_year_of_100_endpoints_at_30s_stays_under_200_mb(tmp_path: Path) -> None:
    store = simulate_year(tmp_path / "year.db", endpoints=100, interval=30)
    size = store.size_bytes()
    assert size < 200 * 1024 * 1024, f"{size / 1e6:.0f} MB"
    end = START + 365 * DAY
    minutes = store.db.execute("SELECT min(minute), count(*) FROM rollup_minute").fetchone()
    assert minutes[0] * 60 >= end - 30 * DAY - 60
    assert minutes[1] <= 100 * 1440 * 30 + 100
    hours = store.db.execute("SELECT count(*) FROM rollup_hour").fetchone()[0]
    assert hours == 100 * 24 * 365
    raw = store.db.execute("SELECT min(at_us) FROM results").fetchone()[0]
    assert raw / 1e6 >= end - 48 * 3600


def test_a_lost_postgresql_session_is_replaced_with_its_lock(pg_url: str) -> None:
    """PostgreSQL ending the monitor's session (a restart, a dropped network) costs one failed
    write, retried by the monitor; the next call opens a new session and takes the lock again."""
    with scratch_database("mon") as (_, url):
        store = Store(url)
        store.lock()
        (pid,) = store.db.execute("SELECT pg_backend_pid()").fetchone()
        with pg_admin() as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(store.errors):
            store.record([(START, "api", True, 0.01, "")])
        store.record([(START, "api", True, 0.01, "")])
        assert [ok for _, ok, _, _ in store.results("api", 0)] == [True]
        with pytest.raises(InputError):
            Store(url).lock()
        store.close()

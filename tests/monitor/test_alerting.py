"""Alert decisions on a fake clock, against a real store (SQLite, then PostgreSQL): grouping,
dedup, resolved, reminders, maintenance, silences, a restart (a new Store on the same file or
database) and the one-monitor lock."""

from __future__ import annotations

from pathlib import Path

from prodready.monitor.alerting import Alerter
from prodready.monitor.config import Alerting, Maintenance
from prodready.monitor.detection import Tracker
from prodready.monitor.store import Store

ALERTING = Alerting(group_wait=3, group_max_wait=30, reminder_interval=3600, webhooks=("http://x",))


def alerter(location: Path | str, *windows: Maintenance) -> Alerter:
    return Alerter(Store(location), ALERTING, windows)


def sent(a: Alerter) -> list[tuple[str, str]]:
    return [(n.kind, n.title) for n in a.store.notifications()]


def test_a_storm_is_one_notification_and_its_recovery_another(store_at: Path | str) -> None:
    a = alerter(store_at)
    for i in range(20):
        a.store.open_incident(f"api-{i:02}", 1000 + i * 0.5, "HTTP 503")
    assert a.tick(1010) == []  # the last joined 0.5 s ago: the group is still open
    assert [b.kind for b in a.tick(1013)] == ["firing"]
    assert a.tick(1014) == []  # dedup: nothing new
    ((kind, title),) = sent(a)
    assert kind == "firing" and title.startswith("20 endpoints down: api-00, api-01")
    assert title.endswith("and 10 more")
    for i in range(20):
        a.store.resolve_incident(f"api-{i:02}", 1100 + i * 0.1)
    a.tick(1101)
    assert len(sent(a)) == 1
    assert [b.kind for b in a.tick(1110)] == ["resolved"]
    assert sent(a)[-1] == (
        "resolved",
        "20 recovered: " + ", ".join(f"api-{i:02}" for i in range(10)) + " and 10 more",
    )


def test_a_group_waits_at_most_group_max_wait(store_at: Path | str) -> None:
    a = alerter(store_at)
    for second in range(0, 40, 2):  # a new alert every 2 s would keep a pure debounce open
        a.store.open_incident(f"e{second}", 1000 + second, "down")
        a.tick(1000 + second)
    kinds = [n.kind for n in a.store.notifications()]
    assert kinds == ["firing"]
    assert "16 endpoints down" in sent(a)[0][1]  # e0..e30: the tick at 1030 sends them


def test_reminders_repeat_at_the_interval_only(store_at: Path | str) -> None:
    a = alerter(store_at)
    a.store.open_incident("db", 0, "timeout")
    for now in (5, 3000, 3604, 3606, 7000, 7206):  # due at 3605, then at 7206
        a.tick(now)
    assert [k for k, _ in sent(a)] == ["firing", "reminder", "reminder"]
    assert sent(a)[1][1] == "1 endpoint still down: db"


def test_silence_and_maintenance_hold_notifications(store_at: Path | str) -> None:
    window = Maintenance(start=0, end=500, endpoints=("web-*",))
    a = alerter(store_at, window)
    a.store.add_silence("db", until=200, now=0)
    a.store.open_incident("db error budget", 5, "page: error ratio 50%")
    a.store.resolve_incident("db error budget", 100)  # burned and ended inside the silence
    a.store.open_incident("web-1", 10, "HTTP 502")
    a.store.open_incident("db", 10, "timeout")
    a.store.open_incident("api", 10, "HTTP 500")
    a.tick(20)
    assert sent(a) == [("firing", "1 endpoint down: api")]
    a.tick(210)  # the silence is over, db still down: notified now
    assert sent(a)[-1] == ("firing", "1 endpoint down: db")
    a.store.resolve_incident("web-1", 300)  # opened and closed inside the window: nothing
    a.tick(600)
    assert len(sent(a)) == 2


def test_restart_neither_resends_nor_loses(store_at: Path | str) -> None:
    first = alerter(store_at)
    first.store.open_incident("api", 100, "HTTP 503")
    first.tick(104)
    first.store.open_incident("web", 110, "HTTP 503")  # due at 113, but the monitor stops
    first.store.close()
    second = alerter(store_at)
    assert not second.store.open_incident("api", 120, "HTTP 503")  # dedup across the restart
    second.tick(130)
    assert [title for _, title in sent(second)] == ["1 endpoint down: api", "1 endpoint down: web"]
    second.tick(140)
    assert len(sent(second)) == 2


def test_only_the_configured_endpoints_are_notified(store_at: Path | str) -> None:
    a = Alerter(Store(store_at), ALERTING, (), {"api"})
    a.store.open_incident("api", 0, "HTTP 503")
    a.store.open_incident("removed-from-config", 0, "HTTP 503")
    a.tick(10)
    a.tick(4000)
    assert sent(a) == [
        ("firing", "1 endpoint down: api"),
        ("reminder", "1 endpoint still down: api"),
    ]


def test_tracker_needs_confirmed_failures_and_n_successes() -> None:
    tracker = Tracker(failure_threshold=1, recovery_successes=2)
    assert [tracker.observe(ok) for ok in (True, False, True, False, True, True)] == [
        None,
        "down",
        None,
        None,
        None,
        "up",
    ]
    gatus = Tracker(failure_threshold=3, recovery_successes=2)
    assert [gatus.observe(ok) for ok in (False, False, True, False, False, False)] == [
        None,
        None,
        None,
        None,
        None,
        "down",
    ]


def test_a_store_that_fails_does_not_stop_the_probes(store_at: Path | str) -> None:
    import asyncio

    from prodready.monitor.config import single_endpoint_config
    from prodready.monitor.scheduler import Monitor
    from tests.monitor.conftest import start_target

    process, target = start_target()
    try:
        config = single_endpoint_config(target.url("a"), store_at, interval="100ms")
        store = Store(config.store)
        events: list[dict[str, object]] = []
        monitor = Monitor(config, store, events.append)

        async def run() -> int:
            stop = asyncio.Event()
            task = asyncio.create_task(monitor.run(stop))
            for _ in range(100):  # until the first verdict (bounded: 10 s)
                if monitor.latest:
                    break
                await asyncio.sleep(0.1)
            store.close()  # every write from now on fails
            before = (await asyncio.to_thread(target.hits))["a"]
            await asyncio.sleep(1.0)
            stop.set()
            await task
            return (await asyncio.to_thread(target.hits))["a"] - before

        assert asyncio.run(run()) >= 5
        errors = [e for e in events if e["event"] == "store error"]
        assert len(errors) == 1 and "closed" in str(errors[0]["error"])
    finally:
        process.terminate()
        process.wait(timeout=10)

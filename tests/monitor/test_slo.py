"""SLO burn-rate alerts: the multi-window rule on minute buckets of probe outcomes, and the
error-budget incident it opens, notifies and resolves through the store."""

from __future__ import annotations

from pathlib import Path

from prodready.monitor.alerting import Alerter
from prodready.monitor.config import Alerting, single_endpoint_config
from prodready.monitor.scheduler import Monitor
from prodready.monitor.slo import BurnRate
from prodready.monitor.store import Store

START = 1_767_225_600.0
PROBES_PER_HOUR = 360  # a 10 s interval


def feed(rate: BurnRate, hours: float, failing: object = lambda k: False) -> float:
    """Probes every 10 s for `hours` from START; `failing(k)` says which fail. Returns the end."""
    total = int(hours * PROBES_PER_HOUR)
    for k in range(total):
        rate.add(START + k * 10, not failing(k))  # type: ignore[operator]
    return START + total * 10


def test_healthy_and_single_blips_never_burn() -> None:
    rate = BurnRate(99.9)
    assert rate.evaluate(feed(rate, 6)) is None
    sparse = BurnRate(99.9)  # a 60 s interval: one blip is 1/60 of an hour, over 14.4 x 0.1 %
    for k in range(360):
        sparse.add(START + k * 60, k != 300)
    assert sparse.evaluate(START + 301 * 60) is None


def test_an_outage_pages_and_a_slow_leak_opens_a_ticket() -> None:
    outage = BurnRate(99.9)
    end = feed(outage, 6, lambda k: k >= 6 * PROBES_PER_HOUR - 18)  # the last 3 minutes fail
    burn = outage.evaluate(end)
    assert burn is not None and burn.severity == "page"
    # minute buckets: the windows end in the current (still empty) minute: 59 and 4 full ones
    assert (burn.long_ratio, burn.short_ratio) == (18 / 354, 18 / 24)
    assert burn.describe(outage.budget).startswith(
        "page: error ratio 5.08% over 1h and 75.00% over 5m, 51x the budget"
    )
    leak = BurnRate(99.9)
    feed(leak, 6, lambda k: k % 60 == 0)  # one probe in 60 fails: 1.7 %, every 10 minutes
    # 7 minutes after the last failure: nothing in the last 5 m, so no page; 6 h and 30 m burn 6x+
    last_failure = START + (6 * PROBES_PER_HOUR - 60) * 10
    verdict = leak.evaluate(last_failure + 7 * 60)
    assert verdict is not None and verdict.severity == "ticket"


def test_the_error_budget_incident_is_opened_notified_and_resolved(tmp_path: Path) -> None:
    config = single_endpoint_config("http://127.0.0.1:9/api", tmp_path / "m.db", slo=99.9)
    store = Store(config.store)
    monitor = Monitor(config, store, clock=lambda: START)
    name = config.endpoints[0].name
    end = feed(monitor.burn[name], 2, lambda k: k >= 2 * PROBES_PER_HOUR - 30)
    monitor._judge_burn(end)
    (incident,) = store.open_incidents()
    assert incident.endpoint == f"{name} error budget"
    assert incident.reason.startswith("page: error ratio ")
    alerter = Alerter(store, Alerting(webhooks=("http://x",)), (), {f"{name} error budget"})
    alerter.tick(end + 5)
    assert [n.title for n in store.notifications()] == [
        f"1 burning their error budget: {name} error budget"
    ]
    feed(monitor.burn[name], 0)  # nothing new: still burning
    monitor._judge_burn(end + 30)
    assert len(store.open_incidents()) == 1
    for k in range(6 * 60):  # an hour of successes later
        monitor.burn[name].add(end + k * 10, True)
    monitor._judge_burn(end + 3600)
    assert store.open_incidents() == []

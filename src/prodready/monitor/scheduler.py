"""The monitor's loop: each endpoint probed on its own schedule (spread over the interval so
1,000 endpoints do not fire at once), failed probes re-checked before they count, results
buffered and written every tick (0.25 s), alerts decided and delivered beside the probes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prodready.monitor.alerting import Alerter
from prodready.monitor.checks import ProbeResult, preload, probe
from prodready.monitor.config import Endpoint, MonitorConfig
from prodready.monitor.detection import Tracker
from prodready.monitor.slo import KEEP_S, SUFFIX, BurnRate

if TYPE_CHECKING:
    import aiohttp

    from prodready.monitor.metrics import MonitorMetrics
    from prodready.monitor.notify import Deliverer
    from prodready.monitor.store import Store

TICK = 0.25
"""Seconds between alert decisions and result flushes."""
HOUSEKEEPING = 60.0
"""Seconds between rollups and pruning."""
MAX_BUFFERED = 100_000
"""Results kept in memory while the store cannot be written (then the oldest are dropped)."""
BURN_EVERY = 30.0
"""Seconds between SLO burn-rate evaluations."""

EventSink = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Verdict:
    endpoint: Endpoint
    ok: bool
    result: ProbeResult
    """The probe the verdict rests on: the first success, or the last failure."""
    probes: tuple[tuple[float, ProbeResult], ...]
    blip: bool
    """A probe failed and a re-check passed: recorded, but not counted as down."""


def client_session() -> aiohttp.ClientSession:
    """One keep-alive session for every HTTP check (no per-host connection limit)."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
    return aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": "prodready-monitor"},
        timeout=aiohttp.ClientTimeout(total=None),
    )


class Monitor:
    def __init__(
        self,
        config: MonitorConfig,
        store: Store | None = None,
        on_event: EventSink = lambda event: None,
        clock: Callable[[], float] = time.time,
        metrics: MonitorMetrics | None = None,
    ) -> None:
        self.config = config
        self.metrics = metrics
        self.store = store
        self._store_errors: tuple[type[Exception], ...] = store.errors if store else ()
        self.on_event = on_event
        self.clock = clock
        self.trackers = {
            e.name: Tracker(config.failure_threshold, config.recovery_successes)
            for e in config.endpoints
        }
        self.burn = {e.name: BurnRate(e.slo) for e in config.endpoints if e.slo is not None}
        self.latest: dict[str, Verdict] = {}
        """Each endpoint's last verdict (for the status page)."""
        self._buffer: list[tuple[float, str, bool, float, str]] = []
        self._last_store_error = ""
        self.probes = 0
        self.rechecks = 0
        """Probes made by the running monitor, and how many of them were re-checks."""
        self._session: aiohttp.ClientSession | None = None
        preload({e.kind for e in config.endpoints})

    async def verdict(self, endpoint: Endpoint, down_already: bool = False) -> Verdict:
        """Probes once; a failure is re-checked at once and then after `recheck_delay`
        (unless the endpoint is already down) and counts only if every re-check fails too.
        An app-metrics check judges the interval since its last scrape: never re-checked."""
        probes: list[tuple[float, ProbeResult]] = []
        result = await self._probe(endpoint, probes)
        if result.ok or down_already or endpoint.kind == "metrics":
            return Verdict(endpoint, result.ok, result, tuple(probes), False)
        for attempt in range(self.config.rechecks):
            if attempt:
                await asyncio.sleep(self.config.recheck_delay)
            again = await self._probe(endpoint, probes)
            if again.ok:
                return Verdict(endpoint, True, again, tuple(probes), True)
            result = again
        return Verdict(endpoint, False, result, tuple(probes), False)

    async def _probe(
        self, endpoint: Endpoint, probes: list[tuple[float, ProbeResult]]
    ) -> ProbeResult:
        at = self.clock()
        result = await probe(endpoint, self._session)
        probes.append((at, result))
        return result

    async def once(self) -> list[Verdict]:
        """One round over every endpoint, with re-checks; nothing is stored or alerted."""
        async with client_session() as self._session:
            return list(await asyncio.gather(*(self.verdict(e) for e in self.config.endpoints)))

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Watches every endpoint until `stop` is set (or the task is cancelled)."""
        from prodready.monitor.notify import Deliverer

        assert self.store is not None, "a running monitor needs its store"
        stop = stop or asyncio.Event()
        for incident in self.store.open_incidents():
            if incident.endpoint in self.trackers:
                self.trackers[incident.endpoint].status = "down"
        if self.burn:
            for name, minute, probes, failures in self.store.minute_counts(self.clock() - KEEP_S):
                if name in self.burn:
                    self.burn[name].add(minute * 60, True, probes, failures)
        watched = set(self.trackers) | {name + SUFFIX for name in self.burn}
        alerter = Alerter(self.store, self.config.alerting, self.config.maintenance, watched)
        async with client_session() as self._session:
            deliverer = Deliverer(
                self.store, self.config.alerting, self._session, self._emit, self.clock
            )
            count = len(self.config.endpoints)
            watchers = [
                asyncio.create_task(self._watch(e, e.interval * i / count))
                for i, e in enumerate(self.config.endpoints)
            ]
            try:
                await self._tend(stop, alerter, deliverer)
            finally:
                for task in watchers:
                    task.cancel()
                await asyncio.gather(*watchers, return_exceptions=True)
                try:
                    self._flush()
                except self._store_errors as error:
                    self._store_failed(error)

    async def _watch(self, endpoint: Endpoint, offset: float) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time() + offset
        tracker = self.trackers[endpoint.name]
        while True:
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            verdict = await self.verdict(endpoint, down_already=tracker.status == "down")
            self._observe(verdict, tracker)
            next_at += endpoint.interval
            if next_at < loop.time():
                next_at = loop.time() + endpoint.interval

    def _store_failed(self, error: Exception) -> None:
        """A store that cannot be written (disk full, file removed) must not stop the probes:
        it is reported once per distinct error, and the work is tried again next time."""
        text = f"{type(error).__name__}: {error}"
        if text != self._last_store_error:
            self._last_store_error = text
            self._emit({"event": "store error", "error": text})

    def _observe(self, verdict: Verdict, tracker: Tracker) -> None:
        try:
            self._record_verdict(verdict, tracker)
        except self._store_errors as error:
            self._store_failed(error)

    def _record_verdict(self, verdict: Verdict, tracker: Tracker) -> None:
        assert self.store is not None
        self.probes += len(verdict.probes)
        self.rechecks += len(verdict.probes) - 1
        name = verdict.endpoint.name
        self._buffer.extend((at, name, r.ok, r.latency, r.reason) for at, r in verdict.probes)
        if verdict.blip:
            self._emit({"event": "blip", "endpoint": name, "reason": verdict.probes[0][1].reason})
        self.latest[name] = verdict
        if name in self.burn:
            at, scheduled = verdict.probes[0]
            self.burn[name].add(at, scheduled.ok)
        change = tracker.observe(verdict.ok)
        if self.metrics is not None:
            self.metrics.observe(verdict, tracker.status)
        now = self.clock()
        if change == "down" and self.store.open_incident(name, now, verdict.result.reason):
            self._emit(
                {"event": "down", "endpoint": name, "reason": verdict.result.reason, "at": now}
            )
        elif change == "up" and self.store.resolve_incident(name, now):
            self._emit({"event": "up", "endpoint": name, "at": now})

    async def _tend(self, stop: asyncio.Event, alerter: Alerter, deliverer: Deliverer) -> None:
        """Every tick: write buffered results, queue due notifications, deliver them (in the
        background, so a slow channel never delays a probe); every minute: roll up, prune."""
        assert self.store is not None
        delivering: asyncio.Task[None] | None = None
        last_housekeeping = last_burn = 0.0
        try:
            while not stop.is_set():
                now = self.clock()
                try:
                    self._flush()
                    for batch in alerter.tick(now):
                        self._emit(
                            {
                                "event": "queued",
                                "kind": batch.kind,
                                "endpoints": [i.endpoint for i in batch.incidents],
                            }
                        )
                    if delivering is not None and delivering.done():
                        failed = delivering.exception()
                        delivering = None
                        if failed is not None:
                            raise failed
                    if delivering is None:
                        delivering = asyncio.create_task(deliverer.deliver_due())
                    if self.burn and now - last_burn >= BURN_EVERY:
                        self._judge_burn(now)
                        last_burn = now
                    if now - last_housekeeping >= HOUSEKEEPING:
                        self.store.roll_up(now)
                        self.store.prune(now)
                        last_housekeeping = now
                except self._store_errors as error:
                    self._store_failed(error)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), TICK)
        finally:
            if delivering is not None:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(delivering, 5)

    def _judge_burn(self, now: float) -> None:
        """Opens or resolves each endpoint's error-budget incident from its burn rate."""
        assert self.store is not None
        for name, rate in self.burn.items():
            burn = rate.evaluate(now)
            if burn is not None:
                reason = burn.describe(rate.budget)
                if self.store.open_incident(name + SUFFIX, now, reason):
                    self._emit({"event": "burn", "endpoint": name, "reason": reason, "at": now})
            elif self.store.resolve_incident(name + SUFFIX, now):
                self._emit({"event": "burn over", "endpoint": name, "at": now})

    def _emit(self, event: dict[str, Any]) -> None:
        if self.metrics is not None and event["event"] in ("notified", "notification failed"):
            outcome = "sent" if event["event"] == "notified" else "failed"
            self.metrics.notifications.labels(outcome).inc()
        self.on_event(event)

    def _flush(self) -> None:
        if self._buffer and self.store is not None:
            rows, self._buffer = self._buffer, []
            try:
                self.store.record(rows)
            except self._store_errors:
                self._buffer = (rows + self._buffer)[-MAX_BUFFERED:]
                raise

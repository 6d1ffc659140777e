"""Which notifications are due, decided from the incidents in the store (so the decision
survives a restart):

- grouping: alerts that fire close together go out as one notification naming them all; a
  group is sent once no alert joined it for `group_wait`, and at the latest `group_max_wait`
  after its first alert (Alertmanager's group_wait, with a debounce so a storm that spreads
  over a few probe intervals still makes one notification);
- dedup: an incident is notified once; a reminder repeats it at most every
  `reminder_interval` while it stays open;
- resolved: an incident whose firing was sent gets a resolved notification (grouped the same
  way); one that opened and closed inside a silence or maintenance window sends nothing;
- maintenance windows and silences hold an incident's notification back while they last."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from prodready.monitor.config import Alerting, Maintenance
from prodready.monitor.slo import SUFFIX
from prodready.monitor.store import Incident, Store


@dataclass(frozen=True)
class Batch:
    kind: str
    """`firing`, `resolved` or `reminder`."""
    incidents: tuple[Incident, ...]


class Alerter:
    def __init__(
        self,
        store: Store,
        alerting: Alerting,
        maintenance: Sequence[Maintenance] = (),
        endpoints: set[str] | None = None,
    ) -> None:
        self.store = store
        self.alerting = alerting
        self.maintenance = tuple(maintenance)
        self.endpoints = endpoints
        """Only these endpoints' incidents are notified (None: all): an endpoint dropped from
        the config, or watched by another config sharing the store, is not this monitor's."""

    def channels(self) -> list[str]:
        """Each apprise URL and JSON webhook; `log` alone (printed) when none is configured."""
        named = [f"apprise:{url}" for url in self.alerting.apprise]
        named += [f"webhook:{url}" for url in self.alerting.webhooks]
        return named or ["log"]

    def suppressed(self, endpoint: str, now: float) -> bool:
        """In a maintenance window or under a silence at `now`; an endpoint's error-budget
        alert is held by whatever holds the endpoint."""
        endpoint = endpoint.removesuffix(SUFFIX)
        for window in self.maintenance:
            if window.start <= now < window.end and (
                not window.endpoints
                or any(fnmatch.fnmatchcase(endpoint, p) for p in window.endpoints)
            ):
                return True
        return any(
            fnmatch.fnmatchcase(endpoint, pattern) for pattern, _ in self.store.silences(now)
        )

    def _incidents(self, where: str) -> list[Incident]:
        found = self.store.incidents(where)
        if self.endpoints is None:
            return found
        return [i for i in found if i.endpoint in self.endpoints]

    def tick(self, now: float) -> list[Batch]:
        """Queues every notification due at `now` in the store; returns what it queued."""
        batches = []
        for batch in (self._grouped(now), self._reminders(now)):
            if batch is not None:
                self._queue(batch, now)
                batches.append(batch)
        return batches

    def _grouped(self, now: float) -> Batch | None:
        firing = [
            i
            for i in self._incidents("resolved_at IS NULL AND notified_at IS NULL")
            if not self.suppressed(i.endpoint, now)
        ]
        resolved = self._incidents(
            "resolved_at IS NOT NULL AND notified_at IS NOT NULL AND resolve_notified_at IS NULL"
        )
        joined = [i.started_at for i in firing] + [i.resolved_at or now for i in resolved]
        if not joined:
            return None
        quiet_for = now - max(joined)
        waited = now - min(joined)
        if quiet_for < self.alerting.group_wait and waited < self.alerting.group_max_wait:
            return None
        if firing:
            return Batch("firing", tuple(firing + resolved))
        return Batch("resolved", tuple(resolved))

    def _reminders(self, now: float) -> Batch | None:
        every = self.alerting.reminder_interval
        due = [
            i
            for i in self._incidents("resolved_at IS NULL AND notified_at IS NOT NULL")
            if now - max(i.notified_at or 0, i.reminded_at or 0) >= every
            and not self.suppressed(i.endpoint, now)
        ]
        return Batch("reminder", tuple(due)) if due else None

    def _queue(self, batch: Batch, now: float) -> None:
        down = [i for i in batch.incidents if i.resolved_at is None]
        up = [i for i in batch.incidents if i.resolved_at is not None]
        title = _title(batch.kind, down, up)
        lines = [f"DOWN {i.endpoint}: {i.reason} (since {_clock(i.started_at)})" for i in down]
        lines += [
            f"UP   {i.endpoint}: down {_clock(i.started_at)} to {_clock(i.resolved_at or now)}"
            for i in up
        ]
        payload = {
            "kind": batch.kind,
            "title": title,
            "down": [
                {"endpoint": i.endpoint, "reason": i.reason, "since": i.started_at} for i in down
            ],
            "resolved": [
                {"endpoint": i.endpoint, "started_at": i.started_at, "resolved_at": i.resolved_at}
                for i in up
            ],
        }
        column = "reminded_at" if batch.kind == "reminder" else "notified_at"
        marks = [(column, i.id) for i in down] + [("resolve_notified_at", i.id) for i in up]
        self.store.queue_notifications(
            now, batch.kind, self.channels(), title, "\n".join(lines), payload, marks
        )


def _title(kind: str, down: list[Incident], up: list[Incident]) -> str:
    def names(incidents: list[Incident]) -> str:
        shown = ", ".join(i.endpoint for i in incidents[:10])
        return shown + (f" and {len(incidents) - 10} more" if len(incidents) > 10 else "")

    parts = []
    burning = [i for i in down if i.endpoint.endswith(SUFFIX)]
    down = [i for i in down if not i.endpoint.endswith(SUFFIX)]
    if down:
        still = "still down" if kind == "reminder" else "down"
        parts.append(
            f"{len(down)} {'endpoint' if len(down) == 1 else 'endpoints'} {still}: {names(down)}"
        )
    if burning:
        parts.append(f"{len(burning)} burning their error budget: {names(burning)}")
    if up:
        parts.append(f"{len(up)} recovered: {names(up)}")
    return "; ".join(parts)


def _clock(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")

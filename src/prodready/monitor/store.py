"""The monitor's store (SQLite in WAL mode, or PostgreSQL): probe results, their 1-minute and
hourly rollups, and the alert state (incidents, notifications, silences) that makes a restart
neither re-send nor lose an alert.

Bounded by design: raw results are kept 48 h, minute rollups 30 days, hourly rollups a year
(configurable), and `prune` drops what is older as the monitor runs. The SQL is the same on
both databases; what differs (schema types, transactions, the lock) is in `storedb`."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from prodready.monitor.config import Retention
from prodready.monitor.storedb import Connection, open_database


class Rollup(NamedTuple):
    """One endpoint's probes in one minute or hour (`start` in seconds since the epoch); a
    NamedTuple because the store writes millions of them (a frozen dataclass is 3x slower)."""

    start: int
    endpoint: str
    probes: int
    failures: int
    p50_ms: int
    p95_ms: int


@dataclass(frozen=True)
class Incident:
    id: int
    endpoint: str
    started_at: float
    reason: str
    notified_at: float | None
    reminded_at: float | None
    resolved_at: float | None
    resolve_notified_at: float | None


@dataclass(frozen=True)
class Notification:
    id: int
    created_at: float
    kind: str
    channel: str
    title: str
    body: str
    payload: dict[str, Any]
    state: str
    attempts: int
    last_error: str | None


class Store:
    """One SQLite file or PostgreSQL database; every write is one short transaction."""

    def __init__(self, location: Path | str, retention: Retention | None = None) -> None:
        self.database = open_database(location)
        self.db: Connection = self.database.connection
        self.shown = self.database.shown
        self.errors = self.database.errors
        """What a failing read or write raises (sqlite3.Error or psycopg.Error)."""
        self.retention = retention or Retention()
        self._ids: dict[str, int] = dict(
            (name, id_) for id_, name in self.db.execute("SELECT id, name FROM endpoints")
        )

    def close(self) -> None:
        self.database.close()

    def transaction(self) -> AbstractContextManager[Connection]:
        return self.database.transaction()

    def lock(self) -> None:
        """Takes the store for one running monitor: two monitors on one store would both send
        every alert."""
        self.database.lock()

    def endpoint_id(self, name: str, first_seen: float | None = None) -> int:
        if name not in self._ids:
            self.db.execute(
                "INSERT INTO endpoints (name, first_seen) VALUES (?, ?) "
                "ON CONFLICT (name) DO NOTHING",
                (name, first_seen),
            )
            row = self.db.execute("SELECT id FROM endpoints WHERE name = ?", (name,)).fetchone()
            self._ids[name] = row[0]
        return self._ids[name]

    def _known_id(self, name: str) -> int:
        """The endpoint's id for a read; -1 (matching no row) when it was never recorded, so
        that reading never creates an endpoint without its first_seen."""
        if name in self._ids:
            return self._ids[name]
        row = self.db.execute("SELECT id FROM endpoints WHERE name = ?", (name,)).fetchone()
        return row[0] if row else -1

    # ---- results and rollups -------------------------------------------------------------

    def record(self, results: Iterable[tuple[float, str, bool, float, str]]) -> None:
        """Appends probe results: (time, endpoint, ok, latency seconds, reason)."""
        rows = [
            (
                round(at * 1e6),
                self.endpoint_id(name, at),
                int(ok),
                round(latency * 1000),
                reason or None,
            )
            for at, name, ok, latency, reason in results
        ]
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO results VALUES (?, ?, ?, ?, ?) ON CONFLICT (at_us, endpoint) "
                "DO UPDATE SET ok = excluded.ok, latency_ms = excluded.latency_ms, "
                "reason = excluded.reason",
                rows,
            )

    def first_seen(self, endpoint: str) -> float | None:
        """When the endpoint's first probe result was recorded."""
        row = self.db.execute("SELECT first_seen FROM endpoints WHERE name = ?", (endpoint,))
        found = row.fetchone()
        return found[0] if found else None

    def rolled_until(self) -> float:
        """Raw results before this time are folded into minute rollups."""
        return self._meta("rolled_minute", 0) * 60

    def minute_counts(self, since: float) -> list[tuple[str, int, int, int]]:
        """(endpoint, minute, probes, failures) of the raw results since `since`."""
        names = {id_: name for name, id_ in self._ids.items()}
        names.update(dict(self.db.execute("SELECT id, name FROM endpoints")))
        rows = self.db.execute(
            "SELECT endpoint, at_us / 60000000, count(*), sum(1 - ok) FROM results "
            "WHERE at_us >= ? GROUP BY 1, 2 ORDER BY 2",
            (round(since * 1e6),),
        )
        return [(names[e], minute, probes, failures) for e, minute, probes, failures in rows]

    def results(self, endpoint: str, since: float) -> list[tuple[float, bool, float, str]]:
        rows = self.db.execute(
            "SELECT at_us, ok, latency_ms, reason FROM results WHERE at_us >= ? AND endpoint = ? "
            "ORDER BY at_us",
            (round(since * 1e6), self._known_id(endpoint)),
        )
        return [(at / 1e6, bool(ok), ms / 1000, reason or "") for at, ok, ms, reason in rows]

    def write_rollups(self, table: str, rollups: Iterable[Rollup]) -> None:
        """Writes minute or hour rollups (`table` is "minute" or "hour")."""
        name, unit = _rollup_table(table)
        column = "minute" if table == "minute" else "hour"
        rows = [  # a list, not a generator: endpoint_id may write, and psycopg's executemany
            (  # holds the connection until it has consumed its rows
                r.start // unit,
                self.endpoint_id(r.endpoint),
                r.probes,
                r.failures,
                r.p50_ms,
                r.p95_ms,
            )
            for r in rollups
        ]
        with self.transaction() as db:
            db.executemany(
                f"INSERT INTO {name} VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT ({column}, endpoint) "
                "DO UPDATE SET probes = excluded.probes, failures = excluded.failures, "
                "p50_ms = excluded.p50_ms, p95_ms = excluded.p95_ms",
                rows,
            )

    def rollups(self, table: str, endpoint: str, since: float) -> list[Rollup]:
        name, unit = _rollup_table(table)
        column = "minute" if table == "minute" else "hour"
        rows = self.db.execute(
            f"SELECT {column}, probes, failures, p50_ms, p95_ms FROM {name} "
            f"WHERE {column} >= ? AND endpoint = ? ORDER BY {column}",
            (int(since // unit), self._known_id(endpoint)),
        )
        return [Rollup(start * unit, endpoint, *rest) for start, *rest in rows]

    def roll_up(self, now: float) -> None:
        """Folds complete minutes of raw results into minute rollups, and complete hours of
        minute rollups into hourly ones (p50: median of the minutes' p50; p95: the worst
        minute's p95, so an hour never looks better than its worst minute)."""
        names = {id_: name for name, id_ in self._ids.items()}
        done_minute = int(self._meta("rolled_minute", 0))
        this_minute = int(now // 60)
        if this_minute > done_minute:
            start = max(done_minute, this_minute - int(self.retention.raw // 60) - 1)
            rows = self.db.execute(
                "SELECT at_us, endpoint, ok, latency_ms FROM results "
                "WHERE at_us >= ? AND at_us < ?",
                (start * 60_000_000, this_minute * 60_000_000),
            )
            groups: dict[tuple[int, int], list[tuple[int, int]]] = {}
            for at_us, endpoint, ok, latency in rows:
                groups.setdefault((at_us // 60_000_000, endpoint), []).append((ok, latency))
            self.write_rollups(
                "minute", (_fold(m * 60, names[e], probes) for (m, e), probes in groups.items())
            )
            self._set_meta("rolled_minute", this_minute)
        done_hour = int(self._meta("rolled_hour", 0))
        this_hour = int(now // 3600)
        if this_hour > done_hour:
            start = max(done_hour, this_hour - int(self.retention.minute // 3600) - 1)
            rows = self.db.execute(
                "SELECT minute, endpoint, probes, failures, p50_ms, p95_ms FROM rollup_minute "
                "WHERE minute >= ? AND minute < ?",
                (start * 60, this_hour * 60),
            )
            hours: dict[tuple[int, int], list[tuple[int, int, int, int]]] = {}
            for minute, endpoint, *numbers in rows:
                hours.setdefault((minute // 60, endpoint), []).append(tuple(numbers))  # type: ignore[arg-type]
            self.write_rollups(
                "hour",
                (
                    Rollup(
                        h * 3600,
                        names[e],
                        sum(m[0] for m in minutes),
                        sum(m[1] for m in minutes),
                        round(statistics.median(m[2] for m in minutes)),
                        max(m[3] for m in minutes),
                    )
                    for (h, e), minutes in hours.items()
                ),
            )
            self._set_meta("rolled_hour", this_hour)

    def prune(self, now: float) -> None:
        """Drops raw results, minute and hourly rollups older than their retention."""
        keep = self.retention
        with self.transaction() as db:
            db.execute("DELETE FROM results WHERE at_us < ?", (round((now - keep.raw) * 1e6),))
            db.execute(
                "DELETE FROM rollup_minute WHERE minute < ?", (int((now - keep.minute) // 60),)
            )
            db.execute("DELETE FROM rollup_hour WHERE hour < ?", (int((now - keep.hour) // 3600),))
            db.execute(
                "DELETE FROM notifications WHERE state != 'pending' AND created_at < ?",
                (now - keep.hour,),
            )
            db.execute("DELETE FROM incidents WHERE resolved_at < ?", (now - keep.hour,))
            db.execute("DELETE FROM silences WHERE until < ?", (now,))
        self.database.after_prune()

    def size_bytes(self) -> int:
        """What the store takes on disk (SQLite: file and WAL; PostgreSQL: its tables)."""
        return self.database.size_bytes()

    def _meta(self, key: str, default: float) -> float:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def _set_meta(self, key: str, value: float) -> None:
        self.db.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # ---- incidents ---------------------------------------------------------------------

    def open_incident(self, endpoint: str, at: float, reason: str) -> bool:
        """Opens an incident unless one is open already (dedup); True when it opened one."""
        with self.transaction() as db:
            if self._open_row(db, endpoint):
                return False
            db.execute(
                "INSERT INTO incidents (endpoint, started_at, reason) VALUES (?, ?, ?)",
                (endpoint, at, reason),
            )
        return True

    def resolve_incident(self, endpoint: str, at: float) -> bool:
        with self.transaction() as db:
            row = self._open_row(db, endpoint)
            if not row:
                return False
            db.execute("UPDATE incidents SET resolved_at = ? WHERE id = ?", (at, row[0]))
        return True

    def _open_row(self, db: Connection, endpoint: str) -> tuple[int] | None:
        return db.execute(
            "SELECT id FROM incidents WHERE endpoint = ? AND resolved_at IS NULL", (endpoint,)
        ).fetchone()

    def incidents(self, where: str = "TRUE", params: tuple[Any, ...] = ()) -> list[Incident]:
        rows = self.db.execute(
            "SELECT id, endpoint, started_at, reason, notified_at, reminded_at, resolved_at, "
            f"resolve_notified_at FROM incidents WHERE {where} ORDER BY started_at, id",
            params,
        )
        return [Incident(*row) for row in rows]

    def open_incidents(self) -> list[Incident]:
        return self.incidents("resolved_at IS NULL")

    # ---- notifications -----------------------------------------------------------------

    def queue_notifications(
        self,
        now: float,
        kind: str,
        channels: Iterable[str],
        title: str,
        body: str,
        payload: dict[str, Any],
        marks: Iterable[tuple[str, int]],
    ) -> None:
        """In one transaction: queues the notification once per channel and marks the
        incidents it speaks for (column, incident id), so a crash between the two cannot
        send it twice nor forget it."""
        with self.transaction() as db:
            for channel in channels:
                db.execute(
                    "INSERT INTO notifications (created_at, kind, channel, title, body, payload, "
                    "state, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                    (now, kind, channel, title, body, json.dumps(payload), now),
                )
            for column, incident in marks:
                assert column in ("notified_at", "reminded_at", "resolve_notified_at")
                db.execute(f"UPDATE incidents SET {column} = ? WHERE id = ?", (now, incident))

    def due_notifications(self, now: float) -> list[Notification]:
        return self.notifications("state = 'pending' AND next_attempt_at <= ?", (now,))

    def notifications(
        self, where: str = "TRUE", params: tuple[Any, ...] = ()
    ) -> list[Notification]:
        rows = self.db.execute(
            "SELECT id, created_at, kind, channel, title, body, payload, state, attempts, "
            f"last_error FROM notifications WHERE {where} ORDER BY id",
            params,
        )
        return [
            Notification(id_, at, kind, channel, title, body, json.loads(payload), *rest)
            for id_, at, kind, channel, title, body, payload, *rest in rows
        ]

    def mark_sent(self, notification_id: int, now: float) -> None:
        self.db.execute(
            "UPDATE notifications SET state = 'sent', sent_at = ?, attempts = attempts + 1 "
            "WHERE id = ?",
            (now, notification_id),
        )

    def mark_attempt_failed(
        self, notification_id: int, error: str, next_attempt_at: float | None
    ) -> None:
        """A failed send: retried at `next_attempt_at`, or `failed` for good when None."""
        state = "pending" if next_attempt_at is not None else "failed"
        self.db.execute(
            "UPDATE notifications SET state = ?, attempts = attempts + 1, last_error = ?, "
            "next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ?",
            (state, error, next_attempt_at, notification_id),
        )

    # ---- silences ----------------------------------------------------------------------

    def add_silence(self, pattern: str, until: float, now: float) -> None:
        self.db.execute(
            "INSERT INTO silences (pattern, until, created_at) VALUES (?, ?, ?)",
            (pattern, until, now),
        )

    def silences(self, now: float) -> list[tuple[str, float]]:
        return list(
            self.db.execute(
                "SELECT pattern, until FROM silences WHERE until > ? ORDER BY until", (now,)
            )
        )


def _rollup_table(table: str) -> tuple[str, int]:
    if table == "minute":
        return "rollup_minute", 60
    if table == "hour":
        return "rollup_hour", 3600
    raise ValueError(f"no rollup table {table!r}")


def _fold(start: int, endpoint: str, probes: list[tuple[int, int]]) -> Rollup:
    latencies = sorted(latency for _, latency in probes)
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    return Rollup(
        start,
        endpoint,
        len(probes),
        sum(1 for ok, _ in probes if not ok),
        round(statistics.median(latencies)),
        p95,
    )

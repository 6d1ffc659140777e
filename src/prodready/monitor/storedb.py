"""The two databases the monitor store runs on, behind the few calls where they differ:
opening (with the schema), a write transaction, the one-monitor lock, the size on disk and
the errors they raise. Everything else is one SQL text that both accept (`?` placeholders are
turned into psycopg's `%s`; upserts are `ON CONFLICT ... DO UPDATE`, which SQLite has had
since 3.24).

SQLite (the default) is one WAL file locked with flock; PostgreSQL (a `postgresql://` URL) is
one autocommit session holding a session advisory lock, so two monitors on one database refuse
to run together and a monitor that dies drops its lock with its connection."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from prodready.errors import InputError

SCHEMA = """
CREATE TABLE IF NOT EXISTS endpoints (
    id {id}, name TEXT UNIQUE NOT NULL, first_seen DOUBLE PRECISION);
CREATE TABLE IF NOT EXISTS results (
    at_us BIGINT NOT NULL, endpoint INTEGER NOT NULL, ok INTEGER NOT NULL,
    latency_ms INTEGER NOT NULL, reason TEXT, PRIMARY KEY (at_us, endpoint)){clustered};
CREATE TABLE IF NOT EXISTS rollup_minute (
    minute INTEGER NOT NULL, endpoint INTEGER NOT NULL, probes INTEGER NOT NULL,
    failures INTEGER NOT NULL, p50_ms INTEGER NOT NULL, p95_ms INTEGER NOT NULL,
    PRIMARY KEY (minute, endpoint)){clustered};
CREATE TABLE IF NOT EXISTS rollup_hour (
    hour INTEGER NOT NULL, endpoint INTEGER NOT NULL, probes INTEGER NOT NULL,
    failures INTEGER NOT NULL, p50_ms INTEGER NOT NULL, p95_ms INTEGER NOT NULL,
    PRIMARY KEY (hour, endpoint)){clustered};
CREATE TABLE IF NOT EXISTS incidents (
    id {id}, endpoint TEXT NOT NULL, started_at DOUBLE PRECISION NOT NULL, reason TEXT,
    notified_at DOUBLE PRECISION, reminded_at DOUBLE PRECISION, resolved_at DOUBLE PRECISION,
    resolve_notified_at DOUBLE PRECISION);
CREATE INDEX IF NOT EXISTS incidents_open ON incidents (endpoint) WHERE resolved_at IS NULL;
CREATE INDEX IF NOT EXISTS incidents_unsent ON incidents (resolved_at)
    WHERE resolve_notified_at IS NULL;
CREATE TABLE IF NOT EXISTS notifications (
    id {id}, created_at DOUBLE PRECISION NOT NULL, kind TEXT NOT NULL, channel TEXT NOT NULL,
    title TEXT NOT NULL, body TEXT NOT NULL, payload TEXT NOT NULL, state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at DOUBLE PRECISION NOT NULL,
    last_error TEXT, sent_at DOUBLE PRECISION);
CREATE INDEX IF NOT EXISTS notifications_due ON notifications (state, next_attempt_at);
CREATE TABLE IF NOT EXISTS silences (
    id {id}, pattern TEXT NOT NULL, until DOUBLE PRECISION NOT NULL,
    created_at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value DOUBLE PRECISION NOT NULL);
"""
"""Rollup tables are keyed (time, endpoint): in SQLite WITHOUT ROWID, so rows are appended in
key order and pruning deletes from the front of the B-tree (a minute row is ~20 bytes)."""

TABLES = ("endpoints", "results", "rollup_minute", "rollup_hour", "incidents", "notifications")
TABLES += ("silences", "meta")
LOCK_KEY = 0x70726F6D6F6E  # "promon": the advisory lock every prodready monitor takes
OCCUPIED_HINT = "stop it first, or give this one its own --store"
RECONNECT_EVERY = 5.0


def is_postgres_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def store_location(text: str | Path) -> str | Path:
    """A `--store` or config value: a PostgreSQL URL stays text, anything else is a path."""
    return str(text) if is_postgres_url(str(text)) else Path(text)


class Connection(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    def executemany(self, sql: str, rows: Any) -> Any: ...


class SqliteDatabase:
    """One SQLite file in WAL mode."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.shown = str(path)
        self.errors: tuple[type[Exception], ...] = (sqlite3.Error,)
        self._lock: int | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, isolation_level=None, timeout=10)
            self.connection: Connection = self.db
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(
                SCHEMA.format(id="INTEGER PRIMARY KEY", clustered=" WITHOUT ROWID")
            )
        except (OSError, sqlite3.DatabaseError) as error:
            raise InputError(
                f"cannot open the monitor store {path}: {error}",
                "pass --store with a writable path to a SQLite file, or a postgresql:// URL",
            ) from None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def lock(self) -> None:
        """An flock on `<store>.lock`, dropped by the kernel when the process dies."""
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise InputError(f"another monitor is running on {self.shown}", OCCUPIED_HINT) from None
        self._lock = fd

    def after_prune(self) -> None:
        self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def size_bytes(self) -> int:
        """The file's size with its WAL after a checkpoint."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        wal = self.path.with_name(self.path.name + "-wal")
        return self.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)

    def close(self) -> None:
        self.db.close()
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


class PostgresDatabase:
    """One autocommit psycopg session; `execute` takes the store's `?` placeholders."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.shown = _without_password(url)
        self.errors = (psycopg.Error,)
        self.connection: Connection = self
        self._url = url
        self._locked = False
        self._reconnect_at = 0.0
        try:
            self.db = psycopg.connect(url, autocommit=True, connect_timeout=10)
            with self.db.transaction():  # two monitors starting at once create it once
                self.db.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY + 1,))
                self.db.execute(
                    SCHEMA.format(
                        id="BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", clustered=""
                    ).encode()
                )
        except psycopg.Error as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            raise InputError(
                f"cannot open the monitor store {self.shown}: {reason}",
                "check the URL (postgresql://user[:password]@host[:port]/database), "
                "that PostgreSQL runs there and that the database exists",
            ) from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._session().execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]

    def executemany(self, sql: str, rows: Any) -> None:
        with self._session().cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), rows)  # type: ignore[arg-type]

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self._session().transaction():
            yield self

    def lock(self) -> None:
        """A session advisory lock: held as long as this connection lives."""
        if not self._try_lock():
            raise InputError(f"another monitor is running on {self.shown}", OCCUPIED_HINT)
        self._locked = True

    def _try_lock(self) -> bool:
        return self.db.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]

    def _session(self) -> Any:
        """The live session. One that broke (PostgreSQL restarted, the network dropped) is
        replaced, at most every RECONNECT_EVERY seconds so that a database still down does not
        stall the probes, and the monitor's lock is taken again on the new one; until then
        every call fails as a store error (the monitor retries its writes)."""
        import psycopg

        if self.db.broken:
            if time.monotonic() < self._reconnect_at:
                raise psycopg.OperationalError(f"the connection to {self.shown} was lost")
            self._reconnect_at = time.monotonic() + RECONNECT_EVERY
            self.db = psycopg.connect(self._url, autocommit=True, connect_timeout=5)
            if self._locked and not self._try_lock():
                self.db.close()  # closed, not broken: this monitor stops writing for good
                raise psycopg.OperationalError(f"another monitor took {self.shown}")
        return self.db

    def after_prune(self) -> None:
        """Nothing: autovacuum reclaims the deleted rows."""

    def size_bytes(self) -> int:
        """The store's tables with their indexes and TOAST."""
        (size,) = self.execute(
            "SELECT sum(pg_total_relation_size(t)) FROM unnest(?::regclass[]) AS t", (list(TABLES),)
        ).fetchone()
        return int(size)

    def close(self) -> None:
        """Unlocks before closing: the server ends a closed session a moment later, and a
        monitor restarted at once must not find its store still taken."""
        if self._locked and not self.db.closed:
            self.execute("SELECT pg_advisory_unlock_all()")
        self.db.close()


def open_database(location: str | Path) -> SqliteDatabase | PostgresDatabase:
    if is_postgres_url(location):
        return PostgresDatabase(str(location))
    return SqliteDatabase(Path(location))


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))

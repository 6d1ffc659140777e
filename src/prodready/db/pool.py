"""`prodready db pool`: per-process pool settings from the live server's limits, the serve
plan's processes and threads, and the other clients of the same server. The arithmetic is
`prodready.project.pool.connection_budget`, the one the PR907 check rule uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg

from prodready.db.migrate.endpoints import describe, postgres_url
from prodready.errors import InputError
from prodready.project.pool import ConnectionBudget, connection_budget

POOL_TIMEOUT_S = 10
"""Below the server's 30 s worker timeout: a request waiting for a connection fails with a
clear pool error before the worker is killed."""
POOL_RECYCLE_S = 1800
ASYNC_POOL = 10
"""Connections per event loop when nothing bounds its concurrency: an event loop rarely keeps
more queries in flight usefully; more waits in PostgreSQL instead of in the pool."""


@dataclass(frozen=True)
class ServerLimits:
    max_connections: int
    reserved: int
    in_use: int
    version: str


@dataclass(frozen=True)
class Concurrency:
    processes: int
    threads: int | None
    """Threads per process (sync workers); None for an event loop per process."""
    said_by: str


@dataclass(frozen=True)
class PoolAdvice:
    budget: ConnectionBudget
    concurrency: Concurrency
    pool_size: int
    max_overflow: int
    pgbouncer: str | None
    """Why PgBouncer in transaction mode is the better answer, or None."""
    current: int | None
    """Connections per process the app's own pool settings allow, when found in its code."""
    current_overflows: bool

    @property
    def per_process(self) -> int:
        return self.pool_size + self.max_overflow

    def sqlalchemy(self) -> str:
        return (
            f"create_engine(url, pool_size={self.pool_size}, max_overflow={self.max_overflow}, "
            f"pool_timeout={POOL_TIMEOUT_S}, pool_recycle={POOL_RECYCLE_S}, pool_pre_ping=True)"
        )

    def django(self) -> list[str]:
        threads = self.concurrency.threads or 1
        persistent = (
            f"CONN_MAX_AGE = 600, CONN_HEALTH_CHECKS = True  "
            f"(one persistent connection per thread: {threads} per process)"
        )
        if threads > self.budget.per_process:
            persistent += f": more than the {self.budget.per_process} there are; use the pool"
        return [
            persistent,
            f'OPTIONS = {{"pool": {{"min_size": {max(1, self.pool_size // 2)}, '
            f'"max_size": {self.per_process}, "timeout": {POOL_TIMEOUT_S}}}}} '
            "with CONN_MAX_AGE = 0 (pip install 'psycopg[pool]')",
        ]

    def psycopg_pool(self) -> str:
        return (
            f"ConnectionPool(url, min_size={max(1, self.pool_size // 2)}, "
            f"max_size={self.per_process}, timeout={POOL_TIMEOUT_S}, "
            f"max_lifetime={POOL_RECYCLE_S}, check=ConnectionPool.check_connection)"
        )

    def to_json(self) -> dict[str, Any]:
        b = self.budget
        return {
            "max_connections": b.max_connections,
            "superuser_reserved": b.reserved,
            "in_use": b.in_use,
            "other_clients": dict(b.others),
            "headroom": b.headroom,
            "usable": b.usable,
            "processes": self.concurrency.processes,
            "threads": self.concurrency.threads,
            "per_process_max": b.per_process,
            "sqlalchemy": {
                "pool_size": self.pool_size,
                "max_overflow": self.max_overflow,
                "pool_timeout": POOL_TIMEOUT_S,
                "pool_recycle": POOL_RECYCLE_S,
                "pool_pre_ping": True,
            },
            "psycopg_pool": {"min_size": max(1, self.pool_size // 2), "max_size": self.per_process},
            "pgbouncer": self.pgbouncer,
            "current_per_process": self.current,
            "current_overflows": self.current_overflows,
        }


def read_limits(url: str) -> ServerLimits:
    """max_connections, the reserved slots and the client connections open now (besides ours)."""
    dsn = postgres_url(url)
    try:
        with psycopg.connect(dsn, connect_timeout=5, autocommit=True) as conn:
            settings = dict(
                conn.execute(
                    "SELECT name, setting FROM pg_settings WHERE name IN ('max_connections', "
                    "'superuser_reserved_connections', 'reserved_connections', 'server_version')"
                ).fetchall()
            )
            in_use = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                "AND pid <> pg_backend_pid()"
            ).fetchone()[0]
    except psycopg.OperationalError as error:
        first = (str(error).strip().splitlines() or ["no answer"])[0]
        raise InputError(
            f"cannot read the limits of PostgreSQL at {describe(dsn)}: {first}",
            "give the production server with --database-url postgresql://user@host/db",
        ) from None
    reserved = int(settings.get("superuser_reserved_connections", 3))
    reserved += int(settings.get("reserved_connections", 0))
    return ServerLimits(
        int(settings["max_connections"]), reserved, in_use, settings.get("server_version", "")
    )


def parse_other_clients(text: str | None) -> dict[str, int]:
    """`celery=8,cron=2` → {"celery": 8, "cron": 2}."""
    found: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        name, sep, count = part.partition("=")
        if not sep or not name.strip() or not count.strip().isdigit():
            raise InputError(
                f"--other-clients: {part!r} is not NAME=CONNECTIONS",
                "write --other-clients celery=8,cron=2",
            )
        found[name.strip()] = int(count)
    return found


def advise(
    limits: ServerLimits,
    concurrency: Concurrency,
    others: Mapping[str, int],
    current: int | None = None,
) -> PoolAdvice:
    budget = connection_budget(
        limits.max_connections,
        concurrency.processes,
        reserved=limits.reserved,
        in_use=limits.in_use,
        others=others,
    )
    cap = budget.per_process
    threads = concurrency.threads
    if threads is not None:
        pool_size, overflow = min(threads, cap), 0
    else:
        pool_size = min(ASYNC_POOL, cap)
        overflow = min(cap - pool_size, pool_size)
    pgbouncer = None
    if cap < 2:
        pgbouncer = (
            f"{concurrency.processes} processes share {budget.usable} connections: fewer than "
            "2 each"
        )
    elif threads is not None and threads > cap:
        pgbouncer = (
            f"{concurrency.processes} processes x {threads} threads = "
            f"{concurrency.processes * threads} > {budget.usable} usable connections: threads "
            "would wait for a connection"
        )
    hard = connection_budget(
        limits.max_connections,
        concurrency.processes,
        reserved=limits.reserved,
        in_use=limits.in_use,
        others=others,
        headroom=0,
    )
    overflows = current is not None and not hard.fits(current)
    return PoolAdvice(budget, concurrency, pool_size, overflow, pgbouncer, current, overflows)


PGBOUNCER_IMPLIES = (
    "PgBouncer in transaction mode (pool_mode = transaction, default_pool_size = the usable "
    "connections) lets every thread keep a client connection while the server sees only a "
    "few. It implies: no session state between transactions (SET, advisory locks, LISTEN, "
    "temporary tables, WITH HOLD cursors), no session-level prepared statements (psycopg: "
    "prepare_threshold=None; asyncpg: statement_cache_size=0; PgBouncer 1.21+ "
    "max_prepared_statements handles protocol-level ones), and Django: "
    "DISABLE_SERVER_SIDE_CURSORS = True."
)


def advice_text(advice: PoolAdvice, limits: ServerLimits, framework: str | None) -> str:
    b, c = advice.budget, advice.concurrency
    lines = [
        f"server: PostgreSQL {limits.version}, {b.arithmetic()}",
        "  (headroom: 10 % of max_connections for migrations, psql and old workers during a "
        "deploy)",
    ]
    work = f"{c.threads} threads" if c.threads is not None else "an event loop"
    lines.append(
        f"app: {c.processes} processes x {work} ({c.said_by}): {b.usable} // {c.processes} = "
        f"{b.per_process} connections per process at most"
    )
    if c.threads is not None:
        lines.append(
            f"  a thread holds one connection at a time: pool of min({c.threads} threads, "
            f"{b.per_process}) = {advice.pool_size}, no overflow"
        )
    else:
        lines.append(
            f"  an event loop: pool_size min({ASYNC_POOL}, {b.per_process}) = {advice.pool_size}"
            f" + max_overflow {advice.max_overflow}"
        )
    if advice.current is not None:
        verdict = "too many" if advice.current_overflows else "fits"
        lines.append(
            f"the app's code now: {advice.current} per process x {c.processes} = "
            f"{advice.current * c.processes} of {b.usable + b.headroom} "
            f"without headroom: {verdict}"
        )
    lines += ["", "per process:"]
    if framework == "django":
        lines += _django_lines(advice)
    lines.append(f"  SQLAlchemy: {advice.sqlalchemy()}")
    lines.append(f"  psycopg_pool: {advice.psycopg_pool()}")
    if framework != "django":
        lines += _django_lines(advice)
    lines.append("")
    if advice.pgbouncer:
        lines.append(f"PgBouncer: the better answer here: {advice.pgbouncer}.")
        lines.append(f"  {PGBOUNCER_IMPLIES}")
    else:
        total = advice.per_process * c.processes
        lines.append(
            f"PgBouncer: not needed ({c.processes} x {advice.per_process} = {total} of "
            f"{b.usable} usable connections)"
        )
    return "\n".join(lines)


def _django_lines(advice: PoolAdvice) -> list[str]:
    persistent, pooled = advice.django()
    return [f"  Django: {persistent}", f"  Django 5.1+: {pooled}"]

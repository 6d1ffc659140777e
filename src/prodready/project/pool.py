"""How many PostgreSQL connections an app's processes may hold: one function, shared by the
`check` rule that flags pools too big for the server (PR907) and `prodready db pool`, which
sizes them from the live server's limits.

The arithmetic: a server accepts `max_connections`; `superuser_reserved_connections` of those
(3 by default) are kept for superusers; connections other programs already hold or will hold
(workers of a task queue, cron jobs) are taken; a headroom stays free for migrations, psql and
the overlap of old and new workers during a deploy. What remains is shared by the app's
processes, each with its own pool.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from prodready.project.imports import reachable_files, served_entry_modules
from prodready.project.model import PoolSetting, Project

POSTGRES_DEFAULT_MAX_CONNECTIONS = 100
POSTGRES_DEFAULT_RESERVED = 3
SQLALCHEMY_DEFAULT_POOL = (5, 10)
HEADROOM_SHARE = 0.1
"""Of max_connections, kept free when sizing (not when flagging a certain overflow)."""
MIN_HEADROOM = 2


@dataclass(frozen=True)
class ConnectionBudget:
    max_connections: int
    reserved: int
    in_use: int
    others: Mapping[str, int]
    headroom: int
    processes: int

    @property
    def usable(self) -> int:
        """Connections the app's processes may hold together."""
        taken = self.reserved + self.in_use + sum(self.others.values()) + self.headroom
        return max(self.max_connections - taken, 0)

    @property
    def per_process(self) -> int:
        return self.usable // self.processes if self.processes else self.usable

    def fits(self, per_process: int) -> bool:
        return self.processes * per_process <= self.usable

    def arithmetic(self) -> str:
        """`100 max_connections - 3 reserved for superusers - ... = 87 for the app`."""
        parts = [f"{self.max_connections} max_connections"]
        if self.reserved:
            parts.append(f"{self.reserved} reserved for superusers")
        if self.in_use:
            parts.append(f"{self.in_use} in use now")
        parts += [f"{n} {name}" for name, n in self.others.items()]
        if self.headroom:
            parts.append(f"{self.headroom} headroom")
        return " - ".join(parts) + f" = {self.usable} for the app"


def connection_budget(
    max_connections: int,
    processes: int,
    *,
    reserved: int = POSTGRES_DEFAULT_RESERVED,
    in_use: int = 0,
    others: Mapping[str, int] | None = None,
    headroom: int | None = None,
) -> ConnectionBudget:
    """`headroom` None: 10 % of max_connections (at least 2), for sizing; 0 to flag only what
    is certain to overflow."""
    if headroom is None:
        headroom = max(MIN_HEADROOM, round(max_connections * HEADROOM_SHARE))
    return ConnectionBudget(
        max_connections, reserved, in_use, dict(others or {}), headroom, max(processes, 1)
    )


def pool_connections(pool: PoolSetting) -> int:
    """Most connections one process's pool opens: SQLAlchemy's pool_size + max_overflow (5 +
    10 when not given), or psycopg_pool's max_size."""
    size = pool.pool_size if pool.pool_size is not None else SQLALCHEMY_DEFAULT_POOL[0]
    overflow = pool.max_overflow if pool.max_overflow is not None else SQLALCHEMY_DEFAULT_POOL[1]
    return size + overflow


def per_process_connections(pools: Iterable[PoolSetting]) -> int:
    return sum(pool_connections(p) for p in pools if not p.null_pool)


def production_pools(project: Project) -> list[PoolSetting]:
    """The connection pools one process of the served app creates: those of the files its
    import graph reaches (a script or a worker that creates its own engine is another process).
    When that graph reaches none (Django imports its apps by name from settings; no launch
    names the app), every pool of the production code: NullPool ones open nothing that lasts,
    and files only tests or dev tools run are left out."""
    pools = [
        pool
        for summary in project.modules.values()
        if not ((source := project.file(summary.rel)) and source.dev_only)
        for pool in summary.pools
        if not pool.null_pool
    ]
    served = reachable_files(project, served_entry_modules(project))
    return [pool for pool in pools if pool.rel in served] or pools

"""`prodready restore`: restore into a new database, verify it, then swap it in by renaming;
the live database is kept as `<db>_prev_<ts>`, never dropped. `--undo` swaps back.

The two renames run in one transaction: a restore killed at any step leaves either the old
database live or the new one, never neither. Each swap is journaled in `<dest>/restores.json`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql

from prodready.backup.dump import DumpTools
from prodready.backup.files import write_json_atomic
from prodready.backup.pg import MAINTENANCE_DB, PgServer
from prodready.backup.progress import Progress
from prodready.backup.store import Entry, Store
from prodready.backup.verify import check_parts, compare_restored, restore_dump, scratch_name
from prodready.errors import InputError, UserError

JOURNAL = "restores.json"
SWAP_ATTEMPTS = 5


class RestoreFailed(UserError):
    """The restored copy did not match its manifest: nothing was swapped."""


@dataclass(frozen=True)
class Swap:
    database: str  # the name that serves the app
    previous: str  # where the data it had before now lives
    restored_from: str  # backup id, or the name undone
    at: str


def restore_backup(
    server: PgServer,
    store: Store,
    entry: Entry,
    target: str | None,
    tools: DumpTools,
    progress: Progress,
) -> Swap:
    """Checks the backup, restores it into `<db>_restore_<ts>`, verifies it and swaps it in as
    `target` (the backup's database by default). The caller holds the store's lock."""
    manifest = check_parts(entry, tools)
    database = target or manifest.database
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    restored = scratch_name(database, "restore", stamp)
    if server.exists(restored):
        raise InputError(f"database {restored} exists already", "wait a second and run it again")
    try:
        restore_dump(server, restored, entry, manifest, tools, progress)
        progress.step("comparing row counts and tables")
        reason = compare_restored(server, restored, manifest)
        if reason:
            raise RestoreFailed(
                f"the restored copy of {entry.id} does not match its manifest: {reason}",
                "the live database was not touched; try another backup",
            )
        progress.step(f"swapping {restored} in as {database}")
        previous = scratch_name(database, "prev", stamp)
        _swap(server, live=database, incoming=restored, previous=previous)
    except BaseException:
        server.drop(restored)  # ours, never swapped in: the live database is untouched
        raise
    swap = Swap(database, previous, entry.id, stamp)
    _journal(store, swap)
    return swap


def undo_last(server: PgServer, store: Store) -> Swap:
    """Swaps back the last restore (or undo): the database it replaced becomes live again and
    the one it put in place is kept as `<db>_undone_<ts>`."""
    swaps = _read_journal(store)
    if not swaps:
        raise InputError("no restore to undo", f"nothing in {store.root / JOURNAL}")
    last = swaps[-1]
    if not server.exists(last.previous):
        raise InputError(
            f"database {last.previous} is gone: the restore of {last.at} cannot be undone",
            "restore a backup instead (`prodready restore --list`)",
        )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    undone = scratch_name(last.database, "undone", stamp)
    _swap(server, live=last.database, incoming=last.previous, previous=undone)
    swap = Swap(last.database, undone, last.previous, stamp)
    _journal(store, swap)
    return swap


def _swap(server: PgServer, live: str, incoming: str, previous: str) -> None:
    """In one transaction: ends the sessions on `live`, renames it to `previous` and `incoming`
    to `live`. PostgreSQL waits up to 5 s for ended sessions to go; a client that reconnects in
    between makes the rename fail, so it is tried again a few times."""
    ident = sql.Identifier
    exists = server.exists(live)
    with server.connect(MAINTENANCE_DB) as conn:
        for attempt in range(SWAP_ATTEMPTS):
            try:
                with conn.transaction():
                    if exists:
                        conn.execute(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = %s AND pid <> pg_backend_pid()",
                            (live,),
                        )
                        conn.execute(
                            sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                                ident(live), ident(previous)
                            )
                        )
                    conn.execute(
                        sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                            ident(incoming), ident(live)
                        )
                    )
                return
            except psycopg.errors.ObjectInUse:
                if attempt == SWAP_ATTEMPTS - 1:
                    raise RestoreFailed(
                        f"sessions on {live} kept reconnecting: the swap did not happen",
                        "stop the app (or its workers) for a moment and run it again",
                    ) from None


def _read_journal(store: Store) -> list[Swap]:
    try:
        data = json.loads((store.root / JOURNAL).read_text())
        return [Swap(**item) for item in data]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, TypeError) as error:
        raise InputError(
            f"cannot read {store.root / JOURNAL}: {error}", "fix or move the file"
        ) from None


def _journal(store: Store, swap: Swap) -> None:
    swaps: list[dict[str, Any]] = [s.__dict__ for s in _read_journal(store)]
    write_json_atomic(store.root / JOURNAL, [*swaps, swap.__dict__])

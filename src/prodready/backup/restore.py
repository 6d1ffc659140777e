"""`prodready restore`: restore into a new database (or beside the live file or folder),
verify, then swap it in by renaming; what was live is kept (`<db>_prev_<ts>`,
`<path>.prev-<ts>`), never deleted. `--undo` swaps back.

For PostgreSQL the two renames run in one transaction: a restore killed at any step leaves
either the old database live or the new one, never neither. MariaDB has no RENAME DATABASE:
its tables move in one atomic RENAME TABLE (mariadb_swap.py). Each swap is journaled in
`<dest>/restores.json`; the swaps of one restore share its time stamp and are undone together.
The app is marked not-ready from the first swap to the last (notready.py).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from prodready.backup.dump import DumpTools
from prodready.backup.files import write_json_atomic
from prodready.backup.folders import extract_beside
from prodready.backup.manifest import Manifest
from prodready.backup.mariadb import MariaServer
from prodready.backup.mariadb_dump import KIND as MARIADB
from prodready.backup.mariadb_dump import compare_loaded, load_dump
from prodready.backup.mariadb_swap import SwapFailed, swap_databases
from prodready.backup.notready import NotReadyWindow
from prodready.backup.pathswap import refuse_open_sqlite, stage_file, swap_path
from prodready.backup.pg import MAINTENANCE_DB, PgServer
from prodready.backup.progress import Progress
from prodready.backup.sqlitedb import row_counts as sqlite_counts
from prodready.backup.store import Entry, Store
from prodready.backup.verify import checked_parts, compare_restored, restore_dump, scratch_name
from prodready.errors import InputError, UserError

JOURNAL = "restores.json"
SWAP_ATTEMPTS = 5


class RestoreFailed(UserError):
    """The restored copy did not match its manifest: nothing was swapped."""


@dataclass(frozen=True)
class Swap:
    database: str  # the database name or path that serves the app
    previous: str  # where the data it had before now lives
    restored_from: str  # backup id, or what an undo brought back
    at: str
    kind: str = "postgresql"  # or mariadb, or path (SQLite files, folders)


def restore_backup(
    database: PgServer | MariaServer | Path | None,
    store: Store,
    entry: Entry,
    target: str | None,
    tools: DumpTools | None,
    progress: Progress,
    key: bytes | None = None,
    window: NotReadyWindow | None = None,
) -> list[Swap]:
    """Checks the whole backup first, then restores its database and its files, each swapped in
    with the live one kept, the app marked not-ready meanwhile when `window` names a flag. The
    caller holds the store's lock and closes the window."""
    window = window or NotReadyWindow(None, 0, progress)
    # Microseconds: two restores within one second must not share the previous copy's name.
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    staged: list[tuple[Path, Path]] = []
    with checked_parts(entry, tools, key) as (manifest, paths):
        try:
            for part in manifest.parts[1:]:  # the files, unpacked beside their live folders
                live = Path(part.source or "")
                progress.step(f"unpacking {part.name} beside {live}")
                staged.append((live, extract_beside(paths[part.name], live, stamp)))
            first = paths[manifest.parts[0].name]
            if manifest.engine == "postgresql":
                if not isinstance(database, PgServer):
                    raise InputError(
                        f"backup {entry.id} is of a PostgreSQL database",
                        "pass --database with the PostgreSQL URL to restore it to",
                    )
                swaps = [
                    _restore_postgres(
                        database, entry, first, manifest, target, tools, progress, window, stamp
                    )
                ]
            elif manifest.engine == MARIADB:
                if not isinstance(database, MariaServer):
                    raise InputError(
                        f"backup {entry.id} is of a MariaDB database",
                        "pass --database with the MariaDB URL to restore it to",
                    )
                swaps = [
                    _restore_mariadb(
                        database, entry, first, manifest, target, progress, window, stamp
                    )
                ]
            else:
                live = Path(target) if target else Path(manifest.parts[0].source or "")
                swaps = [
                    _restore_sqlite(
                        entry, first, manifest, live.absolute(), progress, window, stamp
                    )
                ]
        except BaseException:
            for _, folder in staged:  # ours, never swapped in
                shutil.rmtree(folder, ignore_errors=True)
            raise
    for live, folder in staged:
        previous = live.with_name(f"{live.name}.prev-{stamp}")
        window.open(entry.id)
        swap_path(live, folder, previous)
        swaps.append(Swap(str(live), str(previous), entry.id, stamp, "path"))
    _journal(store, swaps)
    return swaps


def undo_last(
    database: PgServer | MariaServer | Path | None, store: Store, window: NotReadyWindow
) -> list[Swap]:
    """Swaps back the last restore (or undo): what it replaced becomes live again and what it
    put in place is kept as `<db>_undone_<ts>` / `<path>.undone-<ts>`. The caller closes the
    window."""
    journal = _read_journal(store)
    if not journal:
        raise InputError("no restore to undo", f"nothing in {store.root / JOURNAL}")
    last = [swap for swap in journal if swap.at == journal[-1].at]
    # Microseconds: two restores within one second must not share the previous copy's name.
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    undone: list[Swap] = []
    for swap in last:
        if swap.kind == "postgresql":
            if not isinstance(database, PgServer):
                raise InputError("the last restore was of a PostgreSQL database", "pass --database")
            if not database.exists(swap.previous):
                raise InputError(
                    f"database {swap.previous} is gone: the restore of {swap.at} cannot be undone",
                    "restore a backup instead (`prodready restore --list`)",
                )
            aside = scratch_name(swap.database, "undone", stamp)
            window.open(f"the undo of {swap.at}")
            _swap(database, live=swap.database, incoming=swap.previous, previous=aside)
        elif swap.kind == MARIADB:
            if not isinstance(database, MariaServer):
                raise InputError("the last restore was of a MariaDB database", "pass --database")
            if not database.exists(swap.previous):
                raise InputError(
                    f"database {swap.previous} is gone: the restore of {swap.at} cannot be undone",
                    "restore a backup instead (`prodready restore --list`)",
                )
            aside = scratch_name(swap.database, "undone", stamp)
            window.open(f"the undo of {swap.at}")
            swap_databases(database, live=swap.database, incoming=swap.previous, previous=aside)
        else:
            live, previous = Path(swap.database), Path(swap.previous)
            if not previous.exists():
                raise InputError(f"{previous} is gone: it cannot be undone", "restore a backup")
            aside = str(live.with_name(f"{live.name}.undone-{stamp}"))
            window.open(f"the undo of {swap.at}")
            swap_path(live, previous, Path(aside))
        undone.append(Swap(swap.database, aside, swap.previous, stamp, swap.kind))
    _journal(store, undone)
    return undone


def _restore_postgres(
    server: PgServer,
    entry: Entry,
    dump: Path,
    manifest: Manifest,
    target: str | None,
    tools: DumpTools | None,
    progress: Progress,
    window: NotReadyWindow,
    stamp: str,
) -> Swap:
    assert tools is not None
    database = target or server.dbname
    restored = scratch_name(database, "restore", stamp)
    if server.exists(restored):
        raise InputError(f"database {restored} exists already", "wait a second and run it again")
    try:
        restore_dump(server, restored, entry, dump, manifest, tools, progress)
        progress.step("comparing row counts and tables")
        reason = compare_restored(server, restored, manifest)
        if reason:
            raise RestoreFailed(
                f"the restored copy of {entry.id} does not match its manifest: {reason}",
                "the live database was not touched; try another backup",
            )
        window.open(entry.id)
        progress.step(f"swapping {restored} in as {database}")
        previous = scratch_name(database, "prev", stamp)
        _swap(server, live=database, incoming=restored, previous=previous)
    except BaseException:
        server.drop(restored)  # ours, never swapped in: the live database is untouched
        raise
    return Swap(database, previous, entry.id, stamp)


def _restore_mariadb(
    server: MariaServer,
    entry: Entry,
    dump: Path,
    manifest: Manifest,
    target: str | None,
    progress: Progress,
    window: NotReadyWindow,
    stamp: str,
) -> Swap:
    database = target or server.dbname
    restored = scratch_name(database, "restore", stamp)
    if server.exists(restored):
        raise InputError(f"database {restored} exists already", "wait a second and run it again")
    try:
        progress.step(f"restoring {entry.id} into {restored}")
        load_dump(server, restored, dump, manifest, f"restoring {entry.id}")
        progress.step("comparing row counts and tables")
        reason = compare_loaded(server, restored, manifest)
        if reason:
            raise RestoreFailed(
                f"the restored copy of {entry.id} does not match its manifest: {reason}",
                "the live database was not touched; try another backup",
            )
        window.open(entry.id)
        progress.step(f"swapping {restored} in as {database}")
        previous = scratch_name(database, "prev", stamp)
        swap_databases(server, live=database, incoming=restored, previous=previous)
    except BaseException as error:
        if not isinstance(error, SwapFailed) or not error.swapped:
            server.drop(restored)  # ours, never swapped in: the live database is untouched
        raise
    return Swap(database, previous, entry.id, stamp, MARIADB)


def _restore_sqlite(
    entry: Entry,
    copy: Path,
    manifest: Manifest,
    live: Path,
    progress: Progress,
    window: NotReadyWindow,
    stamp: str,
) -> Swap:
    refuse_open_sqlite(live)
    progress.step(f"restoring {entry.id} beside {live}")
    staged = stage_file(copy, live, stamp)
    try:
        if sqlite_counts(staged) != manifest.row_counts:
            raise RestoreFailed(
                f"the restored copy of {entry.id} does not match its manifest's row counts",
                "the live database was not touched; try another backup",
            )
        previous = live.with_name(f"{live.name}.prev-{stamp}")
        window.open(entry.id)
        swap_path(live, staged, previous)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return Swap(str(live), str(previous), entry.id, stamp, "path")


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


def _journal(store: Store, swaps: list[Swap]) -> None:
    old = [asdict(s) for s in _read_journal(store)]
    write_json_atomic(store.root / JOURNAL, [*old, *(asdict(s) for s in swaps)])

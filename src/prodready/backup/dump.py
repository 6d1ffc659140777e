"""Taking a backup: the database part (PostgreSQL and MariaDB: the row counts and the dump from
one snapshot; SQLite: the online backup API) and the files parts, written into a `.partial`
directory, fsynced, described by a manifest written last; only then does the directory get its
final name."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from prodready.backup.crypto import encrypt_file, key_id
from prodready.backup.files import fsync_dir, fsync_file, sha256_of, write_json_atomic
from prodready.backup.folders import dump_path, part_name
from prodready.backup.manifest import MANIFEST, Manifest, Part
from prodready.backup.mariadb import ClientTools, MariaServer
from prodready.backup.mariadb_dump import KIND as MARIADB
from prodready.backup.mariadb_dump import dump_database
from prodready.backup.pg import PgServer, check_clients, find_tool, row_counts, snapshot
from prodready.backup.progress import Progress
from prodready.backup.sqlitedb import dump_sqlite
from prodready.backup.store import Store
from prodready.backup.toc import read_toc
from prodready.backup.tools import elapsed_since, run_tool
from prodready.errors import ToolError

DUMP = "db.dump"
SQLITE = "db.sqlite3"
ENCRYPTED_SUFFIX = ".enc"


@dataclass(frozen=True)
class DumpTools:
    pg_dump: str
    pg_restore: str

    @classmethod
    def find(cls) -> DumpTools:
        return cls(find_tool("pg_dump"), find_tool("pg_restore"))


@dataclass(frozen=True)
class DatabasePart:
    """What the database part produced: the manifest's database fields."""

    part: Part
    source: str
    database: str
    server_version: str
    client_version: int | None
    locale: dict[str, str]
    toc: list[str]
    row_counts: dict[str, int]
    engine: str


def take_backup(
    database: PgServer | MariaServer | Path,
    files: list[Path],
    store: Store,
    tools: DumpTools | None,
    progress: Progress,
    app_release: str | None = None,
    key: bytes | None = None,
) -> Manifest:
    """Takes one backup of `database` (a PostgreSQL or MariaDB server, or a SQLite file) and
    `files`; returns its manifest. With `key`, every part is encrypted (AES-256-GCM) and its
    clear copy removed before the manifest is written. The caller holds the store's lock."""
    started = time.monotonic()
    client = None
    if isinstance(database, PgServer):
        assert tools is not None
        client = check_clients([tools.pg_dump, tools.pg_restore], database)[tools.pg_dump]
    maria_tools = ClientTools.find() if isinstance(database, MariaServer) else None
    store.sweep_leftovers()
    backup_id = store.new_id()
    work = store.partial_dir(backup_id)
    try:
        work.mkdir()
        if isinstance(database, PgServer):
            assert tools is not None and client is not None
            db = _dump_postgres(work, database, tools, client, progress)
        elif isinstance(database, MariaServer):
            assert maria_tools is not None
            db = _dump_mariadb(work, database, maria_tools, progress)
        else:
            progress.step(f"copying {database}")
            part, counts = dump_sqlite(database, work, SQLITE)
            db = DatabasePart(
                part, str(database), database.name, sqlite3.sqlite_version, None, {}, [], counts,
                "sqlite",
            )  # fmt: skip
        parts = [db.part]
        for path in files:
            progress.step(f"archiving {path}")
            parts.append(dump_path(path, work, part_name(path, {p.name for p in parts})))
        if key is not None:
            progress.step("encrypting")
            parts = [_encrypted(work, part, key) for part in parts]
        manifest = Manifest(
            id=backup_id,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            source=db.source,
            database=db.database,
            server_version=db.server_version,
            client_version=db.client_version,
            app_release=app_release,
            locale=db.locale,
            parts=parts,
            toc=db.toc,
            row_counts=db.row_counts,
            duration_s=elapsed_since(started),
            engine=db.engine,
            key_id=key_id(key) if key is not None else None,
        )
        write_json_atomic(work / MANIFEST, manifest.to_json())
        os.rename(work, store.root / backup_id)
        fsync_dir(store.root)
    except OSError as error:
        shutil.rmtree(work, ignore_errors=True)
        raise ToolError(
            f"cannot write the backup in {store.root}: {error.strerror or error}",
            "free space on the destination or pass another --dest; nothing was recorded",
        ) from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


def _encrypted(work: Path, part: Part, key: bytes) -> Part:
    clear = work / part.name
    sealed = work / (part.name + ENCRYPTED_SUFFIX)
    encrypt_file(clear, sealed, key)
    clear.unlink()
    return replace(
        part,
        name=sealed.name,
        size=sealed.stat().st_size,
        sha256=sha256_of(sealed),
        encrypted=True,
    )


def _dump_mariadb(
    work: Path, server: MariaServer, tools: ClientTools, progress: Progress
) -> DatabasePart:
    dumped = dump_database(work, server, tools, progress)
    return DatabasePart(
        dumped.part, server.describe(), server.dbname, dumped.server_version, None,
        dumped.charset, dumped.toc, dumped.row_counts, MARIADB,
    )  # fmt: skip


def _dump_postgres(
    work: Path, server: PgServer, tools: DumpTools, client: int, progress: Progress
) -> DatabasePart:
    tmp = work / f".{DUMP}.tmp"
    progress.step(f"dumping {server.describe()}")
    with snapshot(server) as (conn, snapshot_id), ThreadPoolExecutor(1) as pool:
        locale = server.locale_of(conn)
        version = conn.info.parameter_status("server_version") or "?"
        # Counted while pg_dump runs, in the snapshot pg_dump reads: the same rows. One backend
        # per count: parallel workers would take the CPU that pg_dump and its backend need
        # (measured at pgbench scale 60 on 2 CPUs: the dump took 0.6 s longer with them).
        conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        counting = pool.submit(row_counts, conn)
        try:
            run_tool(
                [
                    tools.pg_dump,
                    "--format=custom",
                    f"--snapshot={snapshot_id}",
                    "--no-password",
                    f"--file={tmp}",
                ],
                server.tool_env(),
                "the dump",
                watch=tmp,
                on_size=lambda size: progress.bytes("dumped", size),
            )
        except BaseException:
            conn.cancel_safe()  # the counts are moot now: do not wait for them
            raise
        counts = counting.result()
    progress.done()
    fsync_file(tmp)
    final = work / DUMP
    os.rename(tmp, final)
    fsync_dir(work)
    toc = read_toc(tools.pg_restore, final)
    part = Part(DUMP, "postgresql", final.stat().st_size, sha256_of(final))
    return DatabasePart(
        part, server.describe(), server.dbname, version, client, locale, toc, counts, "postgresql"
    )

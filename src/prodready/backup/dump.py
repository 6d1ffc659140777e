"""Taking a PostgreSQL backup: the row counts and the dump from one snapshot, the dump written
to a temporary name in a `.partial` directory, fsynced, checked, described by a manifest written
last; only then does the directory get its final name."""

from __future__ import annotations

import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prodready.backup.files import fsync_dir, fsync_file, sha256_of, write_json_atomic
from prodready.backup.manifest import MANIFEST, Manifest, Part
from prodready.backup.pg import PgServer, check_client, find_tool, row_counts, snapshot
from prodready.backup.progress import Progress
from prodready.backup.store import Store
from prodready.backup.toc import read_toc
from prodready.backup.tools import elapsed_since, run_tool
from prodready.errors import ToolError

DUMP = "db.dump"


@dataclass(frozen=True)
class DumpTools:
    pg_dump: str
    pg_restore: str

    @classmethod
    def find(cls) -> DumpTools:
        return cls(find_tool("pg_dump"), find_tool("pg_restore"))


def take_backup(
    server: PgServer,
    store: Store,
    tools: DumpTools,
    progress: Progress,
    app_release: str | None = None,
) -> Manifest:
    """Takes one backup under the store's lock; returns its manifest. The caller holds the lock."""
    started = time.monotonic()
    server_major = server.server_major()
    client = check_client(tools.pg_dump, server_major)
    check_client(tools.pg_restore, server_major)
    backup_id = store.new_id()
    work = store.partial_dir(backup_id)
    try:
        work.mkdir()
        manifest = _dump_into(work, backup_id, server, tools, client, progress, app_release)
        manifest = Manifest(**{**manifest.__dict__, "duration_s": elapsed_since(started)})
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


def _dump_into(
    work: Path,
    backup_id: str,
    server: PgServer,
    tools: DumpTools,
    client: int,
    progress: Progress,
    app_release: str | None,
) -> Manifest:
    tmp = work / f".{DUMP}.tmp"
    progress.step(f"dumping {server.describe()}")
    with snapshot(server) as (conn, snapshot_id), ThreadPoolExecutor(1) as pool:
        locale = server.locale_of(conn)
        version = conn.info.parameter_status("server_version") or "?"
        # Counted while pg_dump runs, in the snapshot pg_dump reads: the same rows.
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
    return Manifest(
        id=backup_id,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source=server.describe(),
        database=server.dbname,
        server_version=version,
        client_version=client,
        app_release=app_release,
        locale=locale,
        parts=[part],
        toc=toc,
        row_counts=counts,
        duration_s=0.0,
    )

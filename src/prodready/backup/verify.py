"""Proving a backup: its parts match the manifest's sizes and checksums, its table of contents
reads back the same, and it restores into a scratch database with the manifest's row counts."""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prodready.backup.crypto import KEY_ENV, CorruptPart, WrongKey, decrypt_file, key_id
from prodready.backup.dump import ENCRYPTED_SUFFIX, DumpTools
from prodready.backup.files import sha256_of
from prodready.backup.folders import tar_problem
from prodready.backup.manifest import Manifest, Part
from prodready.backup.mariadb import MariaServer
from prodready.backup.mariadb_dump import KIND as MARIADB
from prodready.backup.mariadb_dump import compare_loaded, dump_problem, load_dump
from prodready.backup.pg import PgServer, inserted_counts, row_counts
from prodready.backup.progress import Progress
from prodready.backup.sqlitedb import integrity_problem
from prodready.backup.sqlitedb import row_counts as sqlite_counts
from prodready.backup.store import Entry, Store
from prodready.backup.toc import read_toc, tables_in
from prodready.backup.tools import elapsed_since, run_tool
from prodready.errors import InputError, UserError

MAX_IDENTIFIER = 63
SHRINK = 0.5
"""A dump under half the previous verified one's size is suspect..."""
ROWS_SLACK = 1.5
"""...unless the rows fell about as much (rows ratio within 1.5 x the size ratio)."""


class BackupInvalid(UserError):
    """The backup's files do not match its manifest: it must not be used."""


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str
    duration_s: float

    def record(self, backup_id: str) -> dict[str, Any]:
        return {
            "id": backup_id,
            "ok": self.ok,
            "reason": self.reason,
            "verified_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "duration_s": self.duration_s,
        }


def scratch_name(database: str, purpose: str, backup_id: str) -> str:
    """`<db>_<purpose>_<id>` in lower case, the database part shortened to fit 63 bytes."""
    suffix = f"_{purpose}_" + re.sub(r"[^a-z0-9]", "", backup_id.lower())
    return database[: MAX_IDENTIFIER - len(suffix)] + suffix


@contextmanager
def checked_parts(
    entry: Entry, tools: DumpTools | None, key: bytes | None
) -> Iterator[tuple[Manifest, dict[str, Path]]]:
    """Checks the whole backup before anything is restored: the key (against the manifest's key
    id, so a wrong key is never taken for damage), every part's size and sha256, then each part
    read back by the tool that will restore it. Yields the manifest and each part's plaintext
    path (decrypted copies beside the parts, removed on the way out)."""
    manifest = _checked_files(entry, key)
    with tempfile.TemporaryDirectory(dir=entry.path, prefix=".plain-") as plain:
        paths: dict[str, Path] = {}
        for part in manifest.parts:
            path = entry.path / part.name
            if part.encrypted:
                assert key is not None
                clear = Path(plain) / part.name.removesuffix(ENCRYPTED_SUFFIX)
                try:
                    decrypt_file(path, clear, key)
                except CorruptPart as error:
                    raise BackupInvalid(f"backup {entry.id}: {error.message}", error.hint) from None
                path = clear
            problem = _content_problem(part, path, manifest, tools)
            if problem:
                raise BackupInvalid(f"backup {entry.id}: {problem}", "use another backup")
            paths[part.name] = path
        yield manifest, paths


def _checked_files(entry: Entry, key: bytes | None) -> Manifest:
    if entry.manifest is None:
        raise BackupInvalid(
            f"backup {entry.id} is incomplete (no manifest)",
            "use a complete backup: `prodready restore --list`",
        )
    manifest = entry.manifest
    if manifest.key_id is not None:
        if key is None:
            raise InputError(
                f"backup {entry.id} is encrypted",
                f"pass --key-file or set ${KEY_ENV} to the key it was made with",
            )
        if key_id(key) != manifest.key_id:
            raise WrongKey(
                f"backup {entry.id} was encrypted with another key (key id {manifest.key_id}, "
                f"given {key_id(key)})",
                f"pass the key it was made with (--key-file or ${KEY_ENV})",
            )
    for part in manifest.parts:
        path = entry.path / part.name
        if not path.is_file():
            raise BackupInvalid(
                f"backup {entry.id}: part {part.name} is missing",
                "this backup cannot be restored; use another one (`prodready restore --list`)",
            )
        size = path.stat().st_size
        if size != part.size:
            raise BackupInvalid(
                f"backup {entry.id}: {part.name} is {size} bytes, the manifest says {part.size}",
                "the file was truncated or changed; use another backup",
            )
        if sha256_of(path) != part.sha256:
            raise BackupInvalid(
                f"backup {entry.id}: {part.name} does not match its sha256 in the manifest",
                "the file is corrupt; use another backup",
            )
    return manifest


def _content_problem(
    part: Part, path: Path, manifest: Manifest, tools: DumpTools | None
) -> str | None:
    """Each kind of part read back by the tool that will restore it."""
    if part.kind == "postgresql":
        if tools is None:
            return "a PostgreSQL dump needs pg_restore"
        if read_toc(tools.pg_restore, path) != manifest.toc:
            return f"{part.name}'s table of contents differs from the manifest"
    if part.kind == MARIADB:
        return dump_problem(path, manifest)
    if part.kind == "sqlite":
        return integrity_problem(path)
    if part.kind == "files":
        return tar_problem(path, part.entries)
    return None


def restore_dump(
    server: PgServer,
    dbname: str,
    entry: Entry,
    dump: Path,
    manifest: Manifest,
    tools: DumpTools,
    progress: Progress,
) -> None:
    """Creates `dbname` and restores the dump into it in one transaction: a failure leaves it
    empty, never half-restored."""
    server.create(dbname, manifest.locale)
    progress.step(f"restoring {entry.id} into {dbname}")
    run_tool(
        [
            tools.pg_restore,
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={dbname}",
            str(dump),
        ],
        server.tool_env(dbname),
        f"restoring {entry.id}",
    )


def compare_restored(server: PgServer, dbname: str, manifest: Manifest) -> str | None:
    """Why the restored database differs from the manifest, or None when it matches. The
    server's counters of inserted rows are asked first; only when they disagree (or counting is
    off, or the restore's statistics are not flushed yet) are the rows counted one by one."""
    with server.connect(dbname) as conn:
        quick = inserted_counts(conn)
        if quick is not None and _difference(quick, manifest) is None:
            return None
        return _difference(row_counts(conn), manifest)


def _difference(counts: dict[str, int], manifest: Manifest) -> str | None:
    missing = sorted(tables_in(manifest.toc) - set(counts))
    if missing:
        return f"table {missing[0]} of the dump is missing after the restore"
    for table, expected in sorted(manifest.row_counts.items()):
        got = counts.get(table)
        if got != expected:
            return f"{table} has {got} rows after the restore, the manifest says {expected}"
    return None


def shrink_reason(manifest: Manifest, previous: Manifest | None) -> str | None:
    """A dump markedly smaller than the previous verified one, without a matching drop in rows,
    is how a failing dump (a full disk, an empty database) looks: refuse it."""
    if previous is None or previous.size == 0:
        return None
    size_ratio = manifest.size / previous.size
    if size_ratio >= SHRINK:
        return None
    rows_ratio = manifest.total_rows / previous.total_rows if previous.total_rows else 1.0
    if rows_ratio <= size_ratio * ROWS_SLACK:
        return None
    return (
        f"the dump is {size_ratio:.0%} of the size of {previous.id}'s while the rows are "
        f"{rows_ratio:.0%} of its rows"
    )


def verify_backup(
    database: PgServer | MariaServer | Path | None,
    store: Store,
    entry: Entry,
    tools: DumpTools | None,
    progress: Progress,
    key: bytes | None = None,
) -> Verdict:
    """Verifies one backup and records the verdict beside its manifest. A PostgreSQL or MariaDB
    dump is restored into a scratch database, dropped whatever happens (Ctrl-C included); a
    SQLite copy is checked and counted where it lies. A missing or wrong key is the caller's
    mistake, not the backup's: it raises instead of recording a failure."""
    started = time.monotonic()
    reason: str | None
    try:
        with checked_parts(entry, tools, key) as (manifest, paths):
            first = paths[manifest.parts[0].name]
            if manifest.engine == "sqlite":
                counts = sqlite_counts(first)
                reason = None if counts == manifest.row_counts else "row counts differ"
            elif manifest.engine == MARIADB:
                if not isinstance(database, MariaServer):
                    reason = "a MariaDB backup needs --database with a MariaDB URL to verify it"
                else:
                    reason = _verify_mariadb(database, entry, first, manifest, progress)
            elif not isinstance(database, PgServer) or tools is None:
                reason = "a PostgreSQL backup needs --database to verify it on a server"
            else:
                reason = _verify_postgres(database, entry, first, manifest, tools, progress)
    except BackupInvalid as error:
        verdict = Verdict(False, error.message, elapsed_since(started))
        store.record_verification(entry.id, verdict.record(entry.id))
        return verdict
    previous = store.previous_verified(entry.id)
    reason = reason or shrink_reason(manifest, previous.manifest if previous else None)
    passed = (
        "integrity_check ok; row counts match"
        if manifest.engine == "sqlite"
        else "restored; row counts and tables match"
    )
    verdict = Verdict(reason is None, reason or passed, elapsed_since(started))
    store.record_verification(entry.id, verdict.record(entry.id))
    return verdict


def _verify_postgres(
    server: PgServer,
    entry: Entry,
    dump: Path,
    manifest: Manifest,
    tools: DumpTools,
    progress: Progress,
) -> str | None:
    scratch = scratch_name(manifest.database, "verify", entry.id)
    try:
        server.drop(scratch)  # left over by a verification killed with SIGKILL
        restore_dump(server, scratch, entry, dump, manifest, tools, progress)
        progress.step("comparing row counts and tables")
        return compare_restored(server, scratch, manifest)
    except UserError as error:
        return error.message
    finally:
        server.drop(scratch)


def _verify_mariadb(
    server: MariaServer, entry: Entry, dump: Path, manifest: Manifest, progress: Progress
) -> str | None:
    scratch = scratch_name(manifest.database, "verify", entry.id)
    try:
        server.drop(scratch)  # left over by a verification killed with SIGKILL
        progress.step(f"restoring {entry.id} into {scratch}")
        load_dump(server, scratch, dump, manifest, f"restoring {entry.id}")
        progress.step("comparing row counts and tables")
        return compare_loaded(server, scratch, manifest)
    except UserError as error:
        return error.message
    finally:
        server.drop(scratch)

"""backup: `prodready backup` of the app's database, proven by its own verification, then
`prodready restore` into a new database whose every table must hold the same rows.

Only what verify owns is touched: the scratch PostgreSQL database of the run, or a copy of the
app's SQLite file in the work directory. An empty database is seeded with a known table first
(a backup of nothing proves nothing); the seed, the restored copy and the backups are removed
afterwards."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from psycopg import Connection, sql

from prodready.backup.dump import DumpTools, take_backup
from prodready.backup.pg import TABLES, PgServer
from prodready.backup.progress import Progress
from prodready.backup.restore import restore_backup
from prodready.backup.store import Store
from prodready.backup.verify import scratch_name, verify_backup
from prodready.errors import ToolError, UserError
from prodready.project.databases import SQLITE_URL, database_urls
from prodready.verify.model import ItemResult, counted
from prodready.verify.stage import Stage

TITLE = "backup and restore"
SEED_TABLE = "prodready_verify_seed"
SEED_ROWS = 1000
Fingerprints = dict[str, tuple[int, str]]
"""table -> (rows, digest of its rows' text, independent of their order)."""


def verify(stage: Stage) -> ItemResult:
    if stage.backing.scratch_url:
        return _postgres(stage, PgServer.from_url(stage.backing.scratch_url))
    if stage.project.uses_service("postgresql"):
        why = next((n for n in stage.backing.notes if n.startswith("PostgreSQL")), "")
        return ItemResult.skipped("backup", TITLE, "no scratch PostgreSQL database", details=[why])
    sqlite_url = _sqlite_url(stage)
    if sqlite_url:
        return _sqlite(stage, sqlite_url)
    if stage.project.uses_service("mysql"):
        return ItemResult.skipped(
            "backup", TITLE, "MySQL/MariaDB: prodready backup does not take them yet"
        )
    return ItemResult.skipped("backup", TITLE, "no database configured")


def _postgres(stage: Stage, server: PgServer) -> ItemResult:
    try:
        tools = DumpTools.find()
    except ToolError as error:
        return ItemResult.skipped(
            "backup", TITLE, "pg_dump/pg_restore missing", details=[error.message]
        )
    seeded = _seed_postgres(server)
    restored = scratch_name(server.dbname, "copy", stage.work.name.lower())
    try:
        with server.connect() as conn:
            before = _pg_fingerprints(conn)
        outcome = _round_trip(stage, server, tools, restored)
        if isinstance(outcome, ItemResult):
            return outcome
        with server.connect(restored) as conn:
            after = _pg_fingerprints(conn)
        return _judged(before, after, outcome, seeded, f"database {restored}")
    finally:
        server.drop(restored)
        if seeded:
            with server.connect() as conn:
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(SEED_TABLE)))


def _sqlite(stage: Stage, url: str) -> ItemResult:
    copy = stage.work / "backup-source.sqlite3"
    original = _sqlite_file(url, stage.root)
    target = sqlite3.connect(copy)
    try:
        if original is not None:  # the online backup API: safe while the app writes to it
            source = sqlite3.connect(f"file:{original}?mode=ro", uri=True)
            source.backup(target)
            source.close()
        seeded = _seed_sqlite(target)
        before = _sqlite_fingerprints(target)
    finally:
        target.close()
    restored = stage.work / "backup-restored.sqlite3"
    outcome = _round_trip(stage, copy, None, str(restored))
    if isinstance(outcome, ItemResult):
        return outcome
    check = sqlite3.connect(f"file:{restored}?mode=ro", uri=True)
    try:
        after = _sqlite_fingerprints(check)
    finally:
        check.close()
    where = (
        f"a copy of {original}" if original else "a new SQLite file (the app's is not there yet)"
    )
    return _judged(before, after, outcome, seeded, str(restored.name), [f"backed up {where}"])


def _round_trip(
    stage: Stage, database: PgServer | Path, tools: DumpTools | None, target: str
) -> dict[str, float | int | str | bool] | ItemResult:
    """Backup with verification, then restore into `target`: the measures, or the failure."""
    store = Store(stage.work / "backups")
    progress = Progress(False)
    try:
        with store.lock():
            manifest = take_backup(database, [], store, tools, progress)
            verdict = verify_backup(database, store, store.entry(manifest.id), tools, progress)
            measures: dict[str, float | int | str | bool] = {
                "backup_bytes": manifest.size,
                "tables": len(manifest.row_counts),
                "rows": manifest.total_rows,
                "backup_s": round(manifest.duration_s, 2),
                "verify_s": round(verdict.duration_s, 2),
                "verified": verdict.ok,
            }
            if not verdict.ok:
                return ItemResult.failed(
                    "backup", TITLE, "the backup's own verification failed",
                    measures=measures, details=[f"backup {manifest.id}: {verdict.reason}"],
                )  # fmt: skip
            restore_backup(database, store, store.entry(manifest.id), target, tools, progress)
    except UserError as error:
        return ItemResult.failed(
            "backup", TITLE, _short(error.message), details=[error.message, error.hint or ""]
        )
    return measures


def _judged(
    before: Fingerprints,
    after: Fingerprints,
    measures: dict[str, float | int | str | bool],
    seeded: bool,
    restored: str,
    notes: list[str] | None = None,
) -> ItemResult:
    measures["seeded_rows"] = SEED_ROWS if seeded else 0
    details = list(notes or [])
    if seeded:
        details.append(f"the database was empty: seeded {SEED_TABLE} with {SEED_ROWS} rows")
    differing = [
        _difference(table, before.get(table), after.get(table))
        for table in sorted(before.keys() | after.keys())
        if before.get(table) != after.get(table)
    ]
    measures["differing_tables"] = len(differing)
    if differing:
        return ItemResult.failed(
            "backup", TITLE, f"restored copy differs in {len(differing)} of {len(before)} tables",
            measures=measures, details=details + differing[:20],
        )  # fmt: skip
    rows = sum(count for count, _ in before.values())
    details.append(f"restored into {restored}: every table's rows identical (md5 per row)")
    return ItemResult.passed(
        "backup", TITLE, f"backup verified, restore identical: {counted(len(before), 'table')}, "
        f"{counted(rows, 'row')}",
        measures=measures, details=details,
    )  # fmt: skip


def _difference(table: str, before: tuple[int, str] | None, after: tuple[int, str] | None) -> str:
    if before is None:
        return f"{table}: only in the restored copy"
    if after is None:
        return f"{table}: missing after the restore"
    if before[0] != after[0]:
        return f"{table}: {before[0]} rows before, {after[0]} in the restored copy"
    return f"{table}: {before[0]} rows on both sides, but their content differs"


def _seed_postgres(server: PgServer) -> bool:
    """Seeds the scratch database when it has no rows at all; True when it did."""
    with server.connect() as conn:
        tables = conn.execute(TABLES).fetchall()
        if any(_pg_has_rows(conn, schema, table) for schema, table in tables):
            return False
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (id int PRIMARY KEY, body text NOT NULL, at timestamptz NOT NULL);"
                "INSERT INTO {} SELECT g, md5(g::text), now() - g * interval '1 minute' "
                "FROM generate_series(1, {}) g"
            ).format(sql.Identifier(SEED_TABLE), sql.Identifier(SEED_TABLE), sql.Literal(SEED_ROWS))
        )
    return True


def _pg_has_rows(conn: Connection, schema: str, table: str) -> bool:
    query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {}.{})").format(
        sql.Identifier(schema), sql.Identifier(table)
    )
    row = conn.execute(query).fetchone()
    return bool(row and row[0])


def _pg_fingerprints(conn: Connection) -> Fingerprints:
    found: Fingerprints = {}
    for schema, table in conn.execute(TABLES).fetchall():
        query = sql.SQL(
            "SELECT count(*), md5(coalesce(string_agg(md5(t::text), '' ORDER BY md5(t::text)), ''))"
            " FROM {}.{} t"
        ).format(sql.Identifier(schema), sql.Identifier(table))
        count, digest = conn.execute(query).fetchone()
        found[f"{schema}.{table}"] = (int(count), str(digest))
    return found


def _sqlite_url(stage: Stage) -> str | None:
    """The app's SQLite URL: from its production env files, else a literal in its code."""
    for found in database_urls(stage.project):
        if found.kind == "sqlite":
            return found.url
    literals = (url for m in stage.project.modules.values() for _, url in m.url_literals)
    return next((url for url in literals if SQLITE_URL.match(url.strip())), None)


def _sqlite_file(url: str, root: Path) -> Path | None:
    """The file the URL names, when it exists (relative paths are from the app's folder)."""
    path = Path(url.split(":///", 1)[1].split("?", 1)[0])
    if str(path) in ("", ":memory:"):
        return None
    path = path if path.is_absolute() else root / path
    return path if path.is_file() else None


def _seed_sqlite(conn: sqlite3.Connection) -> bool:
    tables = [row[0] for row in conn.execute(_SQLITE_TABLES)]
    if any(conn.execute(f'SELECT EXISTS (SELECT 1 FROM "{t}")').fetchone()[0] for t in tables):
        return False
    with conn:
        conn.execute(f"CREATE TABLE {SEED_TABLE} (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        conn.executemany(
            f"INSERT INTO {SEED_TABLE} VALUES (?, ?)",
            ((n, hashlib.md5(str(n).encode()).hexdigest()) for n in range(1, SEED_ROWS + 1)),
        )
    return True


_SQLITE_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"


def _sqlite_fingerprints(conn: sqlite3.Connection) -> Fingerprints:
    found: Fingerprints = {}
    for (table,) in conn.execute(_SQLITE_TABLES).fetchall():
        rows = sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{table}"'))
        digest = hashlib.md5("\n".join(rows).encode()).hexdigest()
        found[table] = (len(rows), digest)
    return found


def _short(message: str) -> str:
    first = message.splitlines()[0] if message else "backup failed"
    return first if len(first) < 85 else first[:82] + "..."

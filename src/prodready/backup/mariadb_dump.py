"""A MariaDB/MySQL database dumped with `mariadb-dump --single-transaction`, with row counts
that describe exactly the rows in the dump; the dump's table of contents and its completeness
read back from the file; a dump loaded into a new database with the `mariadb` client and
compared with its manifest.

Counting in the dump's snapshot. pg_dump can be handed a snapshot another session exported;
mariadb-dump cannot: `--single-transaction` opens its own `START TRANSACTION WITH CONSISTENT
SNAPSHOT`, whose rows nobody else can read. Two InnoDB snapshots see the same rows when no
transaction that wrote to the counted tables commits between them. So, for the short moment
between the two:

1. a locking session takes `LOCK TABLES t1 READ, t2 READ, ...` on every table of the
   database. It waits for the transactions that have written to them to end, and holds back
   any new write (and DDL) to them; reads go on. It needs only the LOCK TABLES privilege on the
   database, where `FLUSH TABLES WITH READ LOCK` needs the global RELOAD privilege, stops
   writes to every database of the server and first waits for every running query, long
   SELECTs included;
2. a counting session starts `START TRANSACTION WITH CONSISTENT SNAPSHOT` (snapshot A);
3. mariadb-dump starts with `--verbose`: it prints `-- Starting transaction...` before its
   `START TRANSACTION WITH CONSISTENT SNAPSHOT` and its next progress line once that returned.
   As soon as that next line is on its stderr, its snapshot B exists;
4. the lock is released (`UNLOCK TABLES`). Nothing that changes the counted tables committed
   between A and B, so A's count(*) of each table, made while the dump runs, is the number of
   rows B dumps.

Writes to the database wait for the time mariadb-dump needs to connect and start its
transaction (milliseconds), as they would for `mariadb-dump --flush-logs`'s global lock. A table
whose engine has no snapshots (MyISAM, Aria) would be read by mariadb-dump at another moment
than it is counted: with one of those the lock is held until the dump ends (the way
mariadb-dump's own `--lock-tables` keeps them still). Were the lock not released within
`SNAPSHOT_WAIT_S` (mariadb-dump stuck before its snapshot), it is released anyway and the backup
fails: the counts could not be proven to match.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from prodready.backup.files import fsync_dir, fsync_file, sha256_of
from prodready.backup.manifest import Manifest, Part
from prodready.backup.mariadb import (
    ClientTools,
    MariaServer,
    catalog_toc,
    charset_of,
    create_database,
    events_of,
    execute,
    mq,
    reason,
    row_counts,
    server_version,
    tables_of,
)
from prodready.backup.progress import Progress
from prodready.backup.tools import run_tool
from prodready.errors import InputError, ToolError

if TYPE_CHECKING:
    import pymysql

DUMP = "db.sql"
KIND = "mariadb"
COMPLETED = b"-- Dump completed"
"""mariadb-dump's last line: a dump without it was cut short."""
SNAPSHOT_TAKEN = b"-- Starting transaction...\n-- "
"""The progress line after `Starting transaction`: mariadb-dump's snapshot exists."""
SNAPSHOT_ENGINES = {"InnoDB"}
LOCK_WAIT_S = 30
SNAPSHOT_WAIT_S = 60
MAX_PACKET = "--max-allowed-packet=1G"
ER_LOCK_WAIT_TIMEOUT = 1205

_NAME = rb"`((?:[^`]|``)+)`"
_BARE = rb"(?:`(?:[^`]|``)+`|[^\s.`(]+)"
STATEMENTS = [
    ("TABLE", re.compile(rb"^CREATE TABLE " + _NAME + rb" \(")),
    ("SEQUENCE", re.compile(rb"^CREATE SEQUENCE " + _NAME)),
    ("VIEW", re.compile(rb"^/\*!50001 VIEW " + _NAME + rb" AS ")),
    ("ROUTINE", re.compile(rb"^/\*!50003 DROP (PROCEDURE|FUNCTION) IF EXISTS " + _NAME)),
]
TRIGGER = re.compile(
    rb"^/\*!50003 CREATE\*/ (?:/\*!50017 DEFINER=.*?\*/ )?/\*!50003 (?i:trigger)\s+"
    rb"(?:(?i:if\s+not\s+exists)\s+)?(" + _BARE + rb"(?:\s*\.\s*" + _BARE + rb")?)"
)


@dataclass(frozen=True)
class MariaDump:
    """What the database part produced: the manifest's database fields."""

    part: Part
    server_version: str
    charset: dict[str, str]
    toc: list[str]
    row_counts: dict[str, int]


@dataclass(frozen=True)
class DumpContents:
    toc: list[str]
    complete: bool


def dump_database(
    work: Path, server: MariaServer, tools: ClientTools, progress: Progress
) -> MariaDump:
    """Dumps the URL's database into `work/db.sql` (a temporary name, fsynced, renamed) with the
    row counts of the dump's snapshot (see the module's docstring)."""
    db = server.dbname
    tmp = work / f".{DUMP}.tmp"
    progress.step(f"dumping {server.describe()}")
    with (
        contextlib.closing(server.connect(db)) as locker,
        contextlib.closing(server.connect(db)) as counter,
        ThreadPoolExecutor(1) as pool,
    ):
        version = server_version(locker)
        charset = charset_of(locker, db)
        events = events_of(locker, db)
        if events:
            named = ", ".join(events[:3]) + (", ..." if len(events) > 3 else "")
            raise InputError(
                f"database {db} has {len(events)} event(s) ({named}): backups of MariaDB "
                "events are not built",
                "drop the events (keep their SHOW CREATE EVENT text) or back up by other means",
            )
        tables = tables_of(locker, db)
        gate = _Gate(locker, db, tables)
        counting: Future[dict[str, int]] | None = None
        try:
            gate.lock()
            execute(counter, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            execute(counter, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
            live_toc = catalog_toc(locker, db)  # no table can change while they are locked
            counting = pool.submit(row_counts, counter, db, [name for name, _ in tables])
            hold = any(engine not in SNAPSHOT_ENGINES for _, engine in tables)
            timer = None if hold else threading.Timer(SNAPSHOT_WAIT_S, gate.expire)
            if timer is not None:
                timer.daemon = True
                timer.start()
            try:
                with server.option_file() as options:
                    run_tool(
                        [
                            tools.dump,
                            f"--defaults-file={options}",
                            "--single-transaction",
                            "--routines",
                            "--triggers",
                            "--hex-blob",
                            # no LOCK TABLES around the rows: a column whose default takes a
                            # sequence's NEXTVAL would fail the load ("was not locked")
                            "--skip-add-locks",
                            "--verbose",
                            MAX_PACKET,
                            f"--result-file={tmp}",
                            db,
                        ],
                        server.tool_env(),
                        "the dump",
                        watch=tmp,
                        on_size=lambda size: progress.bytes("dumped", size),
                        on_stderr=None if hold else (SNAPSHOT_TAKEN, gate.release),
                    )
                if hold:  # a table without snapshots is counted right only under the lock
                    counting.result()
            finally:
                if timer is not None:
                    timer.cancel()
                gate.release()
            if gate.expired:
                raise ToolError(
                    f"mariadb-dump did not start its snapshot within {SNAPSHOT_WAIT_S} s of the "
                    "tables being locked: the row counts cannot be matched with the dump",
                    "check the server's load and run the backup again",
                )
            counts = counting.result()
        except BaseException:
            gate.release()
            if counting is not None and not counting.done():
                with contextlib.suppress(Exception):  # the counts are moot: do not wait for them
                    execute(locker, f"KILL QUERY {int(counter.thread_id())}")
            raise
    progress.done()
    fsync_file(tmp)
    final = work / DUMP
    os.rename(tmp, final)
    fsync_dir(work)
    contents = read_dump(final)
    if not contents.complete:
        raise ToolError(
            f"mariadb-dump exited 0 but {DUMP} does not end with '-- Dump completed'",
            "the dump is incomplete; run the backup again (is the destination full?)",
        )
    difference = toc_difference(contents.toc, live_toc)
    if difference:
        raise ToolError(
            f"the dump does not hold what database {db} holds: {difference}",
            "the schema changed during the backup (run it again), or the object is of a kind "
            "mariadb-dump does not dump",
        )
    part = Part(DUMP, KIND, final.stat().st_size, sha256_of(final))
    return MariaDump(part, version, charset, contents.toc, counts)


class _Gate:
    """The READ lock on the database's tables, released once (by whoever comes first: the
    dump's snapshot, the time limit, the end of the dump or an error)."""

    def __init__(self, conn: pymysql.Connection, db: str, tables: list[tuple[str, str]]) -> None:
        self.conn = conn
        self.db = db
        self.tables = tables
        self.held = False
        self.expired = False
        self.mutex = threading.Lock()

    def lock(self) -> None:
        if not self.tables:
            return
        import pymysql

        names = ", ".join(f"{mq(self.db)}.{mq(name)} READ" for name, _ in self.tables)
        try:
            execute(self.conn, f"SET SESSION lock_wait_timeout = {LOCK_WAIT_S}")
            execute(self.conn, f"LOCK TABLES {names}")
        except pymysql.MySQLError as error:
            if error.args and error.args[0] == ER_LOCK_WAIT_TIMEOUT:
                raise ToolError(
                    f"the tables of {self.db} could not be locked within {LOCK_WAIT_S} s for the "
                    "moment the dump's snapshot starts: another session holds them",
                    "a long transaction or an ALTER TABLE is running; back up when it is done",
                ) from None
            raise InputError(
                f"cannot lock the tables of {self.db}: {reason(error)}",
                f"grant the backup's user LOCK TABLES on {self.db}.* (held for milliseconds, "
                "while mariadb-dump starts its snapshot)",
            ) from None
        self.held = True

    def release(self) -> None:
        with self.mutex:
            if self.held:
                self.held = False
                execute(self.conn, "UNLOCK TABLES")

    def expire(self) -> None:
        with self.mutex:
            if self.held:
                self.expired = True
                self.held = False
                execute(self.conn, "UNLOCK TABLES")


def read_dump(path: Path) -> DumpContents:
    """The dump's table of contents (`KIND name` lines, sorted, as `catalog_toc` gives them)
    and whether it ends with mariadb-dump's `-- Dump completed` line. Row lines are skipped;
    routine and trigger bodies (between `DELIMITER ;;` and `DELIMITER ;`) are not read for
    statements, only the trigger's name on their first line."""
    entries: set[str] = set()
    views: set[str] = set()
    tables: set[str] = set()
    in_block = first = False
    last = b""
    with open(path, "rb") as source:
        for line in source:
            if line[:1] in (b"(", b"I"):  # rows: `INSERT INTO ... VALUES (...),` and `(...),`
                last = line
                continue
            bare = line.rstrip(b"\r\n")
            if bare.strip():
                last = bare
            if in_block:
                if bare == b"DELIMITER ;":
                    in_block = False
                elif first:
                    first = False
                    match = TRIGGER.match(line)
                    if match:
                        entries.add("TRIGGER " + _unquote(_last_part(match[1])))
                continue
            if bare == b"DELIMITER ;;":
                in_block = first = True
                continue
            for kind, pattern in STATEMENTS:
                match = pattern.match(line)
                if not match:
                    continue
                if kind == "ROUTINE":
                    entries.add(f"{match[1].decode()} {_unquote(match[2])}")
                elif kind == "VIEW":
                    views.add(_unquote(match[1]))
                elif kind == "TABLE":
                    tables.add(_unquote(match[1]))
                else:
                    entries.add(f"{kind} {_unquote(match[1])}")
                break
    # an old mariadb-dump stands a view in with a table first; the view's name wins
    entries.update(f"TABLE {name}" for name in tables - views)
    entries.update(f"VIEW {name}" for name in views)
    return DumpContents(sorted(entries), last.startswith(COMPLETED))


def _last_part(name: bytes) -> bytes:
    """`db`.`name` → `name` (a dot inside backquotes is part of the name)."""
    parts = re.findall(rb"`(?:[^`]|``)+`|[^\s.`]+", name)
    return parts[-1] if parts else name


def _unquote(name: bytes) -> str:
    text = name.decode("utf-8", errors="replace")
    if text.startswith("`") and text.endswith("`"):
        text = text[1:-1]
    return text.replace("``", "`")


def toc_difference(got: list[str], expected: list[str]) -> str | None:
    """The first entry one list has and the other lacks, or None when they are the same."""
    missing = sorted(set(expected) - set(got))
    if missing:
        return f"{missing[0]} is missing"
    extra = sorted(set(got) - set(expected))
    if extra:
        return f"{extra[0]} was not expected"
    return None


def dump_problem(path: Path, manifest: Manifest) -> str | None:
    """Why a dump must not be restored (cut short, or its objects differ from the manifest's),
    or None."""
    contents = read_dump(path)
    if not contents.complete:
        return f"{path.name} does not end with '-- Dump completed': the dump was cut short"
    difference = toc_difference(contents.toc, manifest.toc)
    if difference:
        return f"{path.name}'s table of contents differs from the manifest: {difference}"
    return None


def load_dump(server: MariaServer, dbname: str, dump: Path, manifest: Manifest, what: str) -> None:
    """Creates `dbname` (the source's character set) and loads the dump into it with the
    `mariadb` client, whose exit code is checked: the first failing statement stops it."""
    tools = ClientTools.find()
    with contextlib.closing(server.connect()) as conn:
        create_database(conn, dbname, manifest.locale)
    with server.option_file() as options:
        run_tool(
            [
                tools.client,
                f"--defaults-file={options}",
                "--batch",
                "--binary-mode",
                MAX_PACKET,
                f"--database={dbname}",
            ],
            server.tool_env(),
            what,
            stdin=dump,
        )


def compare_loaded(server: MariaServer, dbname: str, manifest: Manifest) -> str | None:
    """Why the loaded database differs from the manifest (its objects, then each table's
    count(*)), or None when it matches."""
    with contextlib.closing(server.connect(dbname)) as conn:
        difference = toc_difference(catalog_toc(conn, dbname), manifest.toc)
        if difference:
            return f"after the restore, {difference}"
        counts = row_counts(conn, dbname, [name for name, _ in tables_of(conn, dbname)])
    for table, expected in sorted(manifest.row_counts.items()):
        got = counts.get(table)
        if got != expected:
            return f"{table} has {got} rows after the restore, the manifest says {expected}"
    return None

"""Swapping a restored MariaDB database in for the live one, keeping the live one's data.

MariaDB has no RENAME DATABASE. The tables move instead, in one statement:

    RENAME TABLE live.t1 TO prev.t1, ..., restored.t1 TO live.t1, ...

which MariaDB performs atomically (all of the renames or none, crash-safe since 10.6): the app
sees the old tables or the restored ones under their names, never a mix and never none.

What RENAME TABLE cannot move is done around it, on the same connection, right away:

- triggers: MariaDB refuses to move a table with triggers to another database (error 1435,
  "Trigger in wrong schema"). The triggers of both sides are dropped just before the rename and
  made again just after it, each on its own table in its new database. A write that reaches
  the live tables in between (the app's sessions were ended first, but a pool reconnects) runs
  without triggers: that is milliseconds, after an UPDATE, DELETE or INSERT that was waiting
  for the rename.
- views and stored routines (procedures, functions) belong to a database, not to tables. The
  live database keeps its own, now resolved against the restored tables by name, until each is
  replaced by the restored one with CREATE OR REPLACE (never absent); the ones the backup lacks
  are dropped there; the live ones are made again in the previous database, so it is whole and
  `restore --undo` can swap it back. Each is made again from the server's own SHOW CREATE text
  (views and routines) or catalog row (triggers), with its sql_mode and character set.
- events are refused at backup time (not built).

SIGINT and SIGTERM wait until the swap is done (they cannot stop it halfway); SIGKILL can, in
the milliseconds after the rename, leave triggers, views or routines not yet made again.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

from prodready.backup.mariadb import (
    MariaServer,
    charset_of,
    create_database,
    database_exists,
    execute,
    mq,
    query,
    reason,
)
from prodready.errors import InputError, UserError

if TYPE_CHECKING:
    import pymysql

LOCK_WAIT_S = 10
MOVABLE = ("BASE TABLE", "SYSTEM VERSIONED", "SEQUENCE")
ER_UNKNOWN_THREAD = 1094
ER_VIEW_NEEDS_ANOTHER = {1146, 1356}
"""A view over a table or view not made yet (no such table; view references invalid ...)."""


class SwapFailed(UserError):
    """The swap did not happen, or (`swapped`) the tables moved but not all the rest did."""

    def __init__(self, message: str, hint: str | None = None, swapped: bool = False) -> None:
        super().__init__(message, hint)
        self.swapped = swapped


@dataclass(frozen=True)
class Program:
    """A view, routine or trigger as the statement that makes it again in any database."""

    kind: str  # VIEW, PROCEDURE, FUNCTION, TRIGGER
    name: str
    create: str  # `CREATE ...`, its own name and its tables unqualified
    sql_mode: str | None
    collation: str | None  # collation_connection when it was made (its literals' collation)

    def make(self, conn: pymysql.Connection, db: str, replace: bool = False) -> None:
        """Made in `db` with its sql_mode and collation; the session's are put back after.
        The text goes over in utf8mb4, the connection's character set."""
        statement = self.create
        if replace and statement.startswith("CREATE "):
            statement = "CREATE OR REPLACE " + statement.removeprefix("CREATE ")
        execute(conn, f"USE {mq(db)}")
        mode, collation = query(conn, "SELECT @@sql_mode, @@collation_connection")[0]
        try:
            if self.sql_mode is not None:
                execute(conn, "SET SESSION sql_mode = %s", self.sql_mode)
            if self.collation is not None:
                execute(conn, "SET SESSION collation_connection = %s", self.collation)
            execute(conn, statement)
        finally:
            execute(conn, "SET SESSION sql_mode = %s, collation_connection = %s", mode, collation)

    def drop(self, conn: pymysql.Connection, db: str) -> None:
        execute(conn, f"DROP {self.kind} IF EXISTS {mq(db)}.{mq(self.name)}")


@dataclass(frozen=True)
class Contents:
    tables: list[str]
    routines: list[Program]
    views: list[Program]
    triggers: list[Program]


def swap_databases(server: MariaServer, live: str, incoming: str, previous: str) -> None:
    """`incoming`'s tables (and views, routines, triggers) become `live`'s; what `live` held
    goes to the new database `previous`. `incoming` is dropped once empty."""
    import pymysql

    with contextlib.closing(server.connect()) as conn:
        execute(conn, f"SET SESSION lock_wait_timeout = {LOCK_WAIT_S}")
        if not database_exists(conn, incoming):
            raise InputError(f"database {incoming} is gone: nothing to swap in", "run it again")
        if database_exists(conn, previous):
            raise InputError(f"database {previous} exists already", "wait a second and run again")
        had_live = database_exists(conn, live)
        new = _contents(conn, incoming)
        old = _contents(conn, live) if had_live else Contents([], [], [], [])
        made = previous if had_live else live
        create_database(conn, made, charset_of(conn, live if had_live else incoming))
        try:
            if had_live:
                _end_sessions(conn, live)
        except BaseException:
            execute(conn, f"DROP DATABASE IF EXISTS {mq(made)}")  # ours, still empty
            raise
        renames = [f"{mq(live)}.{mq(t)} TO {mq(previous)}.{mq(t)}" for t in old.tables]
        renames += [f"{mq(incoming)}.{mq(t)} TO {mq(live)}.{mq(t)}" for t in new.tables]
        with _signals_deferred():
            dropped: list[tuple[Program, str]] = []
            try:
                for db, triggers in ((live, old.triggers), (incoming, new.triggers)):
                    for trigger in triggers:
                        trigger.drop(conn, db)
                        dropped.append((trigger, db))
                if renames:
                    execute(conn, "RENAME TABLE " + ", ".join(renames))
            except pymysql.MySQLError as error:
                _put_back(conn, dropped, made, error)
            try:
                _finish(conn, live, incoming, previous, old, new, had_live)
            except pymysql.MySQLError as error:
                raise SwapFailed(
                    f"the tables were swapped, but making views, routines or triggers again "
                    f"failed: {reason(error)}",
                    f"compare {live} with {incoming} and {previous} and make what is missing",
                    swapped=True,
                ) from None


def _put_back(
    conn: pymysql.Connection,
    dropped: list[tuple[Program, str]],
    made: str,
    error: Exception,
) -> NoReturn:
    """The rename did not happen: the triggers dropped for it are made again, the database
    made for it is dropped (empty), and the swap fails."""
    import pymysql

    lost = []
    for trigger, db in dropped:
        try:
            trigger.make(conn, db)
        except pymysql.MySQLError:
            lost.append(f"{db}.{trigger.name}")
    execute(conn, f"DROP DATABASE IF EXISTS {mq(made)}")
    if lost:
        raise SwapFailed(
            f"the tables could not be swapped ({reason(error)}) and trigger {lost[0]} could "
            "not be made again",
            "make it again from the backup's dump (db.sql) or from `SHOW CREATE TRIGGER`",
        )
    raise SwapFailed(
        f"the tables could not be swapped (nothing changed): {reason(error)}",
        "a session kept a table of the live database busy; stop the app's long transactions "
        "(or the app) for a moment and run it again",
    )


def _finish(
    conn: pymysql.Connection,
    live: str,
    incoming: str,
    previous: str,
    old: Contents,
    new: Contents,
    had_live: bool,
) -> None:
    for trigger in new.triggers:
        trigger.make(conn, live)
    for trigger in old.triggers:
        trigger.make(conn, previous)
    for routine in new.routines:
        routine.make(conn, live, replace=True)
    _drop_missing(conn, live, old.routines, new.routines)
    for routine in old.routines:
        routine.make(conn, previous)
    _make_views(conn, live, new.views, replace=True)
    _drop_missing(conn, live, old.views, new.views)
    _make_views(conn, previous, old.views)
    if had_live:
        like = charset_of(conn, incoming)
        execute(
            conn,
            f"ALTER DATABASE {mq(live)} CHARACTER SET {like['charset']} "
            f"COLLATE {like['collation']}",
        )
    left = query(conn, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
                 "AND TABLE_TYPE <> 'VIEW'", incoming)  # fmt: skip
    if left[0][0] == 0:
        execute(conn, f"DROP DATABASE {mq(incoming)}")


def _drop_missing(
    conn: pymysql.Connection, db: str, old: list[Program], new: list[Program]
) -> None:
    kept = {(p.kind, p.name) for p in new}
    for program in old:
        if (program.kind, program.name) not in kept:
            program.drop(conn, db)


def _make_views(
    conn: pymysql.Connection, db: str, views: list[Program], replace: bool = False
) -> None:
    """Views over other views need those first: made in rounds until all are (or none more
    can be, then the last error is raised)."""
    import pymysql

    pending = list(views)
    while pending:
        failed: list[Program] = []
        last: pymysql.MySQLError | None = None
        for view in pending:
            try:
                view.make(conn, db, replace)
            except pymysql.MySQLError as error:
                if not error.args or error.args[0] not in ER_VIEW_NEEDS_ANOTHER:
                    raise
                failed.append(view)
                last = error
        if len(failed) == len(pending):
            assert last is not None
            raise last
        pending = failed


def _contents(conn: pymysql.Connection, db: str) -> Contents:
    tables = [
        str(row[0])
        for row in query(
            conn,
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
            "AND TABLE_TYPE IN %s ORDER BY TABLE_NAME",
            db,
            MOVABLE,
        )
    ]
    execute(conn, f"USE {mq(db)}")  # SHOW CREATE leaves out the current database's name
    routines = []
    for name, kind in query(
        conn,
        "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES "
        "WHERE ROUTINE_SCHEMA = %s ORDER BY ROUTINE_TYPE, ROUTINE_NAME",
        db,
    ):
        if kind not in ("PROCEDURE", "FUNCTION"):
            raise InputError(
                f"database {db} has a {kind} ({name}): swapping those is not built",
                "PROCEDUREs and FUNCTIONs are; drop it or restore by hand",
            )
        row = query(conn, f"SHOW CREATE {kind} {mq(name)}")[0]
        if row[2] is None:
            raise InputError(
                f"the user may not read {kind} {db}.{name}'s definition",
                "restore as its definer or as a user with SELECT on mysql.proc",
            )
        routines.append(Program(kind, str(name), str(row[2]), str(row[1]), str(row[4])))
    views = []
    for (name,) in query(
        conn,
        "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %s "
        "ORDER BY TABLE_NAME",
        db,
    ):
        row = query(conn, f"SHOW CREATE VIEW {mq(name)}")[0]
        views.append(Program("VIEW", str(name), str(row[1]), None, str(row[3])))
    triggers = []
    for row in query(
        conn,
        "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, "
        "ACTION_STATEMENT, DEFINER, SQL_MODE, CHARACTER_SET_CLIENT, COLLATION_CONNECTION "
        "FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s "
        "ORDER BY EVENT_OBJECT_TABLE, EVENT_MANIPULATION, ACTION_TIMING, ACTION_ORDER",
        db,
    ):
        name, table, timing, event, body, definer, mode, _, collation = row
        user, _, host = str(definer).rpartition("@")
        create = (
            f"CREATE DEFINER={mq(user)}@{mq(host)} TRIGGER {mq(name)} {timing} {event} "
            f"ON {mq(table)} FOR EACH ROW {body}"
        )
        triggers.append(Program("TRIGGER", str(name), create, str(mode), str(collation)))
    return Contents(tables, routines, views, triggers)


def _end_sessions(conn: pymysql.Connection, db: str) -> None:
    """Ends the sessions whose current database is `db` (those the user may see: its own, or
    all with the PROCESS privilege)."""
    import pymysql

    sessions = query(
        conn,
        "SELECT ID, USER FROM information_schema.PROCESSLIST WHERE DB = %s "
        "AND ID <> CONNECTION_ID()",
        db,
    )
    for session, user in sessions:
        try:
            execute(conn, f"KILL CONNECTION {int(session)}")
        except pymysql.MySQLError as error:
            if error.args and error.args[0] == ER_UNKNOWN_THREAD:
                continue  # gone meanwhile
            raise SwapFailed(
                f"cannot end session {session} of {user} on {db}: {reason(error)}",
                "restore as the app's user or as one with CONNECTION ADMIN; nothing was changed",
            ) from None


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM are held until the block ends (then delivered): a swap stopped
    halfway would leave live tables without their triggers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)

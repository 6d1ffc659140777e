"""One PostgreSQL server as the backup sees it: connections to its databases, the client tools
(pg_dump, pg_restore) with the connection passed through the environment (no password on a
command line), versions, row counts and database create / drop / rename."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from prodready.backup.tools import require_tool
from prodready.errors import InputError, ToolError

POSTGRES_URL = re.compile(r"^postgres(?:ql)?(?:\+\w+)?://", re.IGNORECASE)
DRIVER_SUFFIX = re.compile(r"^(postgres(?:ql)?)\+\w+://", re.IGNORECASE)
VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")
MAINTENANCE_DB = "postgres"
TABLES = """
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
ORDER BY 1, 2
"""
PASSED_AS_ENV = (
    "host", "hostaddr", "port", "user", "password", "passfile", "sslmode", "sslrootcert",
    "sslcert", "sslkey", "connect_timeout",
)  # fmt: skip
"""Connection parameters libpq also reads as `PG<NAME>` (PGHOST, PGPASSWORD, ...)."""


@dataclass(frozen=True)
class PgServer:
    """The server of a database URL; `dbname` is the database the URL names."""

    params: dict[str, str]
    dbname: str

    @classmethod
    def from_url(cls, url: str) -> PgServer:
        cleaned = DRIVER_SUFFIX.sub(r"\1://", url.strip())
        try:
            params = {k: str(v) for k, v in conninfo_to_dict(cleaned).items() if v is not None}
        except psycopg.ProgrammingError as error:
            raise InputError(
                f"not a PostgreSQL URL: {error}".splitlines()[0],
                "e.g. postgresql://user:password@127.0.0.1:5432/app",
            ) from None
        dbname = params.pop("dbname", None) or params.get("user") or os.environ.get("PGDATABASE")
        if not dbname:
            raise InputError("the database URL names no database", "end it with /DBNAME")
        return cls(params, dbname)

    def describe(self, dbname: str | None = None) -> str:
        """host:port/db without the password, for messages and the manifest."""
        host = self.params.get("host", "localhost")
        return f"{host}:{self.params.get('port', '5432')}/{dbname or self.dbname}"

    def conninfo(self, dbname: str | None = None) -> str:
        return make_conninfo(**self.params, dbname=dbname or self.dbname)

    def connect(self, dbname: str | None = None, autocommit: bool = True) -> psycopg.Connection:
        try:
            return psycopg.connect(self.conninfo(dbname), autocommit=autocommit, connect_timeout=10)
        except psycopg.OperationalError as error:
            first = str(error).strip().splitlines()[-1] if str(error).strip() else "refused"
            raise InputError(
                f"cannot connect to PostgreSQL at {self.describe(dbname)}: {first}",
                "check the URL (--database), that the server runs and that the user may log in",
            ) from None

    def tool_env(self, dbname: str | None = None) -> dict[str, str]:
        """The environment a client tool connects with: the password never goes on argv."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        for key, value in self.params.items():
            if key in PASSED_AS_ENV:
                env[f"PG{key.upper()}"] = value
        env["PGDATABASE"] = dbname or self.dbname
        return env

    def server_major(self) -> int:
        with self.connect() as conn:
            return conn.info.server_version // 10000

    def exists(self, dbname: str) -> bool:
        with self.connect(MAINTENANCE_DB) as conn:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
            return row.fetchone() is not None

    def create(self, dbname: str, like: dict[str, str]) -> None:
        """A new empty database from template0 with the source's encoding and locale."""
        query = sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(dbname))
        if like.get("encoding"):
            query += sql.SQL(" ENCODING {} LC_COLLATE {} LC_CTYPE {}").format(
                sql.Literal(like["encoding"]),
                sql.Literal(like["collate"]),
                sql.Literal(like["ctype"]),
            )
        with self.connect(MAINTENANCE_DB) as conn:
            conn.execute(query)

    def drop(self, dbname: str) -> None:
        """Drops a database prodready created itself (scratch or failed restore), if it exists."""
        with self.connect(MAINTENANCE_DB) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
            )

    def locale_of(self, conn: psycopg.Connection) -> dict[str, str]:
        row = conn.execute(
            "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database "
            "WHERE datname = current_database()"
        ).fetchone()
        assert row is not None
        return {"encoding": row[0], "collate": row[1], "ctype": row[2]}


def row_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Rows of every ordinary table, `schema.table` → count, in the connection's snapshot."""
    counts: dict[str, int] = {}
    for schema, table in conn.execute(TABLES).fetchall():
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(
            sql.Identifier(schema), sql.Identifier(table)
        )
        row = conn.execute(query).fetchone()
        counts[f"{schema}.{table}"] = int(row[0]) if row else 0
    return counts


INSERTED = """
SELECT s.schemaname, s.relname, s.n_tup_ins - s.n_tup_del FROM pg_stat_user_tables s
JOIN pg_class c ON c.oid = s.relid WHERE c.relkind = 'r'
"""


def inserted_counts(conn: psycopg.Connection) -> dict[str, int] | None:
    """Rows each table received, from PostgreSQL's own counters (pg_stat_user_tables), or None
    when counting is off. In a database that only a finished restore wrote to, they equal the
    rows: a cheap first look, since the first count(*) after a bulk load rewrites every page
    (hint bits). A mismatch is never trusted: the caller counts for real."""
    row = conn.execute("SELECT current_setting('track_counts')::bool").fetchone()
    if not row or not row[0]:
        return None
    return {f"{schema}.{table}": int(n) for schema, table, n in conn.execute(INSERTED).fetchall()}


@contextmanager
def snapshot(server: PgServer) -> Iterator[tuple[psycopg.Connection, str]]:
    """A REPEATABLE READ transaction and its exported snapshot id; the snapshot stays usable by
    `pg_dump --snapshot` as long as this block runs."""
    conn = server.connect(autocommit=False)
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        yield conn, str(row[0])
    finally:
        conn.rollback()
        conn.close()


def find_tool(name: str) -> str:
    hint = "install the PostgreSQL client tools of the server's version (postgresql-client)"
    return require_tool((name,), hint)


def client_major(tool: str) -> int:
    """The major version a client tool reports (`pg_dump (PostgreSQL) 15.20`)."""
    try:
        done = subprocess.run(
            [tool, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as error:
        raise ToolError(f"cannot run {tool}: {error.strerror}", "reinstall the client") from None
    except subprocess.TimeoutExpired:
        raise ToolError(
            f"{tool} --version did not answer within 30 s", "reinstall the PostgreSQL client tools"
        ) from None
    match = VERSION.search(done.stdout)
    if done.returncode != 0 or not match:
        raise ToolError(
            f"{tool} --version gave no PostgreSQL version (exit {done.returncode})",
            "reinstall the PostgreSQL client tools",
        )
    return int(match[1])


def check_clients(tools: Sequence[str], server: PgServer) -> dict[str, int]:
    """Each tool's major version; refuses a client older than the server:
    an old pg_dump can write a dump that lacks what the newer server has (or an empty one),
    found out only at restore time. The tools' `--version` runs (through Debian's Perl
    pg_wrapper, 30 ms each) overlap each other and the server's query."""
    with ThreadPoolExecutor(len(tools)) as pool:
        asked = [pool.submit(client_major, tool) for tool in tools]
        server_major = server.server_major()
        majors = [future.result() for future in asked]
    for tool, major in zip(tools, majors, strict=True):
        if major < server_major:
            name = os.path.basename(tool)
            raise ToolError(
                f"{name} {major} ({tool}) is older than the PostgreSQL {server_major} server",
                f"install postgresql-client-{server_major} and put its {name} first on PATH",
            )
    return dict(zip(tools, majors, strict=True))

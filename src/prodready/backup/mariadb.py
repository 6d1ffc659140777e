"""One MariaDB/MySQL server as the backup sees it: the URL, connections (PyMySQL), the client
tools (mariadb-dump, mariadb) with the connection handed over in a temporary option file (the
password never goes on a command line), versions, database create / drop, row counts and the
table of contents of a database as its catalog lists it."""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from prodready.backup.tools import require_tool
from prodready.errors import InputError

if TYPE_CHECKING:
    import pymysql

MARIADB_URL = re.compile(r"^(?:mysql|mariadb)(?:\+\w+)?://", re.IGNORECASE)
"""mysql://, mariadb://, and SQLAlchemy's mysql+pymysql://, mysql+mysqldb://,
mariadb+mariadbconnector://, ..."""
DEFAULT_PORT = 3306
SOCKETS = (
    "/run/mysqld/mysqld.sock",
    "/var/run/mysqld/mysqld.sock",
    "/var/lib/mysql/mysql.sock",
    "/tmp/mysql.sock",
)
"""Where the client looks for the server's socket when the host is localhost (Debian first)."""
CONNECT_TIMEOUT_S = 10
CLIENT_ENV = ("MYSQL_PWD", "MYSQL_HOST", "MYSQL_TCP_PORT", "MYSQL_UNIX_PORT", "MYSQL_HISTFILE")
"""Environment the client tools would read instead of the URL: dropped."""
TABLE_TYPES = ("BASE TABLE", "SYSTEM VERSIONED")
SAFE_WORD = re.compile(r"^\w+$")


def mq(name: str) -> str:
    """A MariaDB identifier, quoted."""
    return "`" + name.replace("`", "``") + "`"


def _option(value: str) -> str:
    """A value for an option file: quoted and escaped, so `#`, spaces, quotes, backslashes and
    line breaks survive."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped + '"'


@dataclass(frozen=True)
class MariaServer:
    """The server of a database URL; `dbname` is the database the URL names. `socket` is set
    when the client goes through the Unix socket (host localhost, as the mariadb client does)."""

    host: str
    port: int
    user: str
    dbname: str
    password: str = field(default="", repr=False)
    socket: str | None = None
    ssl: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_url(cls, url: str) -> MariaServer:
        try:
            parts = urlsplit(url.strip())
            port = parts.port or DEFAULT_PORT
        except ValueError as error:
            raise InputError(
                f"not a MariaDB/MySQL URL: {error}",
                "e.g. mysql://user:password@127.0.0.1:3306/app",
            ) from None
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname or "/" in dbname:
            raise InputError("the database URL names no database", "end it with /DBNAME")
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        host = parts.hostname or "localhost"
        socket = query.get("unix_socket") or query.get("socket")
        if socket is None and host == "localhost":
            socket = next((path for path in SOCKETS if os.path.exists(path)), None)
        ssl = {k: query[k] for k in ("ssl_ca", "ssl_cert", "ssl_key") if query.get(k)}
        return cls(
            host=host,
            port=port,
            user=unquote(parts.username) if parts.username else getpass.getuser(),
            dbname=dbname,
            password=unquote(parts.password or ""),
            socket=socket,
            ssl=ssl,
        )

    def describe(self, dbname: str | None = None) -> str:
        """host:port/db (localhost/db through the socket), without the password."""
        where = "localhost" if self.socket else f"{self.host}:{self.port}"
        return f"{where}/{dbname or self.dbname}"

    def connect(self, dbname: str | None = None) -> pymysql.Connection:
        """An autocommit connection in utf8mb4; `dbname` None connects to no database."""
        import pymysql

        options: dict[str, Any] = {
            "user": self.user,
            "password": self.password,
            "database": dbname,
            "charset": "utf8mb4",
            "autocommit": True,
            "connect_timeout": CONNECT_TIMEOUT_S,
        }
        if self.socket:
            options["unix_socket"] = self.socket
        else:
            options.update(host=self.host, port=self.port)
        if self.ssl:
            options["ssl"] = {key.removeprefix("ssl_"): value for key, value in self.ssl.items()}
        try:
            return pymysql.connect(**options)
        except pymysql.MySQLError as error:
            raise InputError(
                f"cannot connect to MariaDB at {self.describe(dbname or '')}: {reason(error)}",
                "check the URL (--database), that the server runs and that the user may log in",
            ) from None

    @contextlib.contextmanager
    def option_file(self) -> Iterator[Path]:
        """A `[client]` option file (mode 0600, in a private temporary folder, removed on the
        way out) for `--defaults-file`: the URL is the whole truth, no my.cnf is read, and the
        password is on no command line and in no environment."""
        lines = ["[client]", f"user={_option(self.user)}"]
        if self.password:
            lines.append(f"password={_option(self.password)}")
        if self.socket:
            lines += ["protocol=SOCKET", f"socket={_option(self.socket)}"]
        else:
            lines += ["protocol=TCP", f"host={_option(self.host)}", f"port={self.port}"]
        lines += [f"{key.replace('_', '-')}={_option(value)}" for key, value in self.ssl.items()]
        lines.append("default-character-set=utf8mb4")
        with tempfile.TemporaryDirectory(prefix="prodready-my-") as folder:
            path = Path(folder) / "client.cnf"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write("\n".join(lines) + "\n")
            yield path

    def tool_env(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if k not in CLIENT_ENV}

    def exists(self, dbname: str) -> bool:
        with contextlib.closing(self.connect()) as conn:
            return database_exists(conn, dbname)

    def drop(self, dbname: str) -> None:
        """Drops a database prodready created itself (scratch or failed restore), if it exists."""
        with contextlib.closing(self.connect()) as conn:
            execute(conn, f"DROP DATABASE IF EXISTS {mq(dbname)}")


def database_exists(conn: pymysql.Connection, dbname: str) -> bool:
    return bool(
        query(conn, "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", dbname)
    )


def create_database(conn: pymysql.Connection, dbname: str, like: dict[str, str]) -> None:
    """A new empty database with the default character set and collation of `like`."""
    charset, collation = like.get("charset", ""), like.get("collation", "")
    extra = ""
    if SAFE_WORD.match(charset) and SAFE_WORD.match(collation):
        extra = f" CHARACTER SET {charset} COLLATE {collation}"
    execute(conn, f"CREATE DATABASE {mq(dbname)}{extra}")


def reason(error: Exception) -> str:
    """PyMySQL's (code, message) as one line."""
    args = getattr(error, "args", ())
    if len(args) >= 2 and isinstance(args[0], int):
        return f"{args[1]} ({args[0]})".splitlines()[0]
    return (str(error) or type(error).__name__).splitlines()[0]


def execute(conn: pymysql.Connection, sql: str, *params: Any) -> None:
    with conn.cursor() as cur:
        cur.execute(sql, params or None)


def query(conn: pymysql.Connection, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql, params or None)
        return list(cur.fetchall())


def charset_of(conn: pymysql.Connection, dbname: str) -> dict[str, str]:
    rows = query(
        conn,
        "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME "
        "FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
        dbname,
    )
    return {"charset": rows[0][0], "collation": rows[0][1]} if rows else {}


def tables_of(conn: pymysql.Connection, dbname: str) -> list[tuple[str, str]]:
    """(name, engine) of every table that holds rows (sequences and views do not)."""
    rows = query(
        conn,
        "SELECT TABLE_NAME, COALESCE(ENGINE, '') FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE IN %s ORDER BY TABLE_NAME",
        dbname,
        TABLE_TYPES,
    )
    return [(str(name), str(engine)) for name, engine in rows]


def row_counts(conn: pymysql.Connection, dbname: str, tables: list[str]) -> dict[str, int]:
    """count(*) of each table, in the connection's transaction (its snapshot, when it has one)."""
    counts = {}
    for table in tables:
        rows = query(conn, f"SELECT COUNT(*) FROM {mq(dbname)}.{mq(table)}")
        counts[table] = int(rows[0][0])
    return counts


def catalog_toc(conn: pymysql.Connection, dbname: str) -> list[str]:
    """The database's objects as `KIND name` lines, sorted: the same lines `read_dump` finds in
    a dump of it (TABLE, SEQUENCE, VIEW, TRIGGER, PROCEDURE, FUNCTION, and whatever other
    routine type the server has, which a dump then lacks)."""
    kinds = {"BASE TABLE": "TABLE", "SYSTEM VERSIONED": "TABLE", "VIEW": "VIEW"}
    entries = []
    for name, kind in query(
        conn,
        "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
        dbname,
    ):
        entries.append(f"{kinds.get(kind, kind)} {name}")
    for (name,) in query(
        conn,
        "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s",
        dbname,
    ):
        entries.append(f"TRIGGER {name}")
    for name, kind in query(
        conn,
        "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES "
        "WHERE ROUTINE_SCHEMA = %s",
        dbname,
    ):
        entries.append(f"{kind} {name}")
    return sorted(entries)


def events_of(conn: pymysql.Connection, dbname: str) -> list[str]:
    return [
        str(row[0])
        for row in query(
            conn,
            "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %s",
            dbname,
        )
    ]


def server_version(conn: pymysql.Connection) -> str:
    return str(query(conn, "SELECT VERSION()")[0][0])


@dataclass(frozen=True)
class ClientTools:
    dump: str
    client: str

    @classmethod
    def find(cls) -> ClientTools:
        return cls(find_tool("mariadb-dump", "mysqldump"), find_tool("mariadb", "mysql"))


def find_tool(*names: str) -> str:
    return require_tool(names, "install the MariaDB client tools (Debian: mariadb-client)")

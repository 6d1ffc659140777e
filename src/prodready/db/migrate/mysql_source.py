"""A MariaDB/MySQL source: one read-only connection holding a consistent snapshot (so every
batch and the verification see the same data), in a UTC session (TIMESTAMP values come back
in UTC) and utf8mb4 (every character, emoji included). Batches are keyed by an integer primary
key when the table has one, else by the row's position in primary-key (or all-column) order."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import sqlalchemy

from prodready.errors import InputError, UsageError

if TYPE_CHECKING:
    import pymysql

    from prodready.db.migrate.plan import TablePlan

SCHEMES = ("mysql", "mariadb")
CONNECT_TIMEOUT_S = 5
ACCESS_DENIED = {1044, 1045, 1698}
"""To the database; wrong password; a user without one that needs one."""
UNKNOWN_DATABASE = 1049
INTEGER_KEYS = {"smallint", "integer", "bigint"}


def is_mysql_url(url: str) -> bool:
    scheme, sep, _ = url.partition("://")
    return bool(sep) and scheme.split("+")[0] in SCHEMES


def mq(name: str) -> str:
    """A MySQL identifier, quoted."""
    return "`" + name.replace("`", "``") + "`"


@dataclass(frozen=True)
class MysqlAddress:
    host: str
    port: int
    user: str
    password: str
    database: str
    unix_socket: str | None

    @property
    def shown(self) -> str:
        return f"mysql://{self.user}@{self.host}:{self.port}/{self.database}"

    def sqlalchemy_url(self) -> sqlalchemy.URL:
        query = {"charset": "utf8mb4"}
        if self.unix_socket:
            query["unix_socket"] = self.unix_socket
        return sqlalchemy.URL.create(
            "mysql+pymysql",
            username=self.user,
            password=self.password or None,
            host=self.host,
            port=self.port,
            database=self.database,
            query=query,
        )


def parse_url(url: str) -> MysqlAddress:
    parts = urlsplit(url)
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise UsageError(
            f"no database in the source URL {url.split('@')[-1]}",
            "write mysql://user:password@host:3306/dbname",
        )
    socket = parse_qs(parts.query).get("unix_socket", [None])[0]
    return MysqlAddress(
        host=parts.hostname or "localhost",
        port=parts.port or 3306,
        user=unquote(parts.username or "root"),
        password=unquote(parts.password or ""),
        database=database,
        unix_socket=socket,
    )


class MysqlSource:
    def __init__(self, url: str) -> None:
        self.address = parse_url(url)
        self.conn = _connect(self.address)

    def close(self) -> None:
        self.conn.close()

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    def batches(
        self, table: TablePlan, after: int | None, size: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Rows as (key, *columns), `size` at a time; `after` None starts at the beginning."""
        columns = ", ".join(mq(c) for c in table.column_names)
        key = integer_key(table)
        if key is not None:
            yield from self._by_key(table.name, key, columns, after, size)
        else:
            yield from self._by_position(table, columns, after or 0, size)

    def _by_key(
        self, table: str, key: str, columns: str, after: int | None, size: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        while True:
            where = "" if after is None else f"WHERE {mq(key)} > %s "
            rows = self.query(
                f"SELECT {mq(key)}, {columns} FROM {mq(table)} {where}ORDER BY {mq(key)} LIMIT %s",
                (size,) if after is None else (after, size),
            )
            if not rows:
                return
            yield rows
            after = rows[-1][0]

    def _by_position(
        self, table: TablePlan, columns: str, after: int, size: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        """OFFSET in a fixed order over the snapshot: slower than a key, but any table works."""
        order = ", ".join(mq(c) for c in (table.primary_key or table.column_names))
        while True:
            rows = self.query(
                f"SELECT {columns} FROM {mq(table.name)} ORDER BY {order} LIMIT %s OFFSET %s",
                (size, after),
            )
            if not rows:
                return
            yield [(after + i + 1, *row) for i, row in enumerate(rows)]
            after += len(rows)


def integer_key(table: TablePlan) -> str | None:
    """The single integer primary key column batches can be keyed by, if there is one."""
    if len(table.primary_key) != 1:
        return None
    name = table.primary_key[0]
    column = next(c for c in table.columns if c.name == name)
    return name if column.target_type in INTEGER_KEYS else None


def _connect(address: MysqlAddress) -> pymysql.Connection:
    import pymysql  # here: a SQLite migration does not pay for importing it

    try:
        conn = pymysql.connect(
            host=address.host,
            port=address.port,
            user=address.user,
            password=address.password,
            database=address.database,
            unix_socket=address.unix_socket,
            charset="utf8mb4",
            connect_timeout=CONNECT_TIMEOUT_S,
            autocommit=True,
        )
    except pymysql.err.OperationalError as error:
        code, text = (*error.args, "", "")[:2]
        first = str(text).splitlines()[0] if text else "no answer"
        if code in ACCESS_DENIED:
            raise InputError(
                f"MariaDB/MySQL at {address.shown} refused the credentials: {first}",
                "check the user and password in the source URL",
            ) from None
        if code == UNKNOWN_DATABASE:
            raise InputError(
                f"MariaDB/MySQL at {address.shown}: {first}",
                "check the database name in the source URL (SHOW DATABASES)",
            ) from None
        raise InputError(
            f"cannot reach MariaDB/MySQL at {address.shown}: {first}",
            "check the host and port, and that the server is running",
        ) from None
    with conn.cursor() as cur:
        cur.execute("SET time_zone = '+00:00'")
        cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cur.execute("SET SESSION TRANSACTION READ ONLY")
        cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
    return conn


Source = sqlite3.Connection | MysqlSource
"""A migration's source: a SQLite file's read-only connection, or a MariaDB/MySQL snapshot."""

"""Opening the two ends of a migration, turning every way they fail into one clear line."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg

from prodready.db.migrate.mysql_source import MysqlSource, Source, is_mysql_url
from prodready.errors import InputError, UsageError

SQLITE_BUSY_TIMEOUT_S = 2.0


def sqlite_path(url: str) -> Path:
    """The file of `sqlite:///relative.db`, `sqlite:////abs/file.db` or a plain path."""
    if url.startswith("sqlite"):
        scheme, _, rest = url.partition("://")
        if not rest.startswith("/") or not scheme.split("+")[0] == "sqlite":
            raise UsageError(
                f"not a SQLite URL: {url}", "write sqlite:///app.db or sqlite:////abs/path/app.db"
            )
        return Path(unquote(rest[1:]))
    if "://" in url:
        kind = url.split("://", 1)[0]
        raise UsageError(
            f"source {kind}:// is not supported yet",
            "the source is a SQLite file (sqlite:///db.sqlite3 or a path) or "
            "mysql://user:password@host/dbname",
        )
    return Path(url)


def open_source(url: str) -> Source:
    """A MariaDB/MySQL snapshot for mysql:// and mariadb:// URLs, else a SQLite file."""
    return MysqlSource(url) if is_mysql_url(url) else open_sqlite(url)


def open_sqlite(url: str) -> sqlite3.Connection:
    """A read-only connection holding one read transaction, so every batch and the
    verification see the same snapshot."""
    path = sqlite_path(url)
    if not path.is_file():
        raise InputError(f"no SQLite file at {path}", "give the path of the app's database file")
    uri = f"file:{path.resolve()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT_S)
        conn.execute("BEGIN")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as error:
        if "locked" in str(error):
            raise InputError(
                f"{path} is locked by another process",
                "stop the app (or its migration) writing to it, then run again",
            ) from None
        raise InputError(f"cannot read {path}: {error}", "check the file's permissions") from None
    except sqlite3.DatabaseError as error:
        raise InputError(
            f"{path} is not a readable SQLite database ({error})",
            "check that this is the app's database file; `sqlite3 FILE 'PRAGMA integrity_check'`",
        ) from None
    return conn


def postgres_url(url: str) -> str:
    """The libpq form of a PostgreSQL URL (SQLAlchemy's `postgresql+psycopg://` accepted)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+")[0] not in ("postgresql", "postgres"):
        raise UsageError(
            f"the target is not a PostgreSQL URL: {url}",
            "write postgresql://user:password@host:5432/dbname",
        )
    return f"postgresql://{rest}"


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or "local socket"
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


def connect_postgres(url: str) -> psycopg.Connection:
    """A connection to the target in UTC, or an InputError that says what is wrong."""
    dsn = postgres_url(url)
    try:
        conn = psycopg.connect(dsn, connect_timeout=5, autocommit=False)
    except psycopg.OperationalError as error:
        text = str(error).strip().splitlines()[0] if str(error).strip() else "no answer"
        shown = describe(dsn)
        if "authentication" in text or ("role" in text and "does not exist" in text):
            raise InputError(
                f"PostgreSQL at {shown} refused the credentials: {text}",
                "check the user and password in the target URL",
            ) from None
        if "does not exist" in text:
            raise InputError(
                f"PostgreSQL at {shown}: {text}",
                "create the database first: createdb NAME (or the app's own migrations)",
            ) from None
        raise InputError(
            f"cannot reach PostgreSQL at {shown}: {text}",
            "check the host and port, and that the server is running",
        ) from None
    conn.execute("SET TIME ZONE 'UTC'")
    conn.commit()
    return conn

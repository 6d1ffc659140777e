"""The real services the tests use (PostgreSQL and MariaDB here; the others by name): a missing
one skips a test on a developer's machine and fails it in CI (CI=true), where it must be there."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

PG = os.environ.get("PRODREADY_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
MARIADB = os.environ.get("PRODREADY_TEST_MARIADB", "mysql://root@127.0.0.1:3306")
"""An administrator of the local MariaDB (scripts/ensure-services.sh makes root@127.0.0.1)."""


def missing(name: str, error: object) -> None:
    """Skips the test, or fails it under CI=true."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is required under CI=true: {error}")
    pytest.skip(f"no {name}: {error}")


def pg_admin():  # type: ignore[no-untyped-def]  # psycopg is imported only where it is installed
    import psycopg

    return psycopg.connect(f"{PG}/postgres", autocommit=True, connect_timeout=5)


@contextmanager
def scratch_database(prefix: str) -> Iterator[tuple[str, str]]:
    """(name, url) of a new empty PostgreSQL database with a unique name, dropped after (with
    any connection still open to it)."""
    import psycopg

    try:
        pg_admin().close()
    except psycopg.OperationalError as error:
        missing(f"PostgreSQL at {PG}", error)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name, f"{PG}/{name}"
    finally:
        with pg_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def maria_admin():  # type: ignore[no-untyped-def]  # pymysql is imported only where it is installed
    """An autocommit connection to MariaDB as its administrator; a missing server skips the test
    (fails it under CI=true)."""
    from urllib.parse import unquote, urlsplit

    import pymysql

    parts = urlsplit(MARIADB)
    try:
        return pymysql.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=unquote(parts.username or "root"),
            password=unquote(parts.password or ""),
            charset="utf8mb4",
            autocommit=True,
            connect_timeout=5,
        )
    except pymysql.err.OperationalError as error:
        missing(f"MariaDB at {MARIADB}", error)
        raise

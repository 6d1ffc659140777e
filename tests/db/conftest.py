"""Real PostgreSQL scratch databases (unique names, dropped after) and real SQLite files with
the data that trips migrations: booleans as 0/1, ISO and epoch timestamps, JSON text,
decimals, foreign keys, an empty AUTOINCREMENT table, SQLite default expressions."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.services import missing, pg_admin, scratch_database

psycopg = pytest.importorskip("psycopg")
pymysql = pytest.importorskip("pymysql")

SHOP_ROWS = 300


admin = pg_admin


@dataclass
class Target:
    name: str
    url: str

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("SET TIME ZONE 'UTC'")
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def tables(self) -> set[str]:
        rows = self.sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        return {r[0] for r in rows}

    def column_types(self, table: str) -> dict[str, str]:
        rows = self.sql(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s",
            (table,),
        )
        return dict(rows)


@pytest.fixture
def target() -> Iterator[Target]:
    """An empty scratch database."""
    with scratch_database("dbm") as (name, url):
        yield Target(name, url)


SHOP_SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email VARCHAR(120) NOT NULL UNIQUE,
    is_active INTEGER NOT NULL DEFAULT 1,
    has_newsletter INTEGER,
    signed_up_at TEXT NOT NULL,
    created DATETIME DEFAULT (datetime('now'))
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    total DECIMAL(10, 2) NOT NULL,
    paid BOOLEAN NOT NULL DEFAULT 0,
    placed_at INTEGER NOT NULL,
    shipped_at INTEGER,
    details JSON,
    note TEXT
);
CREATE INDEX orders_placed ON orders (placed_at);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message TEXT NOT NULL
);
"""
EPOCH_2024 = 1_704_067_200  # 2024-01-01T00:00:00Z


def make_shop(path: Path, rows: int = SHOP_ROWS) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(SHOP_SCHEMA)
    conn.executemany(
        "INSERT INTO customers (email, is_active, has_newsletter, signed_up_at, created) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            (
                f"c{i}@example.com",
                i % 3 != 0,
                None if i % 5 == 0 else i % 2,
                f"2024-02-{1 + i % 28:02d} 10:{i % 60:02d}:00+02:00",
                f"2024-03-01 12:00:{i % 60:02d}.{i:06d}",
            )
            for i in range(rows)
        ],
    )
    conn.executemany(
        "INSERT INTO orders (customer_id, total, paid, placed_at, shipped_at, details, note) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                1 + i % rows,
                f"{i}.{i % 100:02d}",
                i % 2,
                EPOCH_2024 + i * 3600,
                None if i % 4 == 0 else (EPOCH_2024 + i * 3600 + 86_400) * 1000,
                json.dumps({"items": [i, i + 1], "gift": i % 7 == 0, "name": f"ö{i}"}),
                "" if i % 9 == 0 else f"note {i}",
            )
            for i in range(rows * 2)
        ],
    )
    conn.commit()
    conn.close()
    return path


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return make_shop(tmp_path / "shop.db")


MARIADB = os.environ.get("PRODREADY_TEST_MARIADB", "mysql://root@127.0.0.1:3306")


@dataclass
class MariaSource:
    name: str
    url: str

    def run(self, *statements: str) -> list[tuple]:
        """Statements in a session with sql_mode '' (so zero dates can be written, as old
        apps did); the last one's rows."""
        conn = _maria(self.name)
        try:
            with conn.cursor() as cur:
                cur.execute("SET sql_mode = ''")
                for statement in statements:
                    cur.execute(statement)
                return list(cur.fetchall())
        finally:
            conn.close()


def _maria(database: str | None = None) -> pymysql.Connection:
    parts = urlsplit(MARIADB)
    return pymysql.connect(
        host=parts.hostname,
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
        database=database,
        charset="utf8mb4",
        autocommit=True,
        connect_timeout=5,
    )


@pytest.fixture
def mariadb() -> Iterator[MariaSource]:
    """An empty scratch MariaDB database with a unique name, dropped after."""
    try:
        _maria().close()
    except pymysql.err.OperationalError as error:
        missing(f"MariaDB at {MARIADB}", error)
    name = f"dbm_{uuid.uuid4().hex[:10]}"
    admin_conn = _maria()
    try:
        with admin_conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        yield MariaSource(name, f"{MARIADB}/{name}")
    finally:
        with admin_conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin_conn.close()

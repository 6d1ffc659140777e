"""Real PostgreSQL for the backup tests: each test gets its own database (and drops it, with
every scratch, restored and previous copy prodready made of it, afterwards)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.services import PG, pg_admin, scratch_database

psycopg = pytest.importorskip("psycopg")

admin = pg_admin


@dataclass
class Db:
    name: str
    url: str
    dest: Path

    def sql(self, query: str, dbname: str | None = None) -> list[tuple]:
        with psycopg.connect(f"{PG}/{dbname or self.name}", autocommit=True) as conn:
            cur = conn.execute(query)
            return cur.fetchall() if cur.description else []

    def count(self, table: str = "items", dbname: str | None = None) -> int:
        return self.sql(f"SELECT count(*) FROM {table}", dbname)[0][0]

    def databases(self) -> set[str]:
        rows = self.sql(
            f"SELECT datname FROM pg_database WHERE datname LIKE '{self.name}%'", "postgres"
        )
        return {row[0] for row in rows}

    def args(self) -> list[str]:
        return ["--database", self.url, "--dest", str(self.dest), "--dir", str(self.dest.parent)]

    def states(self) -> dict[str, str]:
        from prodready.backup.store import Store

        return {e.id: e.state for e in Store(self.dest).entries()}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Db]:
    """A fresh database with two tables: items (ROWS rows) and notes (3 rows)."""
    with scratch_database("bk") as (name, url):
        app = tmp_path / "app"
        app.mkdir()
        made = Db(name, url, app / "backups")
        made.sql(
            "CREATE TABLE items (id serial PRIMARY KEY, body text);"
            "INSERT INTO items (body) SELECT md5(g::text) FROM generate_series(1, 2000) g;"
            "CREATE TABLE notes (n int); INSERT INTO notes VALUES (1), (2), (3);"
        )
        try:
            yield made
        finally:  # the scratch, restored and previous copies prodready made of it
            with admin() as conn:
                for other in made.databases() - {name}:
                    conn.execute(f'DROP DATABASE IF EXISTS "{other}" WITH (FORCE)')


def backup_ok(prodready, db: Db, *extra: str) -> dict:
    done = prodready("backup", "--json", *db.args(), *extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)

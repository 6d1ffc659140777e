"""`prodready db migrate mysql://… postgresql://…` from a real MariaDB scratch database into a
real PostgreSQL one: type mapping, values, identity sequences, zero dates, resume, bad input."""

from __future__ import annotations

import json
import socket
import subprocess
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from tests.db.conftest import MariaSource, Target

ROWS = 120
SCHEMA = [
    """CREATE TABLE authors (
      id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
      name VARCHAR(80) NOT NULL,
      is_active TINYINT(1) NOT NULL DEFAULT 1,
      rating TINYINT(1),
      born DATE,
      changed TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
      UNIQUE KEY name_unique (name)
    ) ENGINE=InnoDB""",
    """CREATE TABLE books (
      id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
      author_id INT UNSIGNED NOT NULL,
      title VARCHAR(200) NOT NULL,
      price DECIMAL(10,2) NOT NULL DEFAULT '0.00',
      status ENUM('draft','published') NOT NULL DEFAULT 'draft',
      meta JSON,
      cover BLOB,
      duration TIME,
      created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
      updated_at TIMESTAMP NULL DEFAULT NULL,
      KEY author (author_id),
      CONSTRAINT books_author FOREIGN KEY (author_id) REFERENCES authors(id)
    ) ENGINE=InnoDB""",
    """CREATE TABLE book_tags (
      book_id BIGINT UNSIGNED NOT NULL, tag VARCHAR(40) NOT NULL, PRIMARY KEY (book_id, tag)
    ) ENGINE=InnoDB""",
    "CREATE TABLE counters (id INT PRIMARY KEY, hits BIGINT UNSIGNED) ENGINE=InnoDB",
]


def fill(source: MariaSource, rows: int = ROWS) -> None:
    authors = ", ".join(
        f"('Author {i} 🚀', {i % 2}, {i % 4}, '19{50 + i % 50}-0{1 + i % 9}-1{i % 10}')"
        for i in range(rows)
    )
    books = ", ".join(
        f"({1 + i % rows}, 'Tïtle {i}', {i}.{i % 100:02d}, "
        f"'{'published' if i % 3 else 'draft'}', "
        f"{'NULL' if i % 5 == 0 else repr(json.dumps({'n': i, 'tags': ['a', 'ö']}))}, "
        f"X'00{i % 256:02x}ff', '{-i if i % 2 else i}:15:30', "
        f"'2024-03-01 12:00:{i % 60:02d}.{i:06d}', '2024-05-01 10:00:{i % 60:02d}')"
        for i in range(2 * rows)
    )
    source.run(
        *SCHEMA,
        f"INSERT INTO authors (name, is_active, rating, born) VALUES {authors}",
        "INSERT INTO books (author_id, title, price, status, meta, cover, duration, "
        f"created_at, updated_at) VALUES {books}",
        "INSERT INTO book_tags VALUES "
        + ", ".join(f"({1 + i // 3}, 'tag{i % 3}')" for i in range(3 * rows)),
        "INSERT INTO counters VALUES (1, 18446744073709551615), (2, 0), (3, NULL)",
    )


def migrate(
    prodready, source: MariaSource, target: Target, *args: str
) -> subprocess.CompletedProcess[str]:
    return prodready("db", "migrate", *args, source.url, target.url)


def test_plan_maps_mysql_types_and_changes_nothing(
    prodready, mariadb: MariaSource, target: Target
) -> None:
    fill(mariadb)
    done = migrate(prodready, mariadb, target, "--plan")
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.startswith("  ")}
    assert "boolean" in lines["is_active"] and "only 0/1" in lines["is_active"]
    assert "smallint" in lines["rating"] and "values not 0/1" in lines["rating"]
    assert "jsonb" in lines["meta"]
    assert "numeric(10,2)" in lines["price"]
    assert "text default 'draft'" in lines["status"] and "CHECK" in lines["status"]
    assert "timestamp default now()" in lines["created_at"]
    assert "timestamptz" in lines["updated_at"]
    assert "numeric(20,0)" in lines["hits"]
    assert "bigint identity" in lines["id"]
    assert "timestamptz default now()" in lines["changed"]
    assert "ON UPDATE current_timestamp() not migrated" in lines["changed"]
    assert target.tables() == set()


def test_migration_keeps_values_types_keys_and_sequences(
    prodready, mariadb: MariaSource, target: Target
) -> None:
    fill(mariadb)
    done = migrate(prodready, mariadb, target, "--json", "--jobs", "2", "--batch-rows", "50")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["verified"] is True
    assert {t["table"]: t["target_rows"] for t in summary["tables"]} == {
        "authors": ROWS,
        "books": 2 * ROWS,
        "book_tags": 3 * ROWS,
        "counters": 3,
    }
    assert target.column_types("books") == {
        "id": "bigint",
        "author_id": "bigint",
        "title": "character varying",
        "price": "numeric",
        "status": "text",
        "meta": "jsonb",
        "cover": "bytea",
        "duration": "interval",
        "created_at": "timestamp without time zone",
        "updated_at": "timestamp with time zone",
    }
    book = target.sql(
        "SELECT title, price, status, meta, cover, duration, created_at, updated_at "
        "FROM books WHERE id = 8"
    )[0]
    assert book == (
        "Tïtle 7",
        Decimal("7.07"),
        "published",
        {"n": 7, "tags": ["a", "ö"]},
        b"\x00\x07\xff",
        -timedelta(hours=7, minutes=15, seconds=30),
        datetime(2024, 3, 1, 12, 0, 7, 7),
        datetime(2024, 5, 1, 10, 0, 7, tzinfo=UTC),
    )
    assert target.sql("SELECT name, is_active, born FROM authors WHERE id = 2") == [
        ("Author 1 🚀", True, date(1951, 2, 11))
    ]
    assert target.sql("SELECT hits FROM counters ORDER BY id") == [
        (Decimal(2**64 - 1),),
        (Decimal(0),),
        (None,),
    ]
    new_id = target.sql(
        "INSERT INTO authors (name) VALUES ('new') RETURNING id, is_active",
    )
    assert new_id == [(ROWS + 1, True)]
    with pytest.raises(psycopg.errors.CheckViolation):
        target.sql("UPDATE books SET status = 'lost' WHERE id = 1")
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        target.sql("UPDATE books SET author_id = 99999 WHERE id = 1")
    assert "prodready_migrate" not in target.tables()


def test_zero_dates_stop_then_resume_skips_and_logs_them(
    prodready, mariadb: MariaSource, target: Target, tmp_path: Path
) -> None:
    fill(mariadb, rows=30)
    mariadb.run(
        "UPDATE books SET created_at = '0000-00-00 00:00:00' WHERE id = 40",
        "UPDATE books SET updated_at = '0000-00-00 00:00:00' WHERE id = 25",
    )
    stopped = migrate(prodready, mariadb, target, "--batch-rows", "10")
    assert stopped.returncode == 1
    first, hint = stopped.stderr.splitlines()
    assert first == (
        "error: table books, row id=25, column updated_at: '0000-00-00 00:00:00' cannot be "
        "stored as it is ('0000-00-00 00:00:00' is a zero or invalid date, which PostgreSQL "
        "cannot store)"
    )
    assert "--resume" in hint
    assert target.sql("SELECT count(*) FROM authors") == [(30,)]
    assert target.sql("SELECT count(*) FROM books") == [(20,)]  # the batches before it

    rejects = tmp_path / "rejects.jsonl"
    resumed = migrate(
        prodready, mariadb, target, "--resume", "--on-error", "skip", "--reject-file", str(rejects)
    )
    assert resumed.returncode == 0, resumed.stderr
    logged = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["table"], r["row"], r["column"]) for r in logged] == [
        ("books", "id=25", "updated_at"),
        ("books", "id=40", "created_at"),
    ]
    assert target.sql("SELECT count(*) FROM books") == [(58,)]
    assert "verification: every row matches" in resumed.stdout


def test_bad_sources_are_one_line_and_exit_2(
    prodready, mariadb: MariaSource, target: Target
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    base = mariadb.url.rsplit("/", 1)[0]
    cases = {
        "wrong password": (
            mariadb.url.replace("root@", "root:wrong@"),
            "refused the credentials",
        ),
        "unknown user": (mariadb.url.replace("root@", "nobody_x:pw@"), "refused the credentials"),
        "unreachable": (
            f"mysql://root@127.0.0.1:{closed_port}/x",
            f"cannot reach MariaDB/MySQL at mysql://root@127.0.0.1:{closed_port}/x",
        ),
        "unknown database": (f"{base}/no_such_db_x", "Unknown database 'no_such_db_x'"),
        "no database": (base.replace("mysql://", "mariadb://"), "no database in the source URL"),
    }
    for case, (url, expected) in cases.items():
        done = prodready("db", "migrate", url, target.url)
        assert done.returncode == 2, (case, done.stderr)
        first, hint = done.stderr.splitlines()
        assert first.startswith("error: ") and expected in first, (case, first)
        assert hint.startswith("hint: ")
    assert target.tables() == set()
    fill(mariadb, rows=3)
    target.sql("CREATE TABLE authors (id int)")
    into_app_schema = prodready("db", "migrate", mariadb.url, target.url)
    assert into_app_schema.returncode == 2
    assert "the target already has tables of the source: authors" in into_app_schema.stderr

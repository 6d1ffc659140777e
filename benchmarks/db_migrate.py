"""Does `prodready db migrate` move a SQLite database to PostgreSQL faster than pgloader, with
every column right, resumable, in flat memory?

Builds a SQLite database over 8 tables with what trips migrations (booleans stored as 0/1,
ISO-text and epoch-second and epoch-millisecond timestamps, JSON text, decimals, foreign keys,
a `datetime('now')` default, an empty AUTOINCREMENT table): about 200,000 rows by default,
2 million with `--full` (`--rows N` for any size). Then, interleaved per round, into fresh
scratch databases:

- `prodready db migrate --no-verify` and `pgloader` (Debian's, command-line mode), timed:
  rows/s of each and their ratio;
- the columns each maps wrongly, judged against the type a column's data means (boolean,
  timestamptz with a year between 1990 and 2100, jsonb, numeric, ...), plus every sequence at
  least max(pk); the same for the bookshop example's real Django database;
- resume: a prodready run killed (SIGKILL) once half the rows are committed, rerun with
  `--resume` and verification: resume_ok when the verification passes and no table has a
  duplicate or a missing row;
- peak RSS of the prodready process (VmHWM polled from /proc);
- MariaDB → PostgreSQL (a scratch MariaDB database of a quarter as many rows, with
  TINYINT(1), DATETIME, TIMESTAMP, JSON, DECIMAL, ENUM, BIGINT UNSIGNED beyond bigint):
  both tools timed, interleaved, and their wrong columns judged the same way.

Network only to 127.0.0.1. The last line:

    prodready_rows_per_s=… pgloader_rows_per_s=… speed_ratio=… prodready_wrong_columns=…
    pgloader_wrong_columns=… resume_ok=… peak_rss_mib=… mariadb_speed_ratio=…
    mariadb_prodready_wrong_columns=… mariadb_pgloader_wrong_columns=…

    .venv/bin/python benchmarks/db_migrate.py [--full | --rows N] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pymysql

REPO = Path(__file__).resolve().parent.parent
PRODREADY = Path(sys.executable).parent / "prodready"
SERVER = "postgresql://postgres@127.0.0.1:5432"
MARIADB = "mysql://root@127.0.0.1:3306"
EPOCH_2020 = 1_577_836_800

SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email VARCHAR(120) NOT NULL UNIQUE,
    is_active INTEGER NOT NULL DEFAULT 1,
    has_avatar INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    last_seen_ms INTEGER,
    joined DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(200) NOT NULL,
    price DECIMAL(10, 2) NOT NULL,
    in_stock BOOLEAN NOT NULL,
    attrs JSON
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    placed_at INTEGER NOT NULL,
    total DECIMAL(12, 2) NOT NULL,
    paid BOOLEAN NOT NULL DEFAULT 0,
    meta JSON
);
CREATE INDEX orders_user ON orders (user_id);
CREATE TABLE order_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    qty INTEGER NOT NULL,
    unit_price DECIMAL(10, 2) NOT NULL
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER REFERENCES users(id),
    kind VARCHAR(40) NOT NULL,
    payload JSON,
    at_ms INTEGER NOT NULL
);
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id INTEGER NOT NULL REFERENCES products(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    stars INTEGER NOT NULL,
    body TEXT,
    is_verified INTEGER NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE TABLE sessions (
    session_key VARCHAR(40) PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    expires_at DATETIME NOT NULL
);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message TEXT NOT NULL
);
"""
SHARES = {
    "users": 0.05,
    "products": 0.01,
    "orders": 0.2,
    "order_items": 0.4,
    "events": 0.25,
    "reviews": 0.05,
    "sessions": 0.04,
}
TS = "timestamp with time zone"
JSON = "json|jsonb"
EXPECTED = {
    "users": {"is_active": "boolean", "has_avatar": "boolean", "created_at": TS,
              "last_seen_ms": TS, "joined": TS},
    "products": {"price": "numeric", "in_stock": "boolean", "attrs": JSON},
    "orders": {"placed_at": TS, "total": "numeric", "paid": "boolean", "meta": JSON},
    "order_items": {"unit_price": "numeric"},
    "events": {"payload": JSON, "at_ms": TS},
    "reviews": {"is_verified": "boolean", "created_at": TS},
    "sessions": {"expires_at": TS},
}  # fmt: skip
"""The PostgreSQL type each column's data means (`|`: either); a column mapped otherwise counts
as wrong. Only meaning counts: text for varchar or bigint for integer is not wrong."""
BOOKSHOP_EXPECTED = {
    "auth_user": {"is_superuser": "boolean", "is_staff": "boolean", "is_active": "boolean",
                  "last_login": TS, "date_joined": TS},
    "catalog_book": {"price": "numeric"},
    "django_migrations": {"applied": TS},
    "django_session": {"expire_date": TS},
    "django_admin_log": {"action_time": TS},
}  # fmt: skip


MARIADB_SCHEMA = [
    """CREATE TABLE users (
      id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
      email VARCHAR(120) NOT NULL UNIQUE,
      is_active TINYINT(1) NOT NULL DEFAULT 1,
      joined DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
      last_login TIMESTAMP NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE orders (
      id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
      user_id INT UNSIGNED NOT NULL,
      total DECIMAL(12,2) NOT NULL,
      status ENUM('new','paid','shipped') NOT NULL DEFAULT 'new',
      meta JSON,
      placed_at DATETIME(6) NOT NULL,
      FOREIGN KEY (user_id) REFERENCES users(id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE counters (
      id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, hits BIGINT UNSIGNED NOT NULL
    ) ENGINE=InnoDB""",
]
MARIADB_EXPECTED = {
    "users": {"is_active": "boolean", "joined": f"timestamp without time zone|{TS}",
              "last_login": TS},
    "orders": {"total": "numeric", "status": "text|USER-DEFINED|character varying",
               "meta": JSON, "placed_at": f"timestamp without time zone|{TS}"},
    "counters": {"hits": "numeric"},
}  # fmt: skip
"""DATETIME has no zone: either timestamp type is right; ENUM as text or as an enum type."""


class MariaScratch:
    """A MariaDB database with a unique name filled with `rows` rows, dropped on exit."""

    def __init__(self, rows: int) -> None:
        self.name = f"bench_dbm_{uuid.uuid4().hex[:10]}"
        self.url = f"{MARIADB}/{self.name}"
        self.rows = rows

    def _connect(self, database: str | None = None) -> pymysql.Connection:
        return pymysql.connect(
            host="127.0.0.1", user="root", database=database, charset="utf8mb4", autocommit=True
        )

    def __enter__(self) -> MariaScratch:
        with self._connect() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4")
        rng = random.Random(17)
        users, orders = max(1, self.rows // 5), max(1, self.rows - self.rows // 5 - 2)
        with self._connect(self.name) as conn, conn.cursor() as cur:
            for statement in MARIADB_SCHEMA:
                cur.execute(statement)
            cur.executemany(
                "INSERT INTO users (email, is_active, joined, last_login) VALUES (%s,%s,%s,%s)",
                [
                    (f"user{i}@example.com", i % 3 != 0,
                     time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(EPOCH_2020 + i * 97)),
                     None if i % 4 == 0 else
                     time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(EPOCH_2020 + i * 89)))
                    for i in range(users)
                ],
            )  # fmt: skip
            cur.executemany(
                "INSERT INTO orders (user_id, total, status, meta, placed_at) "
                "VALUES (%s,%s,%s,%s,%s)",
                [
                    (1 + i % users, f"{rng.randint(100, 10**7) / 100:.2f}",
                     ("new", "paid", "shipped")[i % 3],
                     None if i % 5 else json.dumps({"coupon": f"C{i}", "items": [i, 2]}),
                     time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(EPOCH_2020 + i * 61))
                     + f".{i % 1000000:06d}")
                    for i in range(orders)
                ],
            )  # fmt: skip
            cur.execute("INSERT INTO counters (hits) VALUES (18446744073709551615), (7)")
        self.total = users + orders + 2
        return self

    def __exit__(self, *exc: object) -> None:
        with self._connect() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{self.name}`")


def run_pgloader_url(source: str, target: Scratch) -> float:
    """pgloader with its defaults from a database URL (MySQL: schema, data, indexes, FKs)."""
    start = time.perf_counter()
    done = subprocess.run(
        ["pgloader", source, target.url],
        capture_output=True, text=True, timeout=3600, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    output = done.stdout + done.stderr
    if done.returncode != 0 or " FATAL " in output:
        fatal = [line for line in output.splitlines() if "FATAL" in line or "ERROR" in line]
        print(f"pgloader on {source.split('@')[-1]} failed: {' | '.join(fatal)[:300]}")
    return elapsed


def mariadb_round(rows: int, rounds: int) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Rows per second of each tool from MariaDB (best round) and their wrong columns."""
    times: dict[str, list[float]] = {"prodready": [], "pgloader": []}
    wrong: dict[str, list[str]] = {"prodready": [], "pgloader": []}
    with MariaScratch(rows) as source:
        for round_no in range(rounds):
            order = ["prodready", "pgloader"] if round_no % 2 == 0 else ["pgloader", "prodready"]
            for tool in order:
                with Scratch() as target:
                    if tool == "prodready":
                        elapsed, _, _ = run_prodready("--no-verify", source.url, target.url)
                    else:
                        elapsed = run_pgloader_url(source.url, target)
                    times[tool].append(elapsed)
                    if round_no == 0:
                        wrong[tool] += wrong_columns(target.url, MARIADB_EXPECTED, "users")
                print(f"mariadb round {round_no + 1} {tool}: {elapsed:.1f} s")
        total = source.total
    return {tool: total / min(t) for tool, t in times.items()}, wrong


def build_sqlite(path: Path, rows: int) -> dict[str, int]:
    rng = random.Random(17)
    counts = {t: max(1, int(rows * share)) for t, share in SHARES.items()}
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    n = counts
    conn.executemany(
        "INSERT INTO users (email, is_active, has_avatar, created_at, last_seen_ms, joined) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            (f"user{i}@example.com", rng.random() < 0.9, rng.random() < 0.3,
             time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(EPOCH_2020 + i * 97)),
             None if i % 7 == 0 else (EPOCH_2020 + i * 113) * 1000 + i % 1000,
             time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(EPOCH_2020 + i * 89)))
            for i in range(n["users"])
        ),
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO products (name, price, in_stock, attrs) VALUES (?, ?, ?, ?)",
        (
            (f"product {i}", f"{rng.randint(1, 99999) / 100:.2f}", i % 4 != 0,
             json.dumps({"color": rng.choice(["red", "blue", "grün"]), "size": i % 9}))
            for i in range(n["products"])
        ),
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO orders (user_id, placed_at, total, paid, meta) VALUES (?, ?, ?, ?, ?)",
        (
            (1 + i % n["users"], EPOCH_2020 + i * 61, f"{rng.randint(100, 10**7) / 100:.2f}",
             i % 3 != 0, None if i % 5 else json.dumps({"coupon": f"C{i}", "items": [i, 2]}))
            for i in range(n["orders"])
        ),
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO order_items (order_id, product_id, qty, unit_price) VALUES (?, ?, ?, ?)",
        (
            (1 + i % n["orders"], 1 + i % n["products"], 1 + i % 5,
             f"{rng.randint(1, 99999) / 100:.2f}")
            for i in range(n["order_items"])
        ),
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO events (user_id, kind, payload, at_ms) VALUES (?, ?, ?, ?)",
        (
            (None if i % 11 == 0 else 1 + i % n["users"], rng.choice(["view", "click", "buy"]),
             json.dumps({"path": f"/p/{i % 500}", "ms": i % 1000}),
             (EPOCH_2020 + i * 17) * 1000 + i % 1000)
            for i in range(n["events"])
        ),
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO reviews (product_id, user_id, stars, body, is_verified, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            (1 + i % n["products"], 1 + i % n["users"], 1 + i % 5, f"review {i} " * 5,
             i % 2, time.strftime("%Y-%m-%d %H:%M:%S.123456", time.gmtime(EPOCH_2020 + i * 300)))
            for i in range(n["reviews"])
        ),
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO sessions VALUES (?, ?, ?)",
        (
            (uuid.UUID(int=i).hex, 1 + i % n["users"],
             time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(EPOCH_2020 + i * 600)))
            for i in range(n["sessions"])
        ),
    )  # fmt: skip
    conn.commit()
    conn.close()
    counts["audit_log"] = 0
    return counts


DEFAULT_PROBE = (
    "CREATE TABLE notes (id INTEGER PRIMARY KEY, at DATETIME DEFAULT (datetime('now')));"
)


def default_probe(path: Path) -> Path:
    """One table with SQLite's `datetime('now')` default (apart from the big database:
    pgloader stops at it, and the big one is for timing)."""
    with sqlite3.connect(path) as conn:
        conn.executescript(DEFAULT_PROBE + "INSERT INTO notes (id) VALUES (1);")
    conn.close()
    return path


def default_problems(url: str) -> list[str]:
    """The app inserts without `at`: the default must give a timestamp."""
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute("INSERT INTO notes (id) VALUES (2) RETURNING at").fetchone()
    except psycopg.Error as error:
        return [f"notes.at default (datetime('now')): {str(error).splitlines()[0]}"]
    return [] if row[0] is not None else ["notes.at default (datetime('now')): dropped"]


def build_bookshop(workdir: Path) -> Path:
    """The bookshop example's real Django database: its migrations, 2,000 books, users."""
    app = workdir / "bookshop"
    shutil.copytree(REPO / "examples" / "bookshop", app)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DJANGO_"))}
    seed = (
        "from catalog.models import Book; from django.contrib.auth.models import User; "
        "Book.objects.bulk_create([Book(title=f'Book {i}', author=f'A{i % 50}', "
        "price=f'{i % 90}.{i % 100:02d}', in_stock=i % 30) for i in range(2000)]); "
        "[User.objects.create_user(f'u{i}', f'u{i}@x.org', 'pw', is_staff=i % 3 == 0) "
        "for i in range(50)]"
    )
    for args in (["migrate", "-v0"], ["shell", "-c", seed]):
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=app, env=env, check=True,
            capture_output=True, timeout=300,
        )  # fmt: skip
    return app / "db.sqlite3"


class Scratch:
    """A fresh empty database, dropped on exit."""

    def __init__(self) -> None:
        self.name = f"bench_dbm_{uuid.uuid4().hex[:10]}"
        self.url = f"{SERVER}/{self.name}"

    def __enter__(self) -> Scratch:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *exc: object) -> None:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class PeakRss:
    """VmHWM of one process, polled while it runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kib = 0
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        status = Path(f"/proc/{self.pid}/status")
        while True:
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_kib = max(self.peak_kib, int(line.split()[1]))
            except (OSError, ValueError):
                return
            time.sleep(0.05)


def run_prodready(*args: str) -> tuple[float, int, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(PRODREADY), "db", "migrate", "-q", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    rss = PeakRss(proc.pid)
    out, err = proc.communicate(timeout=3600)
    elapsed = time.perf_counter() - start
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    if proc.returncode != 0:
        raise SystemExit(f"prodready failed ({proc.returncode}): {err.strip()[-2000:]}")
    return elapsed, rss.peak_kib, done


def run_pgloader(source: Path, target: Scratch) -> float:
    """pgloader's command-line mode with its defaults (schema, data, indexes, FKs, sequences)."""
    start = time.perf_counter()
    done = subprocess.run(
        ["pgloader", f"sqlite://{source}", target.url],
        capture_output=True, text=True, timeout=3600, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    output = done.stdout + done.stderr
    if done.returncode != 0 or " FATAL " in output:
        fatal = [line for line in output.splitlines() if "FATAL" in line or "ERROR" in line]
        print(f"pgloader on {source.name} failed: {' | '.join(fatal)[:300]}")
    return elapsed


def wrong_columns(
    url: str, expected: dict[str, dict[str, str]], id_table: str = "users"
) -> list[str]:
    """Columns whose type is not what their data means, whose timestamps landed outside
    1990-2100, and tables whose sequence is below max(id)."""
    wrong = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        schema = conn.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = %s "
            "OR table_name = 'auth_user' LIMIT 1",
            (id_table,),
        ).fetchone()
        schema_name = schema[0] if schema else "public"
        for table, columns in expected.items():
            types = dict(
                conn.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = %s AND table_name = %s",
                    (schema_name, table),
                ).fetchall()
            )
            for column, want in columns.items():
                got = types.get(column)
                if got not in want.split("|"):
                    wrong.append(f"{table}.{column}: {got} (should be {want})")
                elif want == TS:
                    years = conn.execute(
                        f'SELECT extract(year FROM min("{column}")), '
                        f'extract(year FROM max("{column}")) FROM "{schema_name}"."{table}"'
                    ).fetchone()
                    if years[0] is not None and not (years[0] >= 1990 and years[1] <= 2100):
                        wrong.append(f"{table}.{column}: years {years[0]:.0f}-{years[1]:.0f}")
            if "id" in types:
                wrong += _sequence_problems(conn, f'"{schema_name}"."{table}"', table)
    return wrong


def _sequence_problems(conn: psycopg.Connection, qualified: str, table: str) -> list[str]:
    seq = conn.execute("SELECT pg_get_serial_sequence(%s, 'id')", (qualified,)).fetchone()[0]
    if seq is None:
        return [f"{table}.id: no sequence"]
    last, top = conn.execute(
        f"SELECT (SELECT last_value FROM {seq}), max(id) FROM {qualified}"
    ).fetchone()
    return [f"{table}.id: sequence at {last} < max {top}"] if top is not None and last < top else []


def resume_after_kill(source: Path, total: int) -> tuple[bool, str]:
    with Scratch() as target:
        proc = subprocess.Popen(
            [str(PRODREADY), "db", "migrate", "-q", "--batch-rows", "2000", source, target.url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        loaded = 0
        with psycopg.connect(target.url, autocommit=True) as conn:
            while proc.poll() is None:
                if conn.execute("SELECT to_regclass('prodready_migrate')").fetchone()[0]:
                    loaded = conn.execute("SELECT sum(rows) FROM prodready_migrate").fetchone()[0]
                    if loaded >= total // 2:
                        break
                time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if not 0 < loaded < total:
            return False, f"not caught halfway ({loaded} of {total})"
        _, _, done = run_prodready("--resume", "--json", str(source), target.url)
        summary = json.loads(done.stdout)
        with psycopg.connect(target.url, autocommit=True) as conn:
            duplicates = 0
            for table in summary["tables"]:
                key = "session_key" if table["table"] == "sessions" else "id"
                rows, distinct = conn.execute(
                    f'SELECT count(*), count(DISTINCT "{key}") FROM "{table["table"]}"'
                ).fetchone()
                duplicates += rows - distinct
        ok = summary["verified"] and duplicates == 0
        return bool(ok), f"killed at {loaded:,} of {total:,} rows; duplicates {duplicates}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--full", action="store_true", help="2 million rows")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--mariadb-rows", type=int, default=None, help="default: a quarter of --rows"
    )
    args = parser.parse_args()
    rows = 2_000_000 if args.full else args.rows
    if shutil.which("pgloader") is None:
        raise SystemExit("pgloader is missing: scripts/ensure-system-deps.sh installs it")
    with tempfile.TemporaryDirectory(prefix="prodready-bench-dbm-") as tmp:
        work = Path(tmp)
        source = work / "bench.db"
        counts = build_sqlite(source, rows)
        total = sum(counts.values())
        bookshop = build_bookshop(work)
        print(f"source: {total:,} rows in {len(counts)} tables, {source.stat().st_size >> 20} MiB")
        times: dict[str, list[float]] = {"prodready": [], "pgloader": []}
        wrong: dict[str, list[str]] = {"prodready": [], "pgloader": []}
        peak_kib = 0
        for round_no in range(args.rounds):
            order = ["prodready", "pgloader"] if round_no % 2 == 0 else ["pgloader", "prodready"]
            for tool in order:
                with Scratch() as target:
                    if tool == "prodready":
                        elapsed, kib, _ = run_prodready("--no-verify", str(source), target.url)
                        peak_kib = max(peak_kib, kib)
                    else:
                        elapsed = run_pgloader(source, target)
                    times[tool].append(elapsed)
                    if round_no == 0:
                        wrong[tool] += wrong_columns(target.url, EXPECTED)
                print(f"round {round_no + 1} {tool}: {elapsed:.1f} s")
        for tool in ("prodready", "pgloader"):
            with Scratch() as target:
                if tool == "prodready":
                    _, kib, _ = run_prodready(str(bookshop), target.url)
                    peak_kib = max(peak_kib, kib)
                else:
                    run_pgloader(bookshop, target)
                wrong[tool] += [
                    f"bookshop {w}" for w in wrong_columns(target.url, BOOKSHOP_EXPECTED)
                ]
        probe = default_probe(work / "defaults.db")
        for tool in ("prodready", "pgloader"):
            with Scratch() as target:
                if tool == "prodready":
                    run_prodready(str(probe), target.url)
                else:
                    run_pgloader(probe, target)
                wrong[tool] += default_problems(target.url)
        resume_ok, resume_note = resume_after_kill(source, total)
    maria_rows = args.mariadb_rows or rows // 4
    maria_rates, maria_wrong = mariadb_round(maria_rows, args.rounds)
    for tool in ("prodready", "pgloader"):
        print(f"{tool} wrong columns from MariaDB ({len(maria_wrong[tool])}):")
        for line in maria_wrong[tool]:
            print(f"  {line}")
    for tool in ("prodready", "pgloader"):
        print(f"{tool} wrong columns ({len(wrong[tool])}):")
        for line in wrong[tool]:
            print(f"  {line}")
    print(f"resume: {resume_note}")
    rates = {tool: total / min(t) for tool, t in times.items()}
    print(
        f"prodready_rows_per_s={rates['prodready']:.0f} "
        f"pgloader_rows_per_s={rates['pgloader']:.0f} "
        f"speed_ratio={rates['prodready'] / rates['pgloader']:.2f} "
        f"prodready_wrong_columns={len(wrong['prodready'])} "
        f"pgloader_wrong_columns={len(wrong['pgloader'])} "
        f"resume_ok={str(resume_ok).lower()} peak_rss_mib={peak_kib / 1024:.0f} "
        f"mariadb_speed_ratio={maria_rates['prodready'] / maria_rates['pgloader']:.2f} "
        f"mariadb_prodready_wrong_columns={len(maria_wrong['prodready'])} "
        f"mariadb_pgloader_wrong_columns={len(maria_wrong['pgloader'])}"
    )


if __name__ == "__main__":
    main()

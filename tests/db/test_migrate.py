"""`prodready db migrate` against real PostgreSQL scratch databases and real SQLite files."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from tests.conftest import PRODREADY
from tests.db.conftest import EPOCH_2024, SHOP_ROWS, Target, make_shop


def migrate_ok(prodready, *args: str) -> dict:
    done = prodready("db", "migrate", "--json", *map(str, args))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_plan_shows_each_mapping_and_changes_nothing(prodready, shop: Path, target: Target) -> None:
    with sqlite3.connect(shop) as conn:
        conn.execute("UPDATE orders SET placed_at = 'soon' WHERE id = 5")
    done = prodready("db", "migrate", "--plan", shop, target.url)
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.startswith("  ")}
    assert "boolean" in lines["is_active"] and "only 0/1" in lines["is_active"]
    assert "boolean" in lines["has_newsletter"]
    assert "epoch seconds → timestamptz" in lines["placed_at"]
    assert "lossy: 1 value is not an epoch number" in lines["placed_at"]
    assert "epoch milliseconds → timestamptz" in lines["shipped_at"]
    assert "ISO text → timestamptz" in lines["signed_up_at"]
    assert "jsonb" in lines["details"]
    assert "numeric(10,2)" in lines["total"]
    assert "default datetime('now') → now()" in lines["created"]
    assert "customer_id → customers(id)" in done.stdout
    assert target.tables() == set()


def test_migration_maps_types_values_keys_and_sequences(
    prodready, shop: Path, target: Target
) -> None:
    summary = migrate_ok(prodready, shop, target.url)
    assert summary["verified"] is True
    assert {t["table"]: t["target_rows"] for t in summary["tables"]} == {
        "customers": SHOP_ROWS,
        "orders": 2 * SHOP_ROWS,
        "audit_log": 0,
    }
    assert target.column_types("orders") == {
        "id": "integer",
        "customer_id": "integer",
        "total": "numeric",
        "paid": "boolean",
        "placed_at": "timestamp with time zone",
        "shipped_at": "timestamp with time zone",
        "details": "jsonb",
        "note": "text",
    }
    assert target.column_types("customers")["is_active"] == "boolean"
    row = target.sql(
        "SELECT total, paid, placed_at, shipped_at, details->>'name', (details->>'gift')::boolean "
        "FROM orders WHERE id = 8"
    )[0]
    placed = datetime.fromtimestamp(EPOCH_2024 + 7 * 3600, UTC)
    assert row == (Decimal("7.07"), True, placed, placed.replace(day=2), "ö7", True)
    signed_up = target.sql("SELECT signed_up_at FROM customers WHERE id = 1")[0][0]
    assert signed_up == datetime(2024, 2, 1, 8, 0, tzinfo=UTC)  # +02:00 read as such
    # sequences continue after max(pk); the empty AUTOINCREMENT table starts at 1
    new_id = target.sql(
        "INSERT INTO orders (customer_id, total, paid, placed_at) "
        "VALUES (1, 1, false, now()) RETURNING id"
    )[0][0]
    assert new_id == 2 * SHOP_ROWS + 1
    assert target.sql("INSERT INTO audit_log (message) VALUES ('x') RETURNING id") == [(1,)]
    # translated default, validated foreign key, unique constraint, index
    assert target.sql(
        "INSERT INTO customers (email, is_active, signed_up_at) "
        "VALUES ('new@x', true, now()) RETURNING created IS NOT NULL"
    ) == [(True,)]
    constraints = dict(
        target.sql(
            "SELECT conname, convalidated FROM pg_constraint WHERE contype IN ('f', 'u') AND connamespace = 'public'::regnamespace"
        )
    )
    assert constraints == {"orders_customer_id_fkey": True, "customers_email_key": True}
    assert target.sql("SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_placed'") == [(1,)]
    assert "prodready_migrate" not in target.tables()


def test_lossy_value_stops_naming_row_then_resume_skips_and_logs_it(
    prodready, shop: Path, target: Target, tmp_path: Path
) -> None:
    with sqlite3.connect(shop) as conn:
        conn.execute("UPDATE orders SET paid = 2 WHERE id = 450")
    done = prodready("db", "migrate", "--batch-rows", "100", shop, target.url)
    assert done.returncode == 1
    assert "table orders, row id=450, column paid: 2 cannot be stored" in done.stderr
    assert "hint:" in done.stderr
    assert target.sql("SELECT count(*) FROM orders") == [(400,)]  # the batches before it
    again = prodready("db", "migrate", shop, target.url)
    assert again.returncode == 2 and "--resume" in again.stderr
    rejects = tmp_path / "rejects.jsonl"
    summary = migrate_ok(
        prodready, "--resume", "--on-error", "skip", "--reject-file", rejects, shop, target.url
    )
    assert summary["resumed"] is True and summary["rejected"] == 1
    assert summary["verified"] is True
    logged = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert logged == [
        {
            "table": "orders",
            "row": "id=450",
            "column": "paid",
            "value": 2,
            "reason": "2 is not a boolean (0/1)",
        }
    ]
    assert target.sql("SELECT count(*), count(DISTINCT id) FROM orders") == [(599, 599)]


def test_killed_run_resumes_without_duplicates(prodready, tmp_path: Path, target: Target) -> None:
    shop = make_shop(tmp_path / "big.db", rows=4000)
    run = subprocess.Popen(
        [PRODREADY, "db", "migrate", "--batch-rows", "50", "-q", shop, target.url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    loaded = 0
    while time.monotonic() < deadline and run.poll() is None:
        if "prodready_migrate" in target.tables():
            loaded = target.sql("SELECT coalesce(sum(rows), 0) FROM prodready_migrate")[0][0]
            if loaded >= 2000:
                break
        time.sleep(0.02)
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert 0 < loaded < 12_000, "the run was not caught in the middle"
    summary = migrate_ok(prodready, "--resume", shop, target.url)
    assert summary["verified"] is True and summary["resumed"] is True
    assert target.sql("SELECT count(*), count(DISTINCT id) FROM orders") == [(8000, 8000)]
    assert target.sql("SELECT count(*), count(DISTINCT id) FROM customers") == [(4000, 4000)]


def test_app_schema_is_kept_and_a_changed_value_fails_verification(
    prodready, shop: Path, target: Target
) -> None:
    """Data mode: the target has the app's tables (as its migrations made them). A trigger that
    rewrites one column on insert is a difference the verification must name."""
    target.sql(
        "CREATE TABLE customers (id bigint PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "
        "email varchar(200) NOT NULL, is_active boolean NOT NULL, has_newsletter boolean, "
        "signed_up_at timestamptz NOT NULL, created timestamptz);"
        "CREATE TABLE orders (id bigint PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "
        "customer_id bigint NOT NULL REFERENCES customers DEFERRABLE INITIALLY DEFERRED, "
        "total numeric(12,2) NOT NULL, paid boolean NOT NULL, placed_at timestamptz NOT NULL, "
        "shipped_at timestamptz, details jsonb, note text);"
        "CREATE TABLE audit_log (id serial PRIMARY KEY, message text NOT NULL);"
        "INSERT INTO audit_log (message) VALUES ('from the app migrations');"
        "CREATE FUNCTION round_total() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN NEW.total := round(NEW.total); RETURN NEW; END $$;"
        "CREATE TRIGGER round_total BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION round_total();"
    )
    refused = prodready("db", "migrate", shop, target.url)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: the target's tables are not empty: audit_log\n")
    done = prodready("db", "migrate", "--truncate", "--json", shop, target.url)
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert summary["plan"]["mode"] == "data"
    assert [t["table"] for t in summary["tables"] if not t["ok"]] == ["orders"]
    assert any(d.startswith("orders.total: ") for d in summary["differences"])
    assert target.sql("SELECT count(*) FROM audit_log") == [(0,)]
    assert target.sql("SELECT count(*) FROM orders") == [(2 * SHOP_ROWS,)]
    assert target.column_types("orders")["id"] == "bigint"  # the app's own type kept


def test_bad_inputs_are_one_line_and_exit_2(
    prodready, shop: Path, target: Target, tmp_path: Path
) -> None:
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 20)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    cases = {
        "corrupt": (corrupt, target.url),
        "missing": (tmp_path / "nope.db", target.url),
        "unreachable": (tmp_path / "nope.db", f"postgresql://postgres@127.0.0.1:{closed_port}/x"),
        "credentials": (shop, target.url.replace("postgres@", "no_such_role_x@")),
        "not postgres": (shop, "mysql://root@127.0.0.1/x"),
    }
    results = {k: prodready("db", "migrate", *v) for k, v in cases.items()}
    locker = sqlite3.connect(shop, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        results["locked"] = prodready("db", "migrate", shop, target.url)
    finally:
        locker.rollback()
        locker.close()
    expected = {
        "locked": "is locked by another process",
        "corrupt": "is not a readable SQLite database",
        "missing": "no SQLite file at",
        "unreachable": "no SQLite file at",
        "credentials": "refused the credentials",
        "not postgres": "the target is not a PostgreSQL URL",
    }
    for case, done in results.items():
        assert done.returncode == 2, (case, done.stderr)
        first, hint = done.stderr.splitlines()
        assert first.startswith("error: ") and expected[case] in first, (case, first)
        assert hint.startswith("hint: ")
    unreachable = prodready(
        "db", "migrate", shop, f"postgresql://postgres@127.0.0.1:{closed_port}/x"
    )
    assert unreachable.returncode == 2
    assert unreachable.stderr.startswith(
        f"error: cannot reach PostgreSQL at postgresql://postgres@127.0.0.1:{closed_port}/x"
    )
    assert target.tables() == set()


def test_tables_in_parallel_verify_and_name_a_lossy_row(
    prodready, tmp_path: Path, target: Target
) -> None:
    shop = make_shop(tmp_path / "par.db", rows=1000)
    with sqlite3.connect(shop) as conn:
        conn.execute("UPDATE customers SET email = ? WHERE id = 700", ("x" * 200,))
    done = prodready("db", "migrate", "--jobs", "2", "--batch-rows", "100", shop, target.url)
    assert done.returncode == 1, done.stderr
    assert "table customers, row id=700, column email: " in done.stderr
    assert "longer than varchar(120)" in done.stderr
    done = prodready(
        "db", "migrate", "--json", "--jobs", "2", "--resume", "--on-error", "skip",
        "--reject-file", tmp_path / "r.jsonl", shop, target.url,
    )  # fmt: skip
    # the skipped customer leaves 2 orders without a parent: kept, their FK left NOT VALID,
    # and named by the verification
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert summary["rejected"] == 1 and summary["verified"] is False
    assert summary["warnings"] == [
        "foreign key orders_customer_id_fkey (orders.customer_id → customers) left NOT VALID: "
        "rows point at missing customers rows"
    ]
    assert summary["differences"] == [
        "orders.customer_id: 2 rows without a parent (orders_customer_id_fkey)"
    ]
    assert [t["table"] for t in summary["tables"] if t["ok"]] == [
        "audit_log",
        "customers",
        "orders",
    ]
    assert target.sql("SELECT count(*), count(DISTINCT id) FROM orders") == [(2000, 2000)]
    assert target.sql("SELECT count(*) FROM customers") == [(999,)]


def test_views_are_named_as_left_out_and_without_rowid_tables_refused(
    prodready, shop: Path, target: Target
) -> None:
    with sqlite3.connect(shop) as conn:
        conn.execute("CREATE VIEW paid_orders AS SELECT * FROM orders WHERE paid")
    plan = prodready("db", "migrate", "--plan", shop, target.url)
    assert plan.returncode == 0, plan.stderr
    assert "not migrated (SQLite SQL, rewrite for PostgreSQL): view paid_orders" in plan.stdout
    with sqlite3.connect(shop) as conn:
        conn.execute("CREATE TABLE tags (name TEXT PRIMARY KEY) WITHOUT ROWID")
    refused = prodready("db", "migrate", shop, target.url)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: table tags is a WITHOUT ROWID table")
    assert target.tables() == set()


def test_ctrl_c_leaves_a_resumable_target(prodready, tmp_path: Path, target: Target) -> None:
    shop = make_shop(tmp_path / "int.db", rows=4000)
    run = subprocess.Popen(
        [PRODREADY, "db", "migrate", "--batch-rows", "50", shop, target.url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and run.poll() is None:
        if (
            "prodready_migrate" in target.tables()
            and target.sql("SELECT coalesce(sum(rows), 0) FROM prodready_migrate")[0][0]
        ):
            break
        time.sleep(0.02)
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, stderr
    assert stderr.startswith("interrupted: ") and "Traceback" not in stderr
    summary = migrate_ok(prodready, "--resume", shop, target.url)
    assert summary["verified"] is True
    assert target.sql("SELECT count(*), count(DISTINCT id) FROM orders") == [(8000, 8000)]

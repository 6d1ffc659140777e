"""`prodready backup`, `backup verify` and `restore` against a real PostgreSQL."""

from __future__ import annotations

import json
import os
import stat

from prodready.backup.files import sha256_of
from prodready.backup.store import Store
from tests.backup.conftest import backup_ok


def test_backup_writes_a_verified_backup_with_its_manifest(prodready, db):
    summary = backup_ok(prodready, db)
    assert summary["verified"] is True
    assert summary["rows"] == 2003 and summary["tables"] == 2
    folder = db.dest / summary["id"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["row_counts"] == {"public.items": 2000, "public.notes": 3}
    part = manifest["parts"][0]
    assert part["sha256"] == sha256_of(folder / part["name"])
    assert part["size"] == (folder / part["name"]).stat().st_size
    assert any("TABLE DATA public items" in line for line in manifest["toc"])
    assert manifest["server_version"].startswith(str(manifest["client_version"]))
    assert json.loads((folder / "verification.json").read_text())["ok"] is True
    # the scratch database is gone
    assert db.databases() == {db.name}
    assert not list(db.dest.glob("*.partial"))


def test_no_verify_leaves_it_unverified_and_verify_latest_proves_it(prodready, db):
    summary = backup_ok(prodready, db, "--no-verify")
    assert summary["verified"] is None
    assert db.states() == {summary["id"]: "unverified"}
    done = prodready("backup", "verify", "--latest", *db.args())
    assert done.returncode == 0, done.stderr
    assert "verified: restored; row counts and tables match" in done.stdout
    assert db.states() == {summary["id"]: "verified"}


def test_restore_swaps_in_the_backup_keeps_the_old_data_and_undo_swaps_back(prodready, db):
    backup_id = backup_ok(prodready, db)["id"]
    db.sql("DELETE FROM items WHERE id > 500")
    done = prodready("restore", backup_id, *db.args())
    assert done.returncode == 0, done.stderr
    assert db.count() == 2000
    previous = [name for name in db.databases() if "_prev_" in name]
    assert len(previous) == 1 and db.count(dbname=previous[0]) == 500
    assert f"kept as {previous[0]}" in done.stdout
    undone = prodready("restore", "--undo", *db.args())
    assert undone.returncode == 0, undone.stderr
    assert db.count() == 500
    kept = [name for name in db.databases() if "_undone_" in name]
    assert len(kept) == 1 and db.count(dbname=kept[0]) == 2000


def test_restore_ends_the_sessions_on_the_live_database(prodready, db):
    import psycopg

    from tests.backup.conftest import PG

    backup_id = backup_ok(prodready, db)["id"]
    session = psycopg.connect(f"{PG}/{db.name}", autocommit=True)
    session.execute("SELECT 1")
    done = prodready("restore", backup_id, *db.args())
    assert done.returncode == 0, done.stderr
    assert session.closed or session.broken or _dead(session)


def _dead(session) -> bool:
    import psycopg

    try:
        session.execute("SELECT 1")
    except psycopg.OperationalError:
        return True
    return False


def test_restore_list_shows_states(prodready, db):
    first = backup_ok(prodready, db)["id"]
    second = backup_ok(prodready, db, "--no-verify")["id"]
    done = prodready("restore", "--list", "--json", *db.args())
    assert done.returncode == 0, done.stderr
    states = {row["id"]: row["state"] for row in json.loads(done.stdout)}
    assert states == {first: "verified", second: "unverified"}
    # the list needs no database, only the folder
    text = prodready("restore", "--list", "--dest", str(db.dest), "--dir", str(db.dest.parent))
    assert text.returncode == 0, text.stderr
    assert first in text.stdout and "verified" in text.stdout


def test_database_from_the_config_section(prodready, db):
    app = db.dest.parent
    (app / "pyproject.toml").write_text(
        f'[tool.prodready.backup]\ndatabase = "{db.url}"\ndest = "{db.dest}"\n'
    )
    done = prodready("backup", "--json", "--dir", str(app))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == 2003
    # prodready check reads the same [tool.prodready] table and accepts the backup section
    checked = prodready("check", str(app))
    assert checked.returncode in (0, 1), checked.stderr


def test_database_from_the_production_env_file(prodready, db):
    app = db.dest.parent
    (app / ".env.production").write_text(f"SECRET_KEY=x\nDATABASE_URL={db.url}\n")
    (app / ".env.example").write_text("DATABASE_URL=postgresql://nobody@127.0.0.1:1/none\n")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = prodready("backup", "--json", "--dir", str(app), "--dest", str(db.dest), env={**env})
    assert done.returncode == 0, done.stderr


def test_bad_input_is_one_line_and_exit_2(prodready, db, tmp_path):
    cases = [
        ("backup", "--database", "postgresql://postgres@127.0.0.1:1/x", "--dest", str(tmp_path)),
        ("backup", "--database", "sqlite:///x.db", "--dest", str(tmp_path)),
        ("restore", "20990101T000000Z", *db.args()),
        ("restore", *db.args()),
        ("backup", "verify", *db.args()),
    ]
    for args in cases:
        done = prodready(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
        assert "hint: " in done.stderr


def test_partial_dir_and_lock_file_modes(prodready, db):
    backup_ok(prodready, db)
    assert stat.S_IMODE((db.dest / ".lock").stat().st_mode) == 0o600
    assert Store(db.dest).latest(verified_only=True).good


def test_a_backup_much_smaller_without_fewer_rows_fails(prodready, db):
    first = backup_ok(prodready, db)["id"]
    db.sql("UPDATE items SET body = ''")
    done = prodready("backup", *db.args())
    assert done.returncode == 1, done.stderr
    assert "VERIFICATION FAILED: the dump is" in done.stdout
    assert f"of the size of {first}'s while the rows are 100%" in done.stdout
    states = db.states()
    assert states[first] == "verified" and sorted(states.values()) == ["failed", "verified"]
    # fewer rows explain a smaller dump: accepted
    db.sql("DELETE FROM items")
    assert backup_ok(prodready, db)["verified"] is True


def test_two_restores_within_one_second_both_swap_in(prodready, db, monkeypatch):
    """Each restore keeps the live database as <db>_prev_<stamp>: a second restore within the
    same second must not collide with the first one's copy. The clock is held in one second."""
    from datetime import UTC, datetime

    from prodready.backup import restore
    from prodready.backup.dump import DumpTools
    from prodready.backup.pg import PgServer
    from prodready.backup.progress import Progress

    backup_id = backup_ok(prodready, db)["id"]
    micros = iter(range(1, 1000))

    class OneSecond(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 1, 2, 3, 4, 5, next(micros), tzinfo=tz or UTC)

    monkeypatch.setattr(restore, "datetime", OneSecond)
    store = Store(db.dest)
    for _ in range(2):
        with store.lock():
            swaps = restore.restore_backup(PgServer.from_url(db.url), store,
                                           store.entry(backup_id), None, DumpTools.find(),
                                           Progress(enabled=False))  # fmt: skip
        assert swaps[0].previous in db.databases()
    assert len({name for name in db.databases() if "_prev_" in name}) == 2

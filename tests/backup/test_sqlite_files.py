"""SQLite sources (the online backup API) and folders/files as tar parts: backup, verify,
restore beside the live copy with the previous one kept, undo."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from prodready.backup.store import Store
from tests.conftest import run_prodready


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    (root / "uploads" / "deep").mkdir(parents=True)
    (root / "uploads" / "deep" / "a.txt").write_text("first upload\n")
    (root / "uploads" / "b.bin").write_bytes(bytes(range(256)) * 100)
    (root / ".env.production").write_text("SECRET_KEY=kept\n")
    conn = sqlite3.connect(root / "app.db")
    conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany("INSERT INTO posts (body) VALUES (?)", [(f"post {i}",) for i in range(500)])
    conn.commit()
    conn.close()
    return root


def _args(app: Path) -> list[str]:
    return ["--database", "sqlite:///app.db", "--dest", str(app.parent / "bk"), "--dir", str(app)]


def _count(app: Path) -> int:
    conn = sqlite3.connect(app / "app.db")
    try:
        return conn.execute("SELECT count(*) FROM posts").fetchone()[0]
    finally:
        conn.close()


def test_sqlite_and_files_backup_restore_and_undo(app):
    done = run_prodready(
        "backup", "--json", *_args(app), "--files", "uploads", "--files", ".env.production", cwd=app
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["verified"] is True and summary["rows"] == 500
    manifest = json.loads((Path(summary["path"]) / "manifest.json").read_text())
    assert manifest["engine"] == "sqlite"
    assert [p["kind"] for p in manifest["parts"]] == ["sqlite", "files", "files"]
    assert manifest["parts"][1]["entries"] == 4  # uploads, deep, deep/a.txt, b.bin

    # the app changes everything
    conn = sqlite3.connect(app / "app.db")
    conn.execute("DELETE FROM posts WHERE id > 10")
    conn.commit()
    conn.close()
    (app / "uploads" / "deep" / "a.txt").write_text("overwritten\n")
    (app / ".env.production").write_text("SECRET_KEY=changed\n")

    done = run_prodready("restore", summary["id"], *_args(app))
    assert done.returncode == 0, done.stderr
    assert _count(app) == 500
    assert (app / "uploads" / "deep" / "a.txt").read_text() == "first upload\n"
    assert (app / ".env.production").read_text() == "SECRET_KEY=kept\n"
    kept = sorted(p.name for p in app.iterdir() if ".prev-" in p.name)
    assert [k.split(".prev-")[0] for k in kept] == [".env.production", "app.db", "uploads"]
    prev_uploads = next(app.glob("uploads.prev-*"))
    assert (prev_uploads / "deep" / "a.txt").read_text() == "overwritten\n"

    done = run_prodready("restore", "--undo", *_args(app))
    assert done.returncode == 0, done.stderr
    assert _count(app) == 10
    assert (app / "uploads" / "deep" / "a.txt").read_text() == "overwritten\n"
    assert (app / ".env.production").read_text() == "SECRET_KEY=changed\n"
    assert len(list(app.glob("*.undone-*"))) == 3


def test_sqlite_copy_is_consistent_while_a_writer_holds_a_transaction(app):
    writer = sqlite3.connect(app / "app.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO posts (body) VALUES ('not committed')")
    try:
        done = run_prodready("backup", "--json", *_args(app))
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == 500


def test_broken_sqlite_and_tar_parts_are_caught(app):
    done = run_prodready("backup", "--json", *_args(app), "--files", "uploads", cwd=app)
    assert done.returncode == 0, done.stderr
    backup_id = json.loads(done.stdout)["id"]
    folder = app.parent / "bk" / backup_id
    for part in ("db.sqlite3", "files-uploads.tar"):
        data = bytearray((folder / part).read_bytes())
        original = bytes(data)
        data[len(data) // 2] ^= 0xFF
        (folder / part).write_bytes(bytes(data))
        done = run_prodready("restore", backup_id, *_args(app))
        assert done.returncode == 2 and "does not match its sha256" in done.stderr
        assert _count(app) == 500 and not list(app.glob("*.prev-*"))
        done = run_prodready("backup", "verify", backup_id, *_args(app))
        assert done.returncode == 1
        assert Store(app.parent / "bk").entry(backup_id).state == "failed"
        (folder / part).write_bytes(original)


def test_restore_refuses_a_sqlite_database_in_use(app):
    done = run_prodready("backup", "--json", *_args(app))
    backup_id = json.loads(done.stdout)["id"]
    conn = sqlite3.connect(app / "app.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("INSERT INTO posts (body) VALUES ('in the log')")
    try:
        done = run_prodready("restore", backup_id, *_args(app))
    finally:
        conn.close()
    assert done.returncode == 2 and "write-ahead log" in done.stderr
    assert not list(app.glob("*.prev-*")) and not list(app.glob("*.restore-*"))


def test_missing_files_path_is_one_line(app):
    done = run_prodready("backup", *_args(app), "--files", str(app / "nope"))
    assert done.returncode == 2 and "does not exist" in done.stderr
    assert Store(app.parent / "bk").entries() == []

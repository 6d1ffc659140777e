"""`prodready backup`, `backup verify` and `restore` (with `--undo`) against a real MariaDB:
manifests, the atomic swap with views, routines and triggers, row counts that match the dump
while the app writes, encryption, and the fault cases (truncated, flipped, empty, deleted,
killed). Each test gets its own database, reached as a user with a password that only has
privileges on `bkm_%` databases (the way an app's owner user is usually granted), so nothing
here needs more than an app's own rights."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from prodready.backup.files import sha256_of
from tests.backup.faults import assert_caught, outcome
from tests.conftest import PRODREADY
from tests.services import MARIADB, maria_admin, missing

pymysql = pytest.importorskip("pymysql")

USER = "prodready_bk"
PASSWORD = "bk#p@ss \"w'\\1"
"""Every character an option file or a URL has to quote: # @ space " ' and a backslash."""
PREFIX = "bkm"
ROWS = 2000
SCHEMA = [
    "CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(64) NOT NULL) "
    "ENGINE=InnoDB",
    f"INSERT INTO items (body) SELECT MD5(seq) FROM seq_1_to_{ROWS}",
    "CREATE TABLE notes (n INT) ENGINE=InnoDB",
    "INSERT INTO notes VALUES (1), (2), (3)",
    "CREATE TABLE audit (item_id INT) ENGINE=InnoDB",
    "CREATE TRIGGER items_audit AFTER INSERT ON items FOR EACH ROW "
    "INSERT INTO audit VALUES (NEW.id)",
    "CREATE VIEW long_items AS SELECT id, body FROM items WHERE id > 1000",
    "CREATE FUNCTION item_count() RETURNS INT READS SQL DATA RETURN (SELECT COUNT(*) FROM items)",
    "CREATE PROCEDURE add_item(b VARCHAR(64)) INSERT INTO items (body) VALUES (b)",
]
TOC = [
    "FUNCTION item_count",
    "PROCEDURE add_item",
    "TABLE audit",
    "TABLE items",
    "TABLE notes",
    "TRIGGER items_audit",
    "VIEW long_items",
]
KEY = bytes(range(32))
SEED = 15


@dataclass
class Maria:
    name: str
    url: str
    dest: Path

    def connect(self, dbname: str | None = None) -> pymysql.Connection:
        where = urlsplit(MARIADB)
        return pymysql.connect(
            host=where.hostname or "127.0.0.1",
            port=where.port or 3306,
            user=USER,
            password=PASSWORD,
            database=dbname or self.name,
            charset="utf8mb4",
            autocommit=True,
            connect_timeout=5,
        )

    def sql(self, *statements: str, dbname: str | None = None) -> list[tuple]:
        """The statements in one session; the last one's rows."""
        with contextlib.closing(self.connect(dbname)) as conn, conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
            return list(cur.fetchall())

    def count(self, table: str = "items", dbname: str | None = None) -> int:
        return self.sql(f"SELECT COUNT(*) FROM `{table}`", dbname=dbname)[0][0]

    def databases(self) -> set[str]:
        pattern = self.name.replace("_", "\\_") + "%"
        rows = self.sql(
            f"SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '{pattern}'"
        )
        return {row[0] for row in rows}

    def objects(self, dbname: str | None = None) -> list[str]:
        from prodready.backup.mariadb import catalog_toc

        with contextlib.closing(self.connect(dbname)) as conn:
            return catalog_toc(conn, dbname or self.name)

    def fingerprint(self, dbname: str | None = None) -> tuple:
        """What the database holds: row counts, a digest of every item, and its objects."""
        rows = self.sql(
            "SELECT (SELECT COUNT(*) FROM items), (SELECT COUNT(*) FROM notes), "
            "(SELECT COUNT(*) FROM audit), (SELECT SUM(CRC32(CONCAT(id, ':', body))) FROM items)",
            dbname=dbname,
        )
        return (*rows[0], tuple(self.objects(dbname)))

    def args(self) -> list[str]:
        return ["--database", self.url, "--dest", str(self.dest), "--dir", str(self.dest.parent)]

    def states(self) -> dict[str, str]:
        from prodready.backup.store import Store

        return {e.id: e.state for e in Store(self.dest).entries()}


def _ensure_user(admin: pymysql.Connection) -> None:
    """The tests' user, made (or its password reset) idempotently: all privileges on the
    `bkm_%` databases and none beyond (no RELOAD, no PROCESS, no SUPER)."""
    with admin.cursor() as cur:
        cur.execute(f"CREATE USER IF NOT EXISTS '{USER}'@'%%' IDENTIFIED BY %s", (PASSWORD,))
        cur.execute(f"ALTER USER '{USER}'@'%%' IDENTIFIED BY %s", (PASSWORD,))
        cur.execute(f"GRANT ALL PRIVILEGES ON `{PREFIX}\\_%`.* TO '{USER}'@'%'")


@pytest.fixture
def maria(tmp_path: Path) -> Iterator[Maria]:
    """A fresh database: items (2000 rows) with a trigger filling audit, notes (3 rows), a view,
    a function and a procedure; dropped afterwards with every copy prodready made of it."""
    for tool in ("mariadb-dump", "mariadb"):
        if not shutil.which(tool):
            missing(tool, "not on PATH (Debian: mariadb-client)")
    admin = maria_admin()
    _ensure_user(admin)
    name = f"{PREFIX}_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    where = urlsplit(MARIADB)
    url = (
        f"mysql://{USER}:{quote(PASSWORD, safe='')}@{where.hostname or '127.0.0.1'}:"
        f"{where.port or 3306}/{name}"
    )
    app = tmp_path / "app"
    app.mkdir()
    made = Maria(name, url, app / "backups")
    try:
        made.sql(*SCHEMA)
        yield made
    finally:
        with admin.cursor() as cur:
            for db in made.databases():
                cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
        admin.close()


def backup_ok(prodready, maria: Maria, *extra: str, env: dict[str, str] | None = None) -> dict:
    done = prodready("backup", "--json", *maria.args(), *extra, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_backup_writes_a_verified_backup_with_its_manifest(prodready, maria):
    summary = backup_ok(prodready, maria)
    assert summary["verified"] is True, summary
    assert summary["verification"] == "restored; row counts and tables match"
    assert summary["rows"] == ROWS + 3 and summary["tables"] == 3
    folder = maria.dest / summary["id"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["engine"] == "mariadb"
    assert manifest["row_counts"] == {"audit": 0, "items": ROWS, "notes": 3}
    assert manifest["toc"] == TOC
    version = maria.sql("SELECT VERSION()")[0][0]
    assert manifest["server_version"] == version and "MariaDB" in version
    assert manifest["locale"]["charset"] == "utf8mb4"
    assert manifest["database"] == maria.name and manifest["source"].endswith(f"/{maria.name}")
    part = manifest["parts"][0]
    assert part["kind"] == "mariadb" and part["name"] == "db.sql"
    dump = folder / "db.sql"
    assert part["sha256"] == sha256_of(dump) and part["size"] == dump.stat().st_size
    assert dump.read_bytes().rstrip().splitlines()[-1].startswith(b"-- Dump completed")
    assert PASSWORD not in (folder / "manifest.json").read_text()
    assert json.loads((folder / "verification.json").read_text())["ok"] is True
    assert maria.databases() == {maria.name}  # the scratch database is gone
    assert not list(maria.dest.glob("*.partial"))


def test_no_verify_leaves_it_unverified_and_verify_latest_proves_it(prodready, maria):
    summary = backup_ok(prodready, maria, "--no-verify")
    assert summary["verified"] is None
    assert maria.states() == {summary["id"]: "unverified"}
    done = prodready("backup", "verify", "--latest", *maria.args())
    assert done.returncode == 0, done.stderr
    assert "verified: restored; row counts and tables match" in done.stdout
    assert maria.states() == {summary["id"]: "verified"}
    assert maria.databases() == {maria.name}


def test_restore_swaps_in_the_backup_keeps_the_old_data_and_undo_swaps_back(prodready, maria):
    backup_id = backup_ok(prodready, maria)["id"]
    backed_up = maria.fingerprint()
    maria.sql(
        "DELETE FROM items WHERE id > 500",
        "DROP VIEW long_items",
        "CREATE VIEW short_items AS SELECT id FROM items WHERE id <= 10",
        "DROP PROCEDURE add_item",
        "DROP TRIGGER items_audit",
        "CREATE TRIGGER items_audit_2 BEFORE INSERT ON items FOR EACH ROW SET NEW.body = 'x'",
    )
    changed = maria.fingerprint()
    flag = maria.dest.parent / "not-ready"
    done = prodready("restore", backup_id, *maria.args(), "--not-ready-file", flag,
                     "--not-ready-wait", "0")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "marked not-ready for" in done.stdout and not flag.exists()
    assert maria.fingerprint() == backed_up  # rows, views, routines and triggers
    previous = [name for name in maria.databases() if "_prev_" in name]
    assert len(previous) == 1 and f"kept as {previous[0]}" in done.stdout
    assert maria.fingerprint(previous[0]) == changed  # the old data, whole, is kept
    assert maria.databases() == {maria.name, previous[0]}  # the restored copy moved in
    # the restored objects work on the live tables: trigger, function, procedure, view
    maria.sql("CALL add_item('via the procedure')")
    assert maria.sql("SELECT item_count()")[0][0] == ROWS + 1
    assert maria.count("audit") == 1 and maria.count("long_items") == ROWS + 1 - 1000
    undone = prodready("restore", "--undo", *maria.args())
    assert undone.returncode == 0, undone.stderr
    assert maria.fingerprint() == changed
    kept = [name for name in maria.databases() if "_undone_" in name]
    assert len(kept) == 1 and maria.count(dbname=kept[0]) == ROWS + 1
    assert not [name for name in maria.databases() if "_prev_" in name]
    maria.sql("INSERT INTO items (body) VALUES ('after the undo')")  # items_audit_2 is back
    assert maria.sql("SELECT body FROM items ORDER BY id DESC LIMIT 1")[0][0] == "x"


def test_restore_ends_the_sessions_on_the_live_database(prodready, maria):
    backup_id = backup_ok(prodready, maria)["id"]
    session = maria.connect()
    with session.cursor() as cur:
        cur.execute("SELECT 1")
    done = prodready("restore", backup_id, *maria.args())
    assert done.returncode == 0, done.stderr
    with pytest.raises(pymysql.err.OperationalError), session.cursor() as cur:
        cur.execute("SELECT 1")
    session.close()


def test_a_swap_that_cannot_rename_puts_the_triggers_back_and_changes_nothing(prodready, maria):
    """A session outside the database (so not ended) keeps a transaction open on `notes`: the
    triggers are dropped, the RENAME TABLE waits for 10 s and gives up, the triggers are made
    again and nothing else changed (the live data, the restored and the previous databases)."""
    backup_id = backup_ok(prodready, maria)["id"]
    maria.sql("DELETE FROM items WHERE id > 500")
    live = maria.fingerprint()
    where = urlsplit(MARIADB)
    holder = pymysql.connect(host=where.hostname or "127.0.0.1", port=where.port or 3306,
                             user=USER, password=PASSWORD, autocommit=True)  # fmt: skip
    try:
        with holder.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute(f"SELECT COUNT(*) FROM `{maria.name}`.notes")
        done = prodready("restore", backup_id, *maria.args())
    finally:
        holder.close()
    assert done.returncode == 2, done.stderr
    assert "the tables could not be swapped (nothing changed): Lock wait timeout" in done.stderr
    assert maria.fingerprint() == live and maria.databases() == {maria.name}
    maria.sql("INSERT INTO items (body) VALUES ('the trigger is back')")
    assert maria.count("audit") == 1


@pytest.mark.parametrize("engine", ["InnoDB", "MyISAM"])
def test_counts_match_the_dump_while_the_app_writes(prodready, maria, engine):
    """A writer commits transactions that add one item (whose trigger adds one audit row) and
    one note, while backups run. In every consistent snapshot items - notes and items - audit
    are constant: the manifests keep both. The counts lie between the counts before and after
    each backup (the writes went on during it), and each backup's verification, a restore whose
    count(*) must equal the manifest's, passes: they are the rows in the dump. With a MyISAM
    table written too (no snapshots) the lock is held for the whole dump and the same holds.
    Last, the newest backup restored holds exactly its manifest's counts."""
    maria.sql(f"INSERT INTO items (body) SELECT MD5(seq) FROM seq_1_to_{50 * ROWS}")
    if engine == "MyISAM":
        maria.sql("CREATE TABLE hits (n INT) ENGINE=MyISAM")
    base_items, base_audit = maria.count(), maria.count("audit")
    stop = threading.Event()
    written = [0]

    def write() -> None:
        with contextlib.closing(maria.connect()) as conn, conn.cursor() as cur:
            while not stop.is_set():
                cur.execute("BEGIN")
                cur.execute("INSERT INTO items (body) VALUES ('during the backup')")
                cur.execute("INSERT INTO notes VALUES (0)")
                cur.execute("COMMIT")
                if engine == "MyISAM":
                    cur.execute("INSERT INTO hits VALUES (1)")
                written[0] += 1

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    manifests = []
    try:
        for _ in range(3):
            time.sleep(0.2)
            before = maria.count()
            summary = backup_ok(prodready, maria)
            after = maria.count()
            assert summary["verified"] is True, summary
            manifest = json.loads((Path(summary["path"]) / "manifest.json").read_text())
            counts = manifest["row_counts"]
            assert before < counts["items"] < after, (before, counts, after)
            assert counts["items"] - counts["notes"] == base_items - 3, counts
            assert counts["items"] - counts["audit"] == base_items - base_audit, counts
            manifests.append(manifest)
    finally:
        stop.set()
        writer.join(timeout=30)
    assert written[0] > 0
    last = manifests[-1]
    done = prodready("restore", last["id"], *maria.args())
    assert done.returncode == 0, done.stderr
    for table, rows in last["row_counts"].items():
        assert maria.count(table) == rows, table


def test_odd_names_and_sequences_are_dumped_read_back_and_swapped(prodready, maria):
    """Names with spaces, backquotes and dots in the table of contents and through the swap;
    a sequence, and a table whose default takes its NEXTVAL (which the load refused while the
    dump wrapped rows in LOCK TABLES)."""
    maria.sql(
        "CREATE TABLE `odd ``name``.x` (v INT) ENGINE=InnoDB",
        "INSERT INTO `odd ``name``.x` VALUES (1), (2)",
        "CREATE TRIGGER `trig ``1` BEFORE INSERT ON `odd ``name``.x` "
        "FOR EACH ROW BEGIN SET NEW.v = NEW.v * 10; END",
        "CREATE VIEW `view of ``odd``` AS SELECT v FROM `odd ``name``.x`",
        "CREATE VIEW `view of view` AS SELECT v FROM `view of ``odd```",
        "CREATE SEQUENCE `seq ``s`",
        "CREATE TABLE tickets (id BIGINT PRIMARY KEY DEFAULT NEXTVAL(`seq ``s`), v INT)",
        "INSERT INTO tickets (v) VALUES (1), (2)",
    )
    summary = backup_ok(prodready, maria)
    assert summary["verified"] is True, summary
    manifest = json.loads((Path(summary["path"]) / "manifest.json").read_text())
    for entry in (
        "TABLE odd `name`.x",
        "TRIGGER trig `1",
        "VIEW view of `odd`",
        "VIEW view of view",
        "SEQUENCE seq `s",
        "TABLE tickets",
    ):
        assert entry in manifest["toc"]
    assert manifest["row_counts"]["odd `name`.x"] == 2 and manifest["row_counts"]["tickets"] == 2
    maria.sql("DROP VIEW `view of view`", "DELETE FROM `odd ``name``.x`", "DELETE FROM tickets")
    done = prodready("restore", summary["id"], *maria.args())
    assert done.returncode == 0, done.stderr
    assert maria.objects() == manifest["toc"]
    maria.sql("INSERT INTO `odd ``name``.x` VALUES (3)", "INSERT INTO tickets (v) VALUES (3)")
    assert maria.sql("SELECT SUM(v) FROM `view of view`")[0][0] == 33
    assert maria.count("tickets") == 3


def test_encrypted_mariadb_backup_verify_and_restore(prodready, maria):
    summary = backup_ok(prodready, maria, env={"PRODREADY_BACKUP_KEY": KEY.hex()})
    assert summary["verified"] is True, summary
    folder = Path(summary["path"])
    assert sorted(p.name for p in folder.iterdir()) == [
        "db.sql.enc",
        "manifest.json",
        "verification.json",
    ]
    assert b"CREATE TABLE" not in (folder / "db.sql.enc").read_bytes()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["key_id"] and manifest["parts"][0]["encrypted"] is True
    maria.sql("DELETE FROM items WHERE id > 10")
    key_file = maria.dest.parent / "backup.key"
    key_file.write_text(KEY.hex() + "\n")
    no_key = {"PRODREADY_BACKUP_KEY": ""}
    done = prodready("restore", summary["id"], *maria.args(), env=no_key)
    assert done.returncode == 2 and "is encrypted" in done.stderr
    assert maria.count() == 10
    done = prodready("restore", summary["id"], *maria.args(), "--key-file", key_file, env=no_key)
    assert done.returncode == 0, done.stderr
    assert maria.count() == ROWS
    assert not list(folder.glob(".plain-*"))


def test_bad_input_is_one_line_and_exit_2(prodready, maria, tmp_path):
    backup_id = backup_ok(prodready, maria)["id"]
    where = urlsplit(MARIADB)
    host = where.hostname or "127.0.0.1"
    cases = [
        ("backup", "--database", f"mysql://{USER}@{host}:1/x", "--dest", str(tmp_path)),
        ("backup", "--database", f"mariadb+mariadbconnector://{host}:3306/", "--dest", str(tmp_path)),
        ("backup", "--database", "mysql://h:notaport/x", "--dest", str(tmp_path)),
        ("backup", "--database", "redis://127.0.0.1/0", "--dest", str(tmp_path)),
        ("restore", backup_id, "--database", "postgresql://postgres@127.0.0.1:1/x",
         "--dest", str(maria.dest)),
    ]  # fmt: skip
    for args in cases:
        done = prodready(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr, done.stderr
        assert "hint: " in done.stderr and len(done.stderr.strip().splitlines()) == 2
    assert "is of a MariaDB database" in done.stderr
    assert maria.count() == ROWS


def test_url_forms_reach_the_same_database(prodready, maria):
    """SQLAlchemy's and Django's forms of the URL name the same server and database."""
    for scheme in ("mariadb", "mysql+pymysql", "mysql+mysqldb", "mariadb+mariadbconnector"):
        url = re.sub(r"^mysql://", f"{scheme}://", maria.url)
        done = prodready("backup", "--json", "--no-verify", "--database", url,
                         "--dest", str(maria.dest), "--dir", str(maria.dest.parent))  # fmt: skip
        assert done.returncode == 0, (scheme, done.stderr)
        assert json.loads(done.stdout)["rows"] == ROWS + 3


def test_events_are_refused_with_a_clear_line(prodready, maria):
    maria.sql("CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM notes")
    done = prodready("backup", *maria.args())
    assert done.returncode == 2, done.stderr
    assert "1 event(s) (nightly): backups of MariaDB events are not built" in done.stderr
    assert maria.states() == {} and not list(maria.dest.glob("*.partial"))


# The fault cases: a non-zero exit, a clear message, the live database unchanged, no backup
# recorded as good.


def _clone(maria: Maria, backup_id: str, n: int) -> tuple[str, Path]:
    """A copy of a good backup under a new id, to break without touching the original."""
    clone = f"20000101T{n:06d}Z"
    shutil.copytree(maria.dest / backup_id, maria.dest / clone)
    (maria.dest / clone / "verification.json").unlink()
    return clone, maria.dest / clone / "db.sql"


def _try_broken(prodready, maria: Maria, case: str, clone: str, message: str) -> None:
    """verify must mark it failed; restore must refuse it before touching anything."""
    live = maria.fingerprint()
    good = {i for i, s in maria.states().items() if s == "verified"}
    done = prodready("backup", "verify", clone, *maria.args())
    result = outcome(f"mariadb {case} verify", done, maria, live, {clone}, good, message,
                     live_after=maria.fingerprint())  # fmt: skip
    assert_caught(result)
    assert done.returncode == 1 and maria.states()[clone] == "failed"
    done = prodready("restore", clone, *maria.args())
    result = outcome(f"mariadb {case} restore", done, maria, live, {clone}, good, message,
                     live_after=maria.fingerprint())  # fmt: skip
    assert_caught(result)
    assert done.returncode == 2
    assert maria.databases() == {maria.name}


def test_truncated_flipped_empty_and_deleted_dumps_are_caught(prodready, maria):
    backup_id = backup_ok(prodready, maria)["id"]
    size = (maria.dest / backup_id / "db.sql").stat().st_size
    rng = random.Random(SEED)
    for n, offset in enumerate(sorted(rng.sample(range(1, size), 6))):
        clone, dump = _clone(maria, backup_id, n)
        os.truncate(dump, offset)
        _try_broken(prodready, maria, f"truncate@{offset}", clone, "bytes, the manifest says")
    for n in range(10, 13):
        clone, dump = _clone(maria, backup_id, n)
        data = bytearray(dump.read_bytes())
        at = rng.randrange(len(data))
        data[at] ^= 0xFF
        dump.write_bytes(bytes(data))
        _try_broken(prodready, maria, f"flip@{at}", clone, "does not match its sha256")
    clone, dump = _clone(maria, backup_id, 20)
    dump.write_bytes(b"")
    _try_broken(prodready, maria, "empty dump", clone, "is 0 bytes")
    clone, dump = _clone(maria, backup_id, 21)
    dump.unlink()
    _try_broken(prodready, maria, "part deleted", clone, "is missing")
    assert maria.states()[backup_id] == "verified"


def _rewrite(maria: Maria, backup_id: str, n: int, change) -> str:  # type: ignore[no-untyped-def]
    """A clone whose dump `change` edits and whose manifest is made to match it again: what a
    dump written wrongly in the first place would look like (sizes and checksums agree)."""
    clone, dump = _clone(maria, backup_id, n)
    dump.write_bytes(change(dump.read_bytes()))
    path = maria.dest / clone / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["parts"][0].update(size=dump.stat().st_size, sha256=sha256_of(dump))
    path.write_text(json.dumps(manifest))
    return clone


def test_dumps_that_match_their_manifest_but_are_cut_or_wrong_are_caught(prodready, maria):
    """The checksums cannot help when the dump was written wrong: a dump cut in the middle
    (at a line end, so every statement in it is whole) lacks `-- Dump completed`; one with a
    statement the server refuses fails in the `mariadb` client (its exit code is checked); one
    that lost a row loads but counts one row less."""
    backup_id = backup_ok(prodready, maria)["id"]

    def cut(data: bytes) -> bytes:
        lines = data.splitlines(keepends=True)
        at = next(i for i, line in enumerate(lines) if line.startswith(b"-- Table structure"))
        return b"".join(lines[: at + len(lines[at:]) // 2])

    def cut_after_the_data(data: bytes) -> bytes:
        return data[: data.rindex(b"-- Dump completed")]

    def bad_statement(data: bytes) -> bytes:
        return data.replace(b"INSERT INTO `notes`", b"INSERT INTX `notes`", 1)

    def lost_row(data: bytes) -> bytes:
        return re.sub(rb"\n\(7,'[0-9a-f]+'\),", b"", data, count=1)

    cases = [
        (cut, "does not end with '-- Dump completed'"),
        (cut_after_the_data, "does not end with '-- Dump completed'"),
        (bad_statement, "mariadb exit 1: ERROR 1064"),
        (lost_row, "items has 1999 rows after the restore, the manifest says 2000"),
    ]
    for n, (change, message) in enumerate(cases):
        clone = _rewrite(maria, backup_id, 30 + n, change)
        live = maria.fingerprint()
        good = {i for i, s in maria.states().items() if s == "verified"}
        done = prodready("backup", "verify", clone, *maria.args())
        result = outcome(f"mariadb {change.__name__} verify", done, maria, live, {clone}, good,
                         message, live_after=maria.fingerprint())  # fmt: skip
        assert_caught(result)
        assert maria.states()[clone] == "failed"
        done = prodready("restore", clone, *maria.args())
        result = outcome(f"mariadb {change.__name__} restore", done, maria, live, {clone}, good,
                         message, live_after=maria.fingerprint())  # fmt: skip
        assert_caught(result)
        assert maria.databases() == {maria.name}, change.__name__


def _find_child(pid: int, name: str, timeout: float = 30) -> int:
    """The pid of `pid`'s child running `name`, stopped (SIGSTOP) the moment it is seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in children:
                try:
                    argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
                except OSError:
                    continue
                if Path(argv[0].decode()).name == name:
                    os.kill(int(child), signal.SIGSTOP)
                    return int(child)
        time.sleep(0.002)
    raise AssertionError(f"{name} never started under {pid}")


def _backup_process(maria: Maria) -> subprocess.Popen:
    return subprocess.Popen(
        [str(PRODREADY), "backup", *maria.args()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("victim", ["mariadb-dump", "prodready"])
def test_killed_dump_or_sigterm_records_nothing_and_leaves_no_lock(prodready, maria, victim):
    """mariadb-dump killed with SIGKILL mid-dump, or prodready stopped with SIGTERM: exit
    non-zero, nothing recorded, no .partial left, and the tables are not left locked."""
    maria.sql("INSERT INTO items (body) SELECT MD5(seq) FROM seq_1_to_200000")
    live = maria.fingerprint()
    proc = _backup_process(maria)
    dump = _find_child(proc.pid, "mariadb-dump")
    if victim == "mariadb-dump":
        os.kill(dump, signal.SIGKILL)
        message = "mariadb-dump killed by signal 9"
    else:
        proc.send_signal(signal.SIGTERM)
        message = "interrupted: no backup was recorded"
    out, err = proc.communicate(timeout=60)
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    result = outcome(f"mariadb kill {victim}", done, maria, live, set(), set(), message,
                     live_after=maria.fingerprint())  # fmt: skip
    assert_caught(result)
    assert done.returncode == (2 if victim == "mariadb-dump" else 130)
    assert maria.states() == {} and not list(maria.dest.glob("*.partial"))
    maria.sql("SET SESSION lock_wait_timeout = 5", "INSERT INTO notes VALUES (4)")  # not locked
    assert backup_ok(prodready, maria)["verified"] is True

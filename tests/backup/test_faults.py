"""The fault-injection suite (issue 15) against a real PostgreSQL: broken dumps, killed tools,
an old client, a full disk, two backups at once. Each case: a non-zero exit, a clear message,
the live database unchanged, no backup recorded as good."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from prodready.backup.store import Store
from tests.backup.conftest import PG, backup_ok
from tests.backup.faults import assert_caught, fingerprint, outcome
from tests.conftest import PRODREADY

SEED = 15
TRUNCATIONS = 20


def _clone(db, backup_id: str, n: int) -> tuple[str, Path]:
    """A copy of a good backup under a new id, to break without touching the original."""
    clone = f"20000101T{n:06d}Z"
    shutil.copytree(db.dest / backup_id, db.dest / clone)
    (db.dest / clone / "verification.json").unlink()
    return clone, db.dest / clone / "db.dump"


def _try_broken(prodready, db, case: str, backup_id: str, clone: str, message: str) -> None:
    """Both ways in: verify must mark it failed, restore must refuse before touching anything."""
    live = fingerprint(db)
    good = {i for i, s in db.states().items() if s == "verified"}
    done = prodready("backup", "verify", clone, *db.args())
    assert_caught(outcome(f"{case} verify", done, db, live, {clone}, good, message))
    assert db.states()[clone] == "failed"
    done = prodready("restore", clone, *db.args())
    assert_caught(outcome(f"{case} restore", done, db, live, {clone}, good, message))
    assert done.returncode == 2
    assert db.databases() == {db.name}


def test_truncated_dumps_at_20_offsets_are_caught(prodready, db):
    backup_id = backup_ok(prodready, db)["id"]
    size = (db.dest / backup_id / "db.dump").stat().st_size
    offsets = sorted(random.Random(SEED).sample(range(1, size), TRUNCATIONS))
    for n, offset in enumerate(offsets):
        clone, dump = _clone(db, backup_id, n)
        os.truncate(dump, offset)
        _try_broken(prodready, db, f"truncate@{offset}", backup_id, clone, "bytes, the manifest")


def test_flipped_bytes_empty_file_and_missing_part_are_caught(prodready, db):
    backup_id = backup_ok(prodready, db)["id"]
    dump = db.dest / backup_id / "db.dump"
    rng = random.Random(SEED)
    for n in range(5):
        clone, copy = _clone(db, backup_id, n)
        data = bytearray(copy.read_bytes())
        at = rng.randrange(len(data))
        data[at] ^= 0xFF
        copy.write_bytes(bytes(data))
        _try_broken(prodready, db, f"flip@{at}", backup_id, clone, "does not match its sha256")
    clone, copy = _clone(db, backup_id, 10)
    copy.write_bytes(b"")
    _try_broken(prodready, db, "empty dump", backup_id, clone, "is 0 bytes")
    clone, copy = _clone(db, backup_id, 11)
    copy.unlink()
    _try_broken(prodready, db, "part deleted", backup_id, clone, "is missing")
    assert dump.exists() and db.states()[backup_id] == "verified"


def test_killed_pg_dump_records_nothing(prodready, db):
    """pg_dump is held on a table lock another session keeps, then killed with SIGKILL."""
    import psycopg

    live = fingerprint(db)
    blocker = psycopg.connect(f"{PG}/{db.name}")
    blocker.execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
    proc = subprocess.Popen(
        [str(PRODREADY), "backup", *db.args()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pg_dump = _wait_for_child(proc.pid, "pg_dump")
        os.kill(pg_dump, signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
    finally:
        blocker.rollback()
        blocker.close()
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    assert_caught(outcome("kill pg_dump", done, db, live, set(), set(), "killed by signal 9"))
    assert done.returncode == 2
    assert db.states() == {} and not list(db.dest.glob("*.partial"))


def test_sigkill_during_backup_leaves_a_partial_that_the_next_backup_removes(prodready, db):
    """SIGKILL cannot be cleaned up after: the .partial directory stays, is never listed as a
    backup, and the next backup (holding the lock, so its maker is surely gone) removes it."""
    import psycopg

    live = fingerprint(db)
    blocker = psycopg.connect(f"{PG}/{db.name}")
    blocker.execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
    proc = subprocess.Popen(
        [str(PRODREADY), "backup", *db.args()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_child(proc.pid, "pg_dump")
        proc.kill()
        out, err = proc.communicate(timeout=60)
    finally:
        blocker.rollback()
        blocker.close()
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    assert_caught(outcome("SIGKILL backup", done, db, live, set(), set(), ""))
    assert db.states() == {} and len(list(db.dest.glob("*.partial"))) == 1
    backup_ok(prodready, db)
    assert not list(db.dest.glob("*.partial")) and len(db.states()) == 1


def test_sigterm_during_backup_leaves_nothing(prodready, db):
    import psycopg

    live = fingerprint(db)
    blocker = psycopg.connect(f"{PG}/{db.name}")
    blocker.execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
    proc = subprocess.Popen(
        [str(PRODREADY), "backup", *db.args()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_child(proc.pid, "pg_dump")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        blocker.rollback()
        blocker.close()
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    assert_caught(outcome("SIGTERM backup", done, db, live, set(), set(), "interrupted"))
    assert db.states() == {} and not list(db.dest.glob("*.partial"))


def test_client_older_than_the_server_is_refused(prodready, db, tmp_path):
    """A fake pg_dump first on PATH that reports 9.2: an older client cannot be installed here,
    and the refusal happens on the version it reports, before anything runs."""
    fake = tmp_path / "oldbin"
    fake.mkdir()
    script = fake / "pg_dump"
    script.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.2.24'\n")
    script.chmod(0o755)
    live = fingerprint(db)
    done = prodready("backup", *db.args(), env={"PATH": f"{fake}:{os.environ['PATH']}"})
    assert_caught(
        outcome("old client", done, db, live, set(), set(), "is older than the PostgreSQL")
    )
    assert done.returncode == 2 and "postgresql-client-" in done.stderr
    assert db.states() == {}


def test_two_backups_at_once(prodready, db):
    live = fingerprint(db)
    with Store(db.dest).lock():
        done = prodready("backup", *db.args())
    assert_caught(outcome("two at once", done, db, live, set(), set(), "another backup or restore"))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 2
    assert db.states() == {}


def test_full_destination_disk(prodready, db, tmp_path):
    db.sql("INSERT INTO items (body) SELECT md5(random()::text) FROM generate_series(1, 20000)")
    mount = tmp_path / "small"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot mount a small tmpfs under CI=true: {mounted.stderr}")
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        live = fingerprint(db)
        dest = mount / "backups"
        done = prodready("backup", "--database", db.url, "--dest", str(dest))
        assert_caught(outcome("disk full", done, db, live, set(), set(), "No space left"))
        assert done.returncode == 2 and "free space" in done.stderr
        assert Store(dest).entries() == [] and not list(dest.glob("*.partial"))
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_restore_killed_at_each_step_leaves_the_live_database_whole(prodready, db, sig):
    """Kills the restore after a growing delay until one run completes: every kill leaves the
    live database as it was or wholly restored (never half), and SIGTERM leaves no scratch
    database behind. The delay grows by a tenth of a whole restore timed here first: a fixed
    step (0.1 s) made only two kills when the restore took under 0.3 s."""
    backup_id = backup_ok(prodready, db)["id"]
    restored_state = fingerprint(db)
    whole = []  # the quicker of two, so one slow run cannot make the step too coarse
    for _ in range(2):
        db.sql("DELETE FROM items WHERE id > 1000")
        whole.append(_restore_seconds(db, backup_id))
        assert fingerprint(db) == restored_state
    step = min(whole) / 10
    db.sql("DELETE FROM items WHERE id > 1000")
    old_state = fingerprint(db)
    delay, kills = 0.0, 0
    while True:
        proc = _start_restore(db, backup_id)
        time.sleep(delay)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        now = fingerprint(db)
        if proc.returncode == 0 or now == restored_state:
            break
        kills += 1
        done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        message = "interrupted" if sig == signal.SIGTERM else ""
        result = outcome(
            f"kill restore {sig.name} at {delay:.2f}s",
            done,
            db,
            old_state,
            set(),
            {backup_id},
            message,
            live_after=now,
        )
        assert_caught(result)
        if sig == signal.SIGTERM:
            left = [d for d in db.databases() if "_restore_" in d]
            # A plain string, not a tuple: pytest prints it whole, with the watchdog's stack
            # dump of where the clean-up was stuck, when it is the reason.
            assert not left, f"scratch databases left: {left}\nstderr of the restore:\n{err}"
        delay += step
        assert kills < 100, "the restore never completed"
    assert now == restored_state and kills >= 3
    if sig == signal.SIGKILL:  # SIGKILL cannot clean up: drop what it left, then it still works
        for name in db.databases():
            if "_restore_" in name:
                db.sql(f'DROP DATABASE "{name}" WITH (FORCE)', "postgres")


def _start_restore(db, backup_id: str) -> subprocess.Popen:
    """`prodready restore`, returned once it holds the lock."""
    proc = subprocess.Popen(
        [str(PRODREADY), "restore", backup_id, *db.args()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_lock(db.dest / ".lock", proc)
    return proc


def _restore_seconds(db, backup_id: str) -> float:
    """How long a whole restore takes from the moment it holds the lock."""
    proc = _start_restore(db, backup_id)
    started = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return time.monotonic() - started


def _wait_for_lock(lock: Path, proc: subprocess.Popen) -> None:
    """Until `proc` holds the destination's lock: its work (and signal handling) has begun."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        if lock.exists() and lock.read_text().strip() == str(proc.pid):
            return
        time.sleep(0.01)


def _wait_for_child(pid: int, name: str, timeout: float = 30) -> int:
    """The pid of `pid`'s child process running `name` (found in /proc)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for task in Path(f"/proc/{pid}/task").iterdir():
            children = (task / "children").read_text().split()
            for child in children:
                try:
                    argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
                except OSError:
                    continue
                if Path(argv[0].decode()).name == name and b"--version" not in argv:
                    time.sleep(0.3)
                    return int(child)
        time.sleep(0.05)
    raise AssertionError(f"{name} never started under {pid}: {sys.argv}")


KEY = bytes(range(32))
OTHER = bytes(range(1, 33))


def _key_env(key: bytes | None) -> dict[str, str]:
    return {"PRODREADY_BACKUP_KEY": key.hex() if key else ""}


def test_wrong_or_missing_key_is_refused_and_the_backup_stays_good(prodready, db):
    done = prodready("backup", "--json", *db.args(), env=_key_env(KEY))
    assert done.returncode == 0, done.stderr
    backup_id = json.loads(done.stdout)["id"]
    live = fingerprint(db)
    good = {backup_id}
    for key, message in ((OTHER, "was encrypted with another key"), (None, "is encrypted")):
        done = prodready("restore", backup_id, *db.args(), env=_key_env(key))
        case = f"restore {'wrong' if key else 'no'} key"
        assert_caught(outcome(case, done, db, live, set(), good, message))
        assert done.returncode == 2
        done = prodready("backup", "verify", backup_id, *db.args(), env=_key_env(key))
        assert done.returncode == 2 and message in done.stderr
        assert db.states()[backup_id] == "verified"  # a wrong key is not the backup's fault


def test_damaged_encrypted_part_is_caught_with_the_right_key(prodready, db):
    backup_id = backup_ok(prodready, db)["id"]
    done = prodready("backup", "--json", "--no-verify", *db.args(), env=_key_env(KEY))
    sealed_id = json.loads(done.stdout)["id"]
    part = db.dest / sealed_id / "db.dump.enc"
    data = bytearray(part.read_bytes())
    data[100] ^= 0xFF
    part.write_bytes(bytes(data))
    live = fingerprint(db)
    good = {backup_id}
    done = prodready("restore", sealed_id, *db.args(), env=_key_env(KEY))
    message = "does not match its sha256"
    assert_caught(outcome("encrypted flip", done, db, live, {sealed_id}, good, message))
    done = prodready("backup", "verify", sealed_id, *db.args(), env=_key_env(KEY))
    assert done.returncode == 1 and db.states()[sealed_id] == "failed"


def test_a_clean_up_that_hangs_after_sigterm_still_ends_the_process():
    """A clean-up stuck on a lock (an exception raised by the signal handler between a lock's
    acquisition and its `with`) is ended by the watchdog SIGTERM starts, with exit 130."""
    code = (
        "import os, signal, threading, time\n"
        "import prodready.cli.backup as cli\n"
        "cli.CLEANUP_LIMIT_S = 0.5\n"
        "stuck = threading.Lock()\n"
        "stuck.acquire()\n"
        "with cli._interruptible('the live database was not replaced'):\n"
        "    try:\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "        time.sleep(30)\n"
        "    finally:\n"
        "        stuck.acquire()  # never released: the clean-up waits for ever\n"
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.returncode == 130, done.stderr
    assert time.monotonic() - started < 25
    lines = done.stderr.splitlines()
    assert lines[0] == (
        "error: interrupted: the clean-up did not end within 0.5 s: "
        "the live database was not replaced"
    )
    assert 'File "<string>", line 11' in done.stderr  # where the clean-up hung


def test_the_watchdog_ends_with_the_work_and_sigterm_gets_its_handler_back():
    """No SIGTERM: the watchdog thread ends with the work, and a later SIGTERM finds the handler
    that was there before (not one that writes to the watchdog's closed pipe)."""
    import prodready.cli.backup as cli

    before = signal.getsignal(signal.SIGTERM)
    threads = set(threading.enumerate())
    with cli._interruptible("nothing"):
        assert signal.getsignal(signal.SIGTERM) is not before
        assert len(set(threading.enumerate()) - threads) == 1
    assert signal.getsignal(signal.SIGTERM) is before
    deadline = time.monotonic() + 5
    while set(threading.enumerate()) - threads and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not set(threading.enumerate()) - threads


def test_an_interrupted_tool_is_reaped_even_when_popen_s_lock_is_left_held():
    """SIGTERM's KeyboardInterrupt can land just after Popen.wait acquired its waitpid lock and
    before the `try` that releases it: the tool is still killed and reaped, without waiting on
    that lock (Popen.wait would wait for ever)."""
    from prodready.backup.tools import _kill_and_reap

    proc = subprocess.Popen(["sleep", "30"])
    assert proc._waitpid_lock.acquire(False)  # the state the interruption leaves
    reaper = threading.Thread(target=_kill_and_reap, args=(proc,), daemon=True)
    reaper.start()
    reaper.join(timeout=10)
    assert not reaper.is_alive(), "the clean-up waited on Popen's lock"
    assert proc.returncode == -signal.SIGKILL
    with pytest.raises(ChildProcessError):
        os.waitpid(proc.pid, os.WNOHANG)  # reaped: no zombie left


def test_sigterm_as_a_tool_starts_still_stops_the_tool():
    """SIGTERM delivered just as Popen returns the tool, before run_tool's try owns it (the
    test_killed_dump_or_sigterm race that left a mariadb-dump behind): the interrupt is held
    until the try, whose clean-up kills the tool; the command exits 130."""
    code = (
        "import os, signal, subprocess, sys\n"
        "import prodready.cli.backup as cli\n"
        "from prodready.backup.tools import run_tool\n"
        "real_popen = subprocess.Popen\n"
        "def popen_then_sigterm(*args, **kwargs):\n"
        "    proc = real_popen(*args, **kwargs)\n"
        "    print(proc.pid, flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGTERM)  # handled before the caller gets proc\n"
        "    return proc\n"
        "subprocess.Popen = popen_then_sigterm\n"
        "try:\n"
        "    with cli._interruptible('nothing was recorded'):\n"
        "        run_tool(['sleep', '30'], dict(os.environ), 'sleeping')\n"
        "except cli.typer.Exit as stop:\n"
        "    sys.exit(stop.exit_code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip() == "error: interrupted: nothing was recorded", done.stderr
    tool = int(done.stdout.split()[0])
    assert not Path(f"/proc/{tool}").exists(), "the tool outlived the interrupted command"

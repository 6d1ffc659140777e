"""The fault-injection suite's bookkeeping: every case checks the same four things (a non-zero
exit, a clear message, the live database unchanged, no backup recorded as good) and, when
`PRODREADY_FAULT_LOG` names a file, appends its outcome there as one JSON line so the benchmark
can count them (`faults_tried`, `faults_caught`, `live_db_changed`, `bad_backups_recorded`)."""

from __future__ import annotations

import json
import os
import subprocess

from tests.backup.conftest import Db


def fingerprint(db: Db, dbname: str | None = None) -> tuple:
    """What the live database holds: row counts and a digest of every row."""
    return tuple(
        db.sql(
            "SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM notes), "
            "(SELECT md5(string_agg(id::text || body, ',' ORDER BY id)) FROM items)",
            dbname,
        )[0]
    )


def outcome(
    case: str,
    done: subprocess.CompletedProcess[str],
    db: Db,
    live_before: tuple,
    bad_ids: set[str],
    good_before: set[str],
    message: str,
    live_after: tuple | None = None,
) -> dict:
    """Records and returns the case's outcome; the caller asserts on it."""
    states = db.states()
    good_now = {i for i, state in states.items() if state == "verified"}
    result = {
        "case": case,
        "exit": done.returncode,
        "caught": done.returncode != 0
        and message in (done.stderr + done.stdout)
        and "Traceback" not in done.stderr,
        "live_db_changed": int((live_after or fingerprint(db)) != live_before),
        "bad_backups_recorded": len((good_now - good_before) | (good_now & bad_ids)),
        "stderr": done.stderr.strip().splitlines()[:2],
    }
    log = os.environ.get("PRODREADY_FAULT_LOG")
    if log:
        with open(log, "a") as out:
            out.write(json.dumps(result) + "\n")
    return result


def assert_caught(result: dict) -> None:
    assert result["caught"], result
    assert result["live_db_changed"] == 0, result
    assert result["bad_backups_recorded"] == 0, result

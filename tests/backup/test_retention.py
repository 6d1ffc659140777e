"""GFS retention: the plan over many days of backups, and `backup prune` on real folders."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prodready.backup.retention import Policy, plan
from prodready.backup.store import Entry
from tests.backup.conftest import backup_ok


def _entries(days: int, state_of=lambda i: "verified") -> list[Entry]:
    start = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
    return [
        Entry(
            (start + timedelta(days=i)).strftime("%Y%m%dT%H%M%SZ"),
            Path("."),
            state_of(i),
            None,
            None,
        )
        for i in range(days)
    ]


def test_gfs_keeps_days_weeks_and_months():
    decisions = plan(_entries(200), Policy(daily=7, weekly=4, monthly=6))
    kept = [d.entry.id for d in decisions if d.keep]
    # 7 days, then the newest of 4 weeks (3 of them new) and of 6 months (5 of them new)
    assert kept[-7:] == [d.entry.id for d in decisions][-7:]
    assert len(kept) == 7 + 3 + 5, kept
    assert {d.entry.id[:6] for d in decisions if d.keep and "monthly" in d.why} == {
        "202607",
        "202606",
        "202605",
        "202604",
        "202603",
        "202602",
    }


def test_failed_and_unverified_never_fill_a_slot_and_the_newest_verified_stays():
    # the last 10 days failed: the 7 daily slots go to older verified ones
    entries = _entries(30, lambda i: "failed" if i >= 20 else "verified")
    decisions = {d.entry.id: d for d in plan(entries, Policy(daily=7, weekly=0, monthly=0))}
    kept_good = [i for i, d in decisions.items() if d.keep and d.entry.state == "verified"]
    assert len(kept_good) == 7 and max(kept_good) == entries[19].id
    # failed ones newer than the newest verified stay (for a look), older ones would go
    assert all(decisions[e.id].keep for e in entries[20:])
    # keep nothing at all: the newest verified one still stays; unverified ones never go
    entries = _entries(5, lambda i: "unverified" if i == 0 else "verified")
    decisions = plan(entries, Policy(daily=0, weekly=0, monthly=0))
    assert [d.keep for d in decisions] == [True, False, False, False, True]
    assert decisions[-1].why == "newest verified"


def test_prune_dry_run_lists_and_keeps_then_prune_deletes(prodready, db):
    first = backup_ok(prodready, db)["id"]
    # three older verified copies, one day apart each
    for days in (1, 2, 3):
        when = datetime.strptime(first, "%Y%m%dT%H%M%SZ") - timedelta(days=days)
        shutil.copytree(db.dest / first, db.dest / when.strftime("%Y%m%dT%H%M%SZ"))
    args = ["--dest", str(db.dest), "--dir", str(db.dest.parent)]
    policy = ["--keep-daily", "2", "--keep-weekly", "0", "--keep-monthly", "0"]
    done = prodready("backup", "prune", *policy, "--dry-run", "--json", *args)
    assert done.returncode == 0, done.stderr
    gone = [row["id"] for row in json.loads(done.stdout) if not row["keep"]]
    assert len(gone) == 2 and len(db.states()) == 4
    done = prodready("backup", "prune", *policy, *args)
    assert done.returncode == 0, done.stderr
    assert "deleted 2 of 4 backups" in done.stdout
    assert sorted(db.states()) == sorted(set(db.states()) - set(gone)) and first in db.states()
    assert not list(db.dest.glob(".deleting-*"))

"""GFS retention: keep the newest verified backup of each of the last N days, weeks and months.

Only verified backups fill the slots, so a run of failed or unverified backups can never push
the last good one out; the newest verified backup is kept whatever the policy says. Unverified
backups are never deleted (verify them first); failed and incomplete ones are deleted once a
newer verified backup exists."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from prodready.backup.config import BackupConfig
from prodready.backup.store import Entry, Store


@dataclass(frozen=True)
class Policy:
    daily: int = 7
    weekly: int = 4
    monthly: int = 6


def policy_of(
    config: BackupConfig, daily: int | None, weekly: int | None, monthly: int | None
) -> Policy:
    """Flags first, then the config's keep-*, then the defaults."""
    default = Policy()

    def pick(flag: int | None, configured: int | None, fallback: int) -> int:
        return flag if flag is not None else configured if configured is not None else fallback

    return Policy(
        daily=pick(daily, config.keep_daily, default.daily),
        weekly=pick(weekly, config.keep_weekly, default.weekly),
        monthly=pick(monthly, config.keep_monthly, default.monthly),
    )


@dataclass(frozen=True)
class Decision:
    entry: Entry
    keep: bool
    why: str


def taken_at(entry: Entry) -> datetime:
    return datetime.strptime(entry.id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


PERIODS: list[tuple[str, Callable[[datetime], tuple[int, ...]]]] = [
    ("daily", lambda t: (t.year, t.month, t.day)),
    ("weekly", lambda t: tuple(t.isocalendar()[:2])),
    ("monthly", lambda t: (t.year, t.month)),
]


def plan(entries: list[Entry], policy: Policy) -> list[Decision]:
    """What to keep and what to delete, and why, oldest first."""
    verified = sorted((e for e in entries if e.good), key=lambda e: e.id, reverse=True)
    reasons: dict[str, list[str]] = {}
    if verified:
        reasons[verified[0].id] = ["newest verified"]
    for name, period_of in PERIODS:
        limit = getattr(policy, name)
        seen: list[tuple[int, ...]] = []
        for entry in verified:  # newest first: the newest of each period fills its slot
            period = period_of(taken_at(entry))
            if period in seen:
                continue
            if len(seen) >= limit:
                break
            seen.append(period)
            reasons.setdefault(entry.id, []).append(name)
    newest_good = verified[0].id if verified else None
    decisions = []
    for entry in sorted(entries, key=lambda e: e.id):
        if entry.id in reasons:
            decisions.append(Decision(entry, True, ", ".join(reasons[entry.id])))
        elif entry.state == "unverified":
            decisions.append(Decision(entry, True, "unverified: verify it first"))
        elif entry.state in ("failed", "incomplete"):
            if newest_good and entry.id < newest_good:
                decisions.append(Decision(entry, False, f"{entry.state}, older than {newest_good}"))
            else:
                decisions.append(Decision(entry, True, f"{entry.state}, newer than any verified"))
        else:
            decisions.append(Decision(entry, False, "outside the daily, weekly and monthly slots"))
    return decisions


def apply(store: Store, decisions: list[Decision]) -> None:
    """Deletes what the plan drops: renamed first, so a half-deleted backup never looks like
    one. The caller holds the store's lock."""
    for decision in decisions:
        if decision.keep:
            continue
        doomed = store.root / f".deleting-{decision.entry.id}"
        os.rename(decision.entry.path, doomed)
        shutil.rmtree(doomed)

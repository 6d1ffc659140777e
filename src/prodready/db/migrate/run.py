"""One migration from start to proof: open both ends, plan, create or check the schema, copy
every table in resumable batches, add constraints and set sequences, drop the state, verify."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from prodready.db.migrate import state
from prodready.db.migrate.copy import (
    BATCH_ROWS,
    LossyRow,
    Rejects,
    Reporter,
    copy_table,
    use_json_text,
)
from prodready.db.migrate.endpoints import connect_postgres, open_sqlite, postgres_url
from prodready.db.migrate.plan import MigrationPlan, build_plan
from prodready.db.migrate.schema import add_constraints, create_tables, set_sequences
from prodready.db.migrate.sql import column_list, quote
from prodready.db.migrate.verify import Verdict, verify
from prodready.errors import InputError, UserError


class LossyStop(UserError):
    """A value the plan's cast cannot keep: the run stopped, resumable."""


@dataclass(frozen=True)
class Options:
    plan_only: bool = False
    resume: bool = False
    truncate: bool = False
    verify: bool = True
    reject_file: Path | None = None
    """Where `--on-error skip` logs rows it skips; None stops at the first lossy row."""
    batch_rows: int = BATCH_ROWS


@dataclass
class Outcome:
    plan: MigrationPlan
    verdict: Verdict | None = None
    rejected: int = 0
    seconds: float = 0.0
    resumed: bool = False


class _Silent:
    def table(self, name: str, total: int, done: int) -> None: ...
    def advance(self, rows: int) -> None: ...
    def table_done(self) -> None: ...


def migrate(
    source_url: str, target_url: str, options: Options, reporter: Reporter | None = None
) -> Outcome:
    started = time.monotonic()
    reporter = reporter or _Silent()
    postgres_url(target_url)
    source = open_sqlite(source_url)
    target = connect_postgres(target_url)
    # A batch and its state row commit together, so a server crash that loses the last
    # commits loses both: a rerun redoes them. No need to wait for each one's WAL flush.
    target.execute("SET synchronous_commit = off")
    target.commit()
    use_json_text(target)
    try:
        resumed = state.exists(target)
        if resumed and not options.resume and not options.plan_only:
            raise InputError(
                "the target holds an unfinished migration (table prodready_migrate)",
                "add --resume to continue it where it stopped",
            )
        plan = build_plan(source, target, state.mode(target) if resumed else None)
        outcome = Outcome(plan, resumed=resumed)
        if options.plan_only:
            return outcome
        if not resumed:
            _prepare(target, plan, options.truncate)
        outcome.rejected = _load(source, target, plan, options, reporter)
        if plan.mode == "schema":
            add_constraints(target, plan)
        set_sequences(target, [t.name for t in plan.tables])
        state.drop(target)
        if options.verify:
            outcome.verdict = verify(source, target, plan)
        outcome.seconds = time.monotonic() - started
        return outcome
    finally:
        target.close()
        source.close()


def _prepare(target: psycopg.Connection, plan: MigrationPlan, truncate: bool) -> None:
    """The schema (schema mode) or the emptied tables (data mode) and the state table, in one
    transaction: either all of it is there, or nothing is."""
    names = [t.name for t in plan.tables]
    if plan.mode == "schema":
        create_tables(target, plan)
    else:
        filled = [
            n
            for n in names
            if target.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(n)})").fetchone()[0]
        ]
        if filled and not truncate:
            target.rollback()
            shown = ", ".join(filled[:5]) + (
                f" and {len(filled) - 5} more" if len(filled) > 5 else ""
            )
            raise InputError(
                f"the target's tables are not empty: {shown}",
                "add --truncate to replace their rows (the rows the app's own migrations "
                "wrote, such as Django's content types, come from the SQLite file instead)",
            )
        if filled:
            try:
                target.execute(f"TRUNCATE {column_list(names)} RESTART IDENTITY")
            except psycopg.errors.FeatureNotSupported as error:
                target.rollback()
                raise InputError(
                    f"cannot truncate: {str(error).splitlines()[0]}",
                    "another table refers to these; empty it first",
                ) from None
    state.create(target, plan.mode, names)
    target.commit()


def _load(
    source, target: psycopg.Connection, plan: MigrationPlan, options: Options, reporter: Reporter
) -> int:
    done = state.load(target)
    rejects = Rejects(options.reject_file)
    try:
        for table in plan.tables:
            if done[table.name].finished:
                continue
            try:
                copy_table(
                    source, target, table, done[table.name], rejects, reporter, options.batch_rows
                )
            except LossyRow as problem:
                target.rollback()
                raise LossyStop(
                    str(problem),
                    "fix the value in the SQLite file and rerun with --resume, or rerun with "
                    "--resume --on-error skip to log such rows to a reject file and go on",
                ) from None
    finally:
        rejects.close()
    return rejects.count

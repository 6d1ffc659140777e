"""One migration from start to proof: open both ends, plan, create or check the schema, copy
every table in resumable batches, add constraints and set sequences, drop the state, verify."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from prodready.db.migrate import state
from prodready.db.migrate.copy import (
    BATCH_ROWS,
    LossyRow,
    Rejects,
    Reporter,
    SilentReporter,
    copy_table,
    prepare_session,
)
from prodready.db.migrate.endpoints import connect_postgres, open_source, postgres_url
from prodready.db.migrate.mysql_source import Source
from prodready.db.migrate.parallel import copy_tables_in_parallel
from prodready.db.migrate.plan import MigrationPlan, build_plan
from prodready.db.migrate.schema import add_constraints, create_tables, set_sequences
from prodready.db.migrate.sql import column_list, quote
from prodready.db.migrate.verify import Verdict, verify
from prodready.errors import InputError, UserError


class LossyStop(UserError):
    """The run stopped on the data (a value the plan's cast cannot keep, or one PostgreSQL
    refused): exit 1, resumable."""


@dataclass(frozen=True)
class Options:
    plan_only: bool = False
    resume: bool = False
    truncate: bool = False
    verify: bool = True
    reject_file: Path | None = None
    """Where `--on-error skip` logs rows it skips; None stops at the first lossy row."""
    batch_rows: int = BATCH_ROWS
    jobs: int = 1
    """Tables copied at once (schema mode only; see parallel.py)."""


@dataclass
class Outcome:
    plan: MigrationPlan
    verdict: Verdict | None = None
    rejected: int = 0
    seconds: float = 0.0
    resumed: bool = False
    warnings: list[str] = field(default_factory=list)


def migrate(
    source_url: str, target_url: str, options: Options, reporter: Reporter | None = None
) -> Outcome:
    started = time.monotonic()
    reporter = reporter or SilentReporter()
    postgres_url(target_url)
    source = open_source(source_url)
    target = connect_postgres(target_url)
    prepare_session(target)
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
        outcome.rejected = _load(source_url, target_url, source, target, plan, options, reporter)
        if plan.mode == "schema":
            outcome.warnings = add_constraints(target, plan)
        set_sequences(target, [t.name for t in plan.tables])
        state.drop(target)
        if options.verify:
            outcome.verdict = verify(source, target, plan)
        outcome.seconds = time.monotonic() - started
        return outcome
    except psycopg.Error as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise LossyStop(
            f"PostgreSQL refused the migration: {first}",
            "what was committed is kept with its state: fix the cause and rerun with --resume",
        ) from None
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
    source_url: str,
    target_url: str,
    source: Source,
    target: psycopg.Connection,
    plan: MigrationPlan,
    options: Options,
    reporter: Reporter,
) -> int:
    """Copies every unfinished table; the rows rejected. A lossy value becomes LossyStop."""
    done = state.load(target)
    unfinished = [t for t in plan.tables if not done[t.name].finished]
    try:
        if options.jobs > 1 and plan.mode == "schema" and len(unfinished) > 1:
            return copy_tables_in_parallel(
                source_url,
                target_url,
                target,
                plan,
                options.jobs,
                options.reject_file,
                options.batch_rows,
                reporter,
            )
        rejects = Rejects(options.reject_file)
        try:
            for table in unfinished:
                copy_table(
                    source, target, table, done[table.name], rejects, reporter, options.batch_rows
                )
        finally:
            rejects.close()
        return rejects.count
    except LossyRow as problem:
        target.rollback()
        raise LossyStop(
            str(problem),
            "fix the value in the source and rerun with --resume, or rerun with "
            "--resume --on-error skip to log such rows to a reject file and go on",
        ) from None

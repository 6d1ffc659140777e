"""Several tables at once, each copied by a worker process of its own (the casts are Python
and hold the GIL, so threads would take turns). Only when the schema is prodready's: its
foreign keys are added after the load, so tables do not wait for their parents; the app's own
schema enforces them during the load, and its tables go one by one in dependency order.

Workers commit batches into the same `prodready_migrate` state as a serial run, so a run killed
with several tables half done resumes each where it stopped; the main process shows progress
from that state."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from pathlib import Path

import psycopg

from prodready.db.migrate import state
from prodready.db.migrate.copy import (
    Rejects,
    Reporter,
    SilentReporter,
    copy_table,
    prepare_session,
)
from prodready.db.migrate.endpoints import connect_postgres, open_source
from prodready.db.migrate.plan import MigrationPlan, TablePlan

POLL_S = 0.3


def copy_in_worker(
    source_url: str,
    target_url: str,
    table: TablePlan,
    done: state.TableState,
    reject_file: Path | None,
    batch_rows: int,
) -> int:
    """One table, in a worker process; the rows it rejected."""
    source = open_source(source_url)
    target = connect_postgres(target_url)
    prepare_session(target)
    rejects = Rejects(reject_file)
    try:
        copy_table(source, target, table, done, rejects, SilentReporter(), batch_rows)
    finally:
        rejects.close()
        target.close()
        source.close()
    return rejects.count


def copy_tables_in_parallel(
    source_url: str,
    target_url: str,
    target: psycopg.Connection,
    plan: MigrationPlan,
    jobs: int,
    reject_file: Path | None,
    batch_rows: int,
    board: Reporter,
) -> int:
    """The unfinished tables of `plan`, biggest first, `jobs` at a time; the rows rejected.
    The first failure (a lossy value) cancels the tables not started and is raised once the
    running ones have finished: all of it is in the state, ready for --resume."""
    states = state.load(target)
    todo = sorted((t for t in plan.tables if not states[t.name].finished), key=lambda t: -t.rows)
    context = multiprocessing.get_context("spawn")
    rejected = 0
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures: dict[Future[int], TablePlan] = {
            pool.submit(
                copy_in_worker,
                source_url,
                target_url,
                table,
                states[table.name],
                reject_file,
                batch_rows,
            ): table
            for table in todo
        }
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=POLL_S, return_when=FIRST_EXCEPTION)
            _show(target, plan, board)
            for future in finished:
                if future.exception() is not None:
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise future.exception()  # type: ignore[misc]
                rejected += future.result()
    _show(target, plan, board)
    return rejected


def _show(target: psycopg.Connection, plan: MigrationPlan, board: Reporter) -> None:
    states = state.load(target)
    target.commit()
    for table in plan.tables:
        board.show(table.name, table.rows, states[table.name].rows)

"""`prodready db migrate SOURCE TARGET` (SQLite or MariaDB/MySQL → PostgreSQL, verified) and
`prodready db pool` (connection pool sizes from the server's real limits)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from prodready.errors import EXIT_FINDINGS, EXIT_INTERRUPTED, AppNotFoundError, UsageError

db_app = typer.Typer(help="Move the app's database to PostgreSQL; size connection pools.")
JsonOpt = Annotated[bool, typer.Option("--json", help="A JSON summary on stdout.")]


@db_app.command("migrate")
def migrate(
    source: Annotated[
        str,
        typer.Argument(
            help="sqlite:///path/db.sqlite3, a file path, or mysql://user:password@host/dbname."
        ),
    ],
    target: Annotated[str, typer.Argument(help="postgresql://user:password@host/dbname")],
    plan_only: Annotated[
        bool, typer.Option("--plan", help="Print the mapping and casts; change nothing.")
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted migration.")
    ] = False,
    truncate: Annotated[
        bool,
        typer.Option("--truncate", help="Empty the target's tables first (app schema mode)."),
    ] = False,
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Compare every row afterwards.")
    ] = True,
    on_error: Annotated[
        str,
        typer.Option(
            "--on-error", help="stop at a value that cannot be kept, or skip its row and log it."
        ),
    ] = "stop",
    reject_file: Annotated[
        Path | None,
        typer.Option("--reject-file", help="Rows skipped by --on-error skip (JSON lines)."),
    ] = None,
    batch_rows: Annotated[
        int, typer.Option("--batch-rows", min=1, help="Rows per COPY batch and resume step.")
    ] = 10_000,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            help="Tables copied at once, each by a process of its own (schema mode); helps "
            "when CPUs are free.",
        ),
    ] = 1,
    as_json: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
) -> None:
    """Copy a SQLite or MariaDB/MySQL database into PostgreSQL: types mapped per column, rows
    streamed with COPY in resumable batches, then every row verified by hash."""
    from prodready.db.migrate.progress import TableProgress
    from prodready.db.migrate.run import LossyStop, Options
    from prodready.db.migrate.run import migrate as run_migration

    if on_error not in ("stop", "skip"):
        raise UsageError(f"--on-error {on_error}: not stop or skip", "--on-error skip")
    if resume and truncate:
        raise UsageError("--resume and --truncate together", "pick one")
    rejects = None
    if on_error == "skip":
        rejects = reject_file or Path("prodready-migrate-rejects.jsonl")
    options = Options(plan_only, resume, truncate, verify, rejects, batch_rows, jobs)
    progress = TableProgress.auto(quiet or as_json or plan_only)
    try:
        outcome = run_migration(source, target, options, progress)
    except LossyStop as error:
        progress.stop()
        sys.stderr.write(f"error: {error.message}\nhint: {error.hint}\n")
        raise typer.Exit(EXIT_FINDINGS) from None
    except KeyboardInterrupt:
        progress.stop()
        sys.stderr.write(
            "interrupted: the target keeps the batches committed so far and their state; "
            "rerun with --resume to continue\n"
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        progress.stop()
    from prodready.db.migrate import report

    if as_json:
        typer.echo(json.dumps(report.summary(outcome, rejects)))
    elif plan_only:
        typer.echo(report.plan_text(outcome.plan))
    else:
        typer.echo(report.result_text(outcome, rejects))
    if outcome.verdict is not None and not outcome.verdict.ok:
        if not as_json:
            for line in outcome.verdict.differences():
                sys.stderr.write(f"difference: {line}\n")
        raise typer.Exit(EXIT_FINDINGS)


@db_app.command("pool")
def pool(
    directory: Annotated[Path, typer.Argument(help="The app's folder.", file_okay=False)] = Path(
        "."
    ),
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="The production PostgreSQL to read limits from. [$DATABASE_URL, else the "
            "app's production env file]",
        ),
    ] = None,
    other_clients: Annotated[
        str | None,
        typer.Option("--other-clients", help="Other programs' connections: celery=8,cron=2"),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Processes, instead of the plan's.")
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option("--threads", min=1, help="Threads per process, instead of the plan's."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Per-process pool settings (SQLAlchemy, Django, psycopg_pool) from the server's real
    max_connections, the serve plan's processes and threads, and the other clients. Exit 1
    when the app's own pool settings cannot fit."""
    import os

    from prodready.db.pool import Concurrency, advice_text, advise, parse_other_clients, read_limits
    from prodready.project import detect
    from prodready.project.databases import database_urls
    from prodready.project.pool import per_process_connections, production_pools
    from prodready.serve.plan import Overrides, compute_plan

    others = parse_other_clients(other_clients)
    project = detect(directory)
    url = database_url or os.environ.get("DATABASE_URL")
    if url is None:
        found = [d for d in database_urls(project) if d.kind == "postgresql"]
        if not found:
            raise UsageError(
                "no PostgreSQL URL to read the limits from",
                "give --database-url postgresql://user@host/db (the production server)",
            )
        url = found[0].url
    if workers is not None and threads is not None:
        concurrency = Concurrency(workers, threads, "given")
    else:
        try:
            plan = compute_plan(project, overrides=Overrides(workers=workers, threads=threads))
        except AppNotFoundError as error:
            raise AppNotFoundError(
                error.message, "run it in the app's folder, or give --workers and --threads"
            ) from None
        settings = {s.name: s for s in plan.settings}
        plan_threads = settings["threads"].value if "threads" in settings else None
        said_by = "the serve plan" if workers is None and threads is None else "given"
        concurrency = Concurrency(settings["workers"].value, plan_threads, said_by)
    pools = production_pools(project)
    current = per_process_connections(pools) if pools else None
    limits = read_limits(url)
    advice = advise(limits, concurrency, others, current)
    if as_json:
        typer.echo(json.dumps(advice.to_json()))
    else:
        typer.echo(advice_text(advice, limits, project.framework))
    if advice.current_overflows:
        raise typer.Exit(EXIT_FINDINGS)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")

"""`prodready db migrate SOURCE TARGET` (SQLite → PostgreSQL, verified) and `prodready db pool`
(connection pool sizes from the server's real limits)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from prodready.errors import EXIT_FINDINGS, UsageError

db_app = typer.Typer(help="Move the app's database to PostgreSQL; size connection pools.")
JsonOpt = Annotated[bool, typer.Option("--json", help="A JSON summary on stdout.")]


@db_app.command("migrate")
def migrate(
    source: Annotated[str, typer.Argument(help="sqlite:///path/db.sqlite3 or a file path.")],
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
    ] = 5000,
    as_json: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
) -> None:
    """Copy a SQLite database into PostgreSQL: types mapped per column, rows streamed with
    COPY in resumable batches, then every row verified by hash."""
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
    options = Options(plan_only, resume, truncate, verify, rejects, batch_rows)
    progress = TableProgress.auto(quiet or as_json or plan_only)
    try:
        outcome = run_migration(source, target, options, progress)
    except LossyStop as error:
        progress.stop()
        sys.stderr.write(f"error: {error.message}\nhint: {error.hint}\n")
        raise typer.Exit(EXIT_FINDINGS) from None
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


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")

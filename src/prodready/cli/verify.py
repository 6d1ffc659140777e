"""`prodready verify`: parse options, run the scorecard, render it."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from prodready.errors import EXIT_INTERRUPTED, UsageError


def verify(
    directory: Annotated[Path, typer.Argument(help="The app's directory.", file_okay=False)] = Path(
        "."
    ),
    server: Annotated[str, typer.Option("--server", help="gunicorn or granian.")] = "gunicorn",
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="A PostgreSQL server to make the scratch database on. [the app's settings]",
        ),
    ] = None,
    redis_url: Annotated[
        str | None, typer.Option("--redis-url", help="Redis for the app. [the app's settings]")
    ] = None,
    host: Annotated[
        str,
        typer.Option("--host", help="The name nginx serves: one the app's allowed hosts accept."),
    ] = "app.example.com",
    env: Annotated[
        list[str] | None,
        typer.Option("--env", "-e", help="KEY=VALUE in the app's environment (repeatable)."),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Skip the items that load the app (about a minute).")
    ] = False,
    only: Annotated[
        str | None, typer.Option("--only", help="Comma-separated item ids to run (see the table).")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="The scorecard as JSON on stdout.")
    ] = False,
    junit: Annotated[
        Path | None,
        typer.Option("--junit", help="Also write a JUnit XML report here.", dir_okay=False),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html", help="Also write a self-contained HTML report here.", dir_okay=False
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
) -> None:
    """Boot the app the way production will and prove each production claim: a scorecard."""
    from prodready.interrupts import unwinding
    from prodready.verify.items import ITEM_IDS
    from prodready.verify.report import to_json, to_text
    from prodready.verify.run import run_verify
    from prodready.verify.stage import VerifyOptions

    if server not in ("gunicorn", "granian"):
        raise UsageError(f"unknown server {server!r}", "use gunicorn or granian")
    chosen = _parse_only(only, ITEM_IDS)
    options = VerifyOptions(
        server=server,
        database_url=database_url,
        redis_url=redis_url,
        quick=quick,
        server_name=host,
        env=tuple(_parse_env(e) for e in env or ()),
    )
    shown = not quiet and sys.stderr.isatty()
    # SIGTERM (a CI job's timeout, `kill`) unwinds like Ctrl-C, so the app's server, the dev
    # server and nginx, which run in sessions of their own, are stopped and the scratch
    # database dropped; its default action would end verify and leave them running.
    try:
        with unwinding((signal.SIGTERM,), lambda _: KeyboardInterrupt()):
            card = run_verify(
                directory.resolve(), options, only=chosen, progress=_progress if shown else _silent
            )
    except KeyboardInterrupt:
        typer.echo("error: interrupted: the servers verify started are stopped", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    if junit:
        from prodready.verify.junit import write_junit

        write_junit(card, junit)
    if html:
        from prodready.verify.html import write_html

        write_html(card, html)
    if as_json:
        sys.stdout.write(to_json(card))
    else:
        sys.stdout.write(to_text(card, color=sys.stdout.isatty()))
    raise typer.Exit(card.exit_code(strict))


def _parse_only(text: str | None, known: tuple[str, ...]) -> set[str] | None:
    if text is None:
        return None
    chosen = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(chosen - set(known))
    if unknown or not chosen:
        raise UsageError(
            f"unknown item {', '.join(unknown) or '(none given)'} in --only",
            f"items are: {', '.join(known)}",
        )
    return chosen


def _parse_env(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise UsageError(
            f"bad --env {text!r}", "use KEY=VALUE, e.g. --env MODEL_PATH=/srv/model.json"
        )
    return name.strip(), value


def _progress(message: str) -> None:
    sys.stderr.write(f"verify: {message}\n")
    sys.stderr.flush()


def _silent(_message: str) -> None:
    pass


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)

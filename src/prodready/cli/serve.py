"""`prodready serve` and `prodready reload`: parse options, call prodready.serve, render."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer


def serve(
    app: Annotated[
        str | None,
        typer.Argument(help="The app as MODULE:ATTR (or MODULE:FACTORY()). [detected]"),
    ] = None,
    directory: Annotated[
        Path, typer.Option("--dir", help="The app's directory.", file_okay=False)
    ] = Path("."),
    server: Annotated[str, typer.Option("--server", help="gunicorn or granian.")] = "gunicorn",
    bind: Annotated[
        str | None, typer.Option("--bind", "-b", help="HOST:PORT. [0.0.0.0:$PORT, else detected]")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=1, help="Worker processes. [computed]")
    ] = None,
    threads: Annotated[
        int | None, typer.Option("--threads", min=1, help="Threads per worker. [computed]")
    ] = None,
    max_requests: Annotated[
        int | None,
        typer.Option("--max-requests", min=1, help="Recycle a worker after ~N requests."),
    ] = None,
    timeout: Annotated[
        int | None,
        typer.Option("--timeout", min=0, help="Seconds before a silent worker is replaced."),
    ] = None,
    graceful_timeout: Annotated[
        int | None,
        typer.Option(
            "--graceful-timeout", min=1, help="Seconds in-flight requests get on stop/reload."
        ),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option("--log-level", help="debug, info, warning, error or critical. [info]"),
    ] = None,
    override: Annotated[
        bool,
        typer.Option(
            "--override",
            help="Use computed values instead of dangerous ones from the project's config.",
        ),
    ] = False,
    proxy: Annotated[
        list[str] | None,
        typer.Option("--proxy", help="Address of a proxy whose X-Forwarded-* is trusted."),
    ] = None,
    pid: Annotated[Path | None, typer.Option("--pid", help="Write the master's pid here.")] = None,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="JSON access lines on stdout.")
    ] = False,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format", help="auto (for people on a terminal, else JSON), json or console."
        ),
    ] = "auto",
    drain_seconds: Annotated[
        float | None,
        typer.Option(
            "--drain-seconds",
            min=0,
            max=300,
            help="On SIGTERM, answer readiness 503 and keep serving this long before the "
            "stop. [$PRODREADY_DRAIN_SECONDS, else 0]",
        ),
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Print each setting and why, then exit.")
    ] = False,
    print_config: Annotated[
        bool, typer.Option("--print-config", help="Print the equivalent gunicorn.conf.py.")
    ] = False,
) -> None:
    """Run the app under Gunicorn (WSGI or ASGI) or Granian with computed production settings."""
    from prodready.errors import EXIT_USAGE, UserError
    from prodready.serve import Overrides, prepare
    from prodready.serve.draindelay import export_drain_seconds
    from prodready.serve.launch import run_plan
    from prodready.serve.ownlog import json_log
    from prodready.serve.runtimedir import state_dir_for

    running = not (explain or print_config)
    overrides = Overrides(
        target=app,
        server=server,
        bind=bind,
        workers=workers,
        threads=threads,
        max_requests=max_requests,
        proxies=tuple(proxy or ()),
        pidfile=str(pid.resolve()) if pid else None,
        access_log=access_log,
        log_format=log_format,
        timeout=timeout,
        graceful_timeout=graceful_timeout,
        log_level=log_level,
        override=override,
        # exec keeps this pid for the server, so its state dir is unique among running ones.
        state_dir=str(state_dir_for(os.getpid())) if running else None,
    )
    # With --log-format json, the log is JSON lines from its first line: serve's own too.
    log = json_log() if running and log_format == "json" else None
    try:
        plan = prepare(directory.resolve(), overrides)
        if running:
            for warning in plan.warnings:
                _warn(warning, log)
        if explain:
            typer.echo(plan.explain(), nl=False)
        if print_config:
            typer.echo(plan.to_gunicorn_conf(), nl=False)
        if running:
            export_drain_seconds(drain_seconds, plan.server)
            run_plan(plan)
    except UserError as error:
        if log is None:
            raise
        log.error(error.message, extra={"hint": error.hint} if error.hint else None)
        raise typer.Exit(EXIT_USAGE) from error


def _warn(warning: str, log: logging.Logger | None) -> None:
    if log is None:
        typer.echo(f"warning: {warning}", err=True)
    else:
        log.warning(warning)


def reload(
    pid: Annotated[
        Path | None,
        typer.Option("--pid", help="The server's pid file. [the one prodready serve runs]"),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", min=1, help="Seconds new workers get to load the app, else roll back."
        ),
    ] = 120.0,
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--quiet",
            help="Each step with its time on stderr, or only the result. [progress on a terminal]",
        ),
    ] = None,
) -> None:
    """Replace the workers of a running server: new code, new workers ready before old stop."""
    import sys

    from prodready.serve.reload import reload_server

    shown = sys.stderr.isatty() if progress is None else progress
    report = reload_server(
        pid, ready_timeout_s=timeout, progress=_timed_progress() if shown else _silent
    )
    if report.how == "SIGHUP":
        typer.echo(f"sent SIGHUP to {report.pid}: the server restarts its workers")
        return
    still = f", {len(report.still_stopping)} still finishing" if report.still_stopping else ""
    typer.echo(
        f"reloaded {report.pid}: {len(report.new_workers)} new workers serving "
        f"({', '.join(map(str, report.new_workers))}); "
        f"{len(report.old_workers)} old workers stopped{still}"
    )


def _timed_progress() -> Callable[[str], None]:
    """Prints each step on stderr with the seconds since the reload began."""
    start = time.monotonic()

    def show(step: str) -> None:
        typer.echo(f"{time.monotonic() - start:6.2f} s  {step}", err=True)

    return show


def _silent(_step: str) -> None:
    pass


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("reload")(reload)

"""`prodready load`: parse options, run the load test (or find the maximum rate), render."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from prodready.errors import EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK, ToolError, UsageError

if TYPE_CHECKING:
    from prodready.load.config import LoadConfig
    from prodready.load.slo import Objective


def load(
    url: Annotated[
        str | None, typer.Argument(help="URL to load, e.g. http://127.0.0.1:8000/health.")
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option("--scenario", help="TOML or YAML file with several weighted requests."),
    ] = None,
    connections: Annotated[
        int | None,
        typer.Option("-c", "--connections", help="Connections (closed model: concurrency). [50]"),
    ] = None,
    duration: Annotated[
        str | None, typer.Option("-d", "--duration", help="How long to send, e.g. 30s, 2m. [10s]")
    ] = None,
    requests: Annotated[
        int | None, typer.Option("-n", "--requests", help="Stop after this many requests.")
    ] = None,
    rate: Annotated[
        str | None,
        typer.Option("--rate", help="Open model: constant arrival rate, e.g. 500 or 500/s."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("-w", "--workers", help="Worker processes. [the CPUs this process may use]"),
    ] = None,
    method: Annotated[str, typer.Option("-m", "--method", help="HTTP method.")] = "GET",
    header: Annotated[
        list[str] | None,
        typer.Option("-H", "--header", help="Request header 'Name: value' (repeatable)."),
    ] = None,
    body: Annotated[str | None, typer.Option("--body", help="Request body.")] = None,
    body_file: Annotated[
        Path | None, typer.Option("--body-file", help="Read the request body from a file.")
    ] = None,
    timeout: Annotated[str, typer.Option("--timeout", help="Per-request timeout.")] = "10s",
    insecure: Annotated[
        bool, typer.Option("-k", "--insecure", help="Do not verify TLS certificates.")
    ] = False,
    slo: Annotated[
        str | None,
        typer.Option(
            "--slo",
            help="Gate, e.g. 'p95<300ms,p99<1s,rps>=100,errors<0.1%'. Exit 1 if missed. "
            "Without it: exit 1 when no request succeeded or over 50% failed.",
        ),
    ] = None,
    find_max: Annotated[
        bool,
        typer.Option(
            "--find-max", help="Step the rate up, then bisect: the highest rate meeting --slo."
        ),
    ] = False,
    json_out: Annotated[
        str | None, typer.Option("--json", help="Write the JSON report here ('-' = stdout).")
    ] = None,
    html_out: Annotated[
        str | None, typer.Option("--html", help="Write a self-contained HTML report here.")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="No progress and no summary.")
    ] = False,
    sse: Annotated[
        int | None,
        typer.Option(
            "--sse",
            help="Hold N Server-Sent Event streams open on URL: delivery latency (events' "
            "sent_at), gaps and duplicates across reconnects (their n), open-stream capacity.",
        ),
    ] = None,
) -> None:
    """Load-test a URL: closed or open model, HDR latency, SLO gate, JSON and HTML reports."""
    # Imported here, and the optional parts only when used: import time is CPU the load
    # generator spends instead of sending requests.
    from prodready.load import config as options
    from prodready.load.report import check_destination
    from prodready.load.slo import parse_slo

    if sse is not None:
        if url is None:
            raise UsageError("--sse needs a URL", "e.g. prodready load --sse 100 URL -d 30s")
        check_destination(json_out)
        seconds = options.parse_duration(duration) if duration is not None else 10.0
        _run_sse(url, sse, seconds, options.parse_duration(timeout), insecure, json_out, quiet)
        return

    if url is not None and scenario is not None:
        raise UsageError("give a URL or --scenario, not both", "put base_url in the scenario")
    if body is not None and body_file is not None:
        raise UsageError("give --body or --body-file, not both", "pick one")
    objectives = parse_slo(slo) if slo is not None else []
    if find_max and not objectives:
        raise UsageError("--find-max needs --slo", "e.g. --find-max --slo 'p99<100ms,errors<1%'")
    for destination in (json_out, html_out):
        check_destination(destination)
    target, specs = None, None
    if scenario is not None:
        from prodready.load.scenario import load_scenario

        target, specs = load_scenario(scenario)
    request_body = body.encode() if body is not None else b""
    if body_file is not None:
        request_body = options.read_body_file(body_file)
    config = options.build_config(
        url,
        requests=specs,
        target=target,
        method=method,
        headers=tuple(options.parse_header(h) for h in header or ()),
        body=request_body,
        connections=connections,
        duration_s=options.parse_duration(duration) if duration is not None else None,
        total_requests=requests,
        rate=options.parse_rate(rate) if rate is not None else None,
        workers=workers,
        timeout_s=options.parse_duration(timeout),
        insecure=insecure,
    )

    try:
        _run_and_report(config, objectives, find_max, json_out, html_out, quiet)
    except KeyboardInterrupt:  # a second Ctrl-C: no result to show
        sys.stderr.write("aborted\n")
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _run_and_report(
    config: LoadConfig,
    objectives: list[Objective],
    find_max: bool,
    json_out: str | None,
    html_out: str | None,
    quiet: bool,
) -> None:
    from prodready.load.console import live_progress, summary
    from prodready.load.engine import run_load
    from prodready.load.report import write_json
    from prodready.load.slo import default_gate, evaluate

    machine_on_stdout = json_out == "-"
    console = Console(stderr=machine_on_stdout, highlight=False)
    status = Console(stderr=True, highlight=False)
    show_live = not quiet and status.is_terminal

    if find_max:
        from prodready.load.findmax import find_max_rate

        search = find_max_rate(config, objectives, status if not quiet else None)
        result, verdicts = search.best_result, search.best_verdicts
        interrupted = search.interrupted
        if not quiet:
            console.print(search.render())
    else:
        with live_progress(status, "load", show_live) as on_progress:
            result = run_load(config, on_progress)
        verdicts = evaluate(objectives or default_gate(), result)
        interrupted = result.interrupted
        if not quiet:
            console.print(summary(result, verdicts))
    if json_out is not None:
        write_json(json_out, result, verdicts)
    if html_out is not None:
        from prodready.load.html import write_html

        write_html(html_out, result, verdicts)
    if interrupted:
        sys.stderr.write("interrupted: the result covers the run until Ctrl-C\n")
        raise typer.Exit(EXIT_INTERRUPTED)
    if result.lost_workers:
        why = "; ".join(result.worker_errors) or "killed or stuck"
        raise ToolError(
            f"{result.lost_workers} load worker(s) lost ({why}); the result is partial",
            "run again; if it persists, report it with the command line",
        )
    failed = any(not verdict.passed for verdict in verdicts)
    raise typer.Exit(EXIT_FINDINGS if failed else EXIT_OK)


def _run_sse(
    url: str,
    streams: int,
    duration_s: float,
    timeout_s: float,
    insecure: bool,
    json_out: str | None,
    quiet: bool,
) -> None:
    import json

    from prodready.load.console import sse_summary
    from prodready.load.report import write_text
    from prodready.load.sse import run_sse

    console = Console(stderr=json_out == "-", highlight=False)
    status = Console(stderr=True, highlight=False)
    show_live = not quiet and status.is_terminal
    with status.status("opening streams", spinner="dots") if show_live else _nothing() as live:

        def progress(result: object, open_now: int) -> None:
            if live is not None:
                events = getattr(result, "events", 0)
                live.update(f"{open_now}/{streams} streams open, {events} events")

        result = run_sse(url, streams, duration_s, timeout_s, insecure, progress)
    if not quiet:
        console.print(sse_summary(result))
    if json_out is not None:
        write_text(json_out, json.dumps(result.to_dict(), indent=2) + "\n")
    raise typer.Exit(EXIT_OK if result.clean else EXIT_FINDINGS)


def _nothing() -> contextlib.nullcontext[None]:
    return contextlib.nullcontext()


def register(app: typer.Typer) -> None:
    app.command("load")(load)

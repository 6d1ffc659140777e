"""`prodready monitor URL|CONFIG` (watch until stopped, or `--once`), and
`prodready monitor silence ENDPOINT DURATION`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from prodready.errors import EXIT_FINDINGS, EXIT_OK, UsageError


def monitor(
    target: Annotated[
        str,
        typer.Argument(
            help="A URL (http(s)://, tcp://host:port, tls://host:port, postgresql://, redis://, "
            "host://, metrics+http(s)://) or a monitor.toml / monitor.yaml; or `silence` / "
            "`export`.",
            metavar="URL|CONFIG|silence|export",
        ),
    ],
    rest: Annotated[
        list[str] | None,
        typer.Argument(
            help="For `silence`: ENDPOINT (a name or pattern) and DURATION (2h). "
            "For `export`: prometheus CONFIG.",
            metavar="[ARGS]",
        ),
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="One round; exit 0 all up, 1 something down.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON on stdout (one line per event).")
    ] = False,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="The history and alert state: a SQLite file or a postgresql:// URL. "
            "[config, else ~/.local/share/prodready/monitor.db]",
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="For `export`: the folder to write to.", file_okay=False)
    ] = Path("prometheus"),
    force: Annotated[bool, typer.Option("--force", help="For `export`: overwrite.")] = False,
    config_file: Annotated[
        Path | None, typer.Option("--config", help="For `silence`: the config naming the store.")
    ] = None,
    interval: Annotated[
        str | None, typer.Option("--interval", help="Between probes. [60s]")
    ] = None,
    timeout: Annotated[str | None, typer.Option("--timeout", help="Of one probe. [10s]")] = None,
    expect_status: Annotated[
        list[int] | None,
        typer.Option("--expect-status", help="Accepted HTTP status (repeatable). [200]"),
    ] = None,
    max_latency: Annotated[
        str | None, typer.Option("--max-latency", help="Slower is down, e.g. 500ms.")
    ] = None,
    body_regex: Annotated[
        str | None, typer.Option("--body-regex", help="The body must match.")
    ] = None,
    json_path: Annotated[
        str | None, typer.Option("--json-path", help="e.g. $.status; must exist.")
    ] = None,
    json_equals: Annotated[
        str | None, typer.Option("--json-equals", help="...and equal this.")
    ] = None,
    min_cert_days: Annotated[
        float | None,
        typer.Option("--min-cert-days", help="TLS: fewer days left is down. [14 for tls://]"),
    ] = None,
    max_error_ratio: Annotated[
        float | None,
        typer.Option("--max-error-ratio", help="metrics+http(s)://: 5xx share allowed. [0.05]"),
    ] = None,
    max_p95: Annotated[
        str | None, typer.Option("--max-p95", help="metrics+http(s)://: p95 latency allowed.")
    ] = None,
    notify: Annotated[
        list[str] | None,
        typer.Option("--notify", help="An apprise URL, e.g. mailto://... (repeatable)."),
    ] = None,
    webhook: Annotated[
        list[str] | None, typer.Option("--webhook", help="POST alerts as JSON here (repeatable).")
    ] = None,
    recheck_delay: Annotated[
        str | None, typer.Option("--recheck-delay", help="Before the second re-check. [1s]")
    ] = None,
    metrics_at: Annotated[
        str | None,
        typer.Option("--metrics", help="Serve the monitor's Prometheus /metrics on HOST:PORT."),
    ] = None,
    ui_at: Annotated[
        str | None,
        typer.Option(
            "--ui", help="Serve the dashboard (/), status page (/status) and badges on HOST:PORT."
        ),
    ] = None,
    run_for: Annotated[
        str | None, typer.Option("--for", help="Stop after this long (e.g. 10m). [until Ctrl-C]")
    ] = None,
) -> None:
    """Watch endpoints: failed probes are re-checked before an endpoint is down; alerts are
    grouped, deduplicated, resolved and survive restarts."""
    from prodready.monitor.config import load_config, single_endpoint_config
    from prodready.monitor.durations import parse_duration

    if target == "silence":
        _silence(rest or [], store, config_file)
        return
    if target == "export":
        raise typer.Exit(_export(rest or [], out, force))
    if rest:
        raise UsageError(f"unexpected argument {rest[0]!r}", "give one URL or one config file")
    looks_like_url = "://" in target
    if looks_like_url:
        flags: dict[str, Any] = {
            "interval": interval,
            "timeout": timeout,
            "expect_status": expect_status,
            "max_latency": max_latency,
            "body_regex": body_regex,
            "json_path": json_path,
            "json_equals": json_equals,
            "min_cert_days": min_cert_days,
            "max_error_ratio": max_error_ratio,
            "max_p95": max_p95,
        }
        config = single_endpoint_config(target, store, recheck_delay, notify, webhook, **flags)
    else:
        path = Path(target)
        if not path.is_file():
            raise UsageError(
                f"{target}: no such file and not a URL", "give http(s)://... or a monitor.toml"
            )
        config = load_config(path, store)
    if once:
        raise typer.Exit(_once(config, as_json))
    duration = None
    if run_for is not None:
        try:
            duration = parse_duration(run_for)
        except ValueError as error:
            raise UsageError(f"--for: {error}", "e.g. --for 10m") from None
    _run(
        config,
        as_json,
        duration,
        _host_port("--metrics", metrics_at) if metrics_at else None,
        _host_port("--ui", ui_at) if ui_at else None,
    )


def _once(config: Any, as_json: bool) -> int:
    from prodready.monitor.scheduler import Monitor

    verdicts = asyncio.run(Monitor(config).once())
    down = [v for v in verdicts if not v.ok]
    if as_json:
        rows = [
            {
                "endpoint": v.endpoint.name,
                "url": v.endpoint.url,
                "up": v.ok,
                "latency_ms": round(v.result.latency * 1000, 1),
                "reason": v.result.reason,
                "probes": len(v.probes),
                "blip": v.blip,
                "cert_days": None if v.result.cert_days is None else round(v.result.cert_days, 1),
            }
            for v in verdicts
        ]
        typer.echo(json.dumps({"endpoints": rows, "down": len(down)}))
    else:
        width = max(len(v.endpoint.name) for v in verdicts)
        for v in verdicts:
            state = "up  " if v.ok else "DOWN"
            detail = v.result.reason
            if not v.ok and len(v.probes) > 1:
                detail += f" (confirmed by {len(v.probes) - 1} re-checks)"
            if v.blip:
                detail = f"{v.probes[0][1].reason} once, re-check passed; {detail}".rstrip("; ")
            if v.result.cert_days is not None:
                days = f"certificate: {v.result.cert_days:.0f} days left"
                detail = f"{detail}; {days}" if detail else days
            latency = f"{v.result.latency * 1000:7.1f} ms"
            typer.echo(f"{state} {v.endpoint.name:<{width}} {latency}  {detail}".rstrip())
        typer.echo(f"{len(verdicts) - len(down)} up, {len(down)} down")
    return EXIT_FINDINGS if down else EXIT_OK


def _host_port(flag: str, text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise UsageError(f"{flag}: {text!r} is not HOST:PORT", f"e.g. {flag} 127.0.0.1:8080")
    return host.strip("[]"), int(port)


async def _listen(flag: str, starting: Any) -> Any:
    try:
        return await starting
    except OSError as error:
        raise UsageError(f"{flag}: cannot listen: {error.strerror}", "pick a free port") from None


def _announce(what: str, runner: Any, path: str) -> None:
    host, port = runner.addresses[0][:2]
    sys.stderr.write(f"{what} on http://{host}:{port}{path}\n")
    sys.stderr.flush()


def _run(
    config: Any,
    as_json: bool,
    duration: float | None,
    metrics_at: tuple[str, int] | None,
    ui_at: tuple[str, int] | None,
) -> None:
    from prodready.monitor.durations import format_duration
    from prodready.monitor.scheduler import Monitor
    from prodready.monitor.store import Store

    store = Store(config.store, config.retention)
    store.lock()
    intervals = sorted({e.interval for e in config.endpoints})
    sys.stderr.write(
        f"watching {len(config.endpoints)} endpoint{'s' if len(config.endpoints) != 1 else ''} "
        f"every {', '.join(format_duration(i) for i in intervals)}; history in {store.shown}\n"
    )
    sys.stderr.flush()

    def show(event: dict[str, Any]) -> None:
        if as_json:
            sys.stdout.write(json.dumps({"time": time.time(), **event}) + "\n")
            sys.stdout.flush()
            return
        clock = datetime.now(UTC).strftime("%H:%M:%S")
        name = event["event"]
        if name == "down":
            line = f"DOWN {event['endpoint']}: {event['reason']}"
        elif name == "up":
            line = f"UP   {event['endpoint']}"
        elif name == "blip":
            line = f"blip {event['endpoint']}: {event['reason']} (re-check passed, no alert)"
        elif name == "burn":
            line = f"BURN {event['endpoint']}: {event['reason']}"
        elif name == "burn over":
            line = f"burn over {event['endpoint']}: the error budget burns at a normal rate again"
        elif name == "store error":
            line = f"store error (probes go on, writes are retried): {event['error']}"
        elif name == "notified":
            line = (
                f"sent {event['kind']} via {event['channel'].partition(':')[0]}: {event['title']}"
            )
        elif name == "notification failed":
            line = f"notification failed via {event['channel']}: {event['error']}"
        else:
            return
        typer.echo(f"{clock} {line}")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        if duration is not None:
            loop.call_later(duration, stop.set)
        metrics = None
        if metrics_at is not None:
            from prodready.monitor.metrics import MonitorMetrics

            metrics = MonitorMetrics()
        monitor = Monitor(config, store, show, metrics=metrics)
        runners = []
        try:
            if metrics is not None and metrics_at is not None:
                from prodready.monitor.metrics import serve_metrics

                runners.append(await _listen("--metrics", serve_metrics(metrics, *metrics_at)))
                _announce("metrics", runners[-1], "/metrics")
            if ui_at is not None:
                from prodready.monitor.web.server import serve_ui

                runners.append(await _listen("--ui", serve_ui(monitor, *ui_at)))
                _announce("dashboard", runners[-1], "/")
            with _live_status(monitor, enabled=not as_json and sys.stderr.isatty()):
                await monitor.run(stop)
        finally:
            for runner in runners:
                await runner.cleanup()

    try:
        asyncio.run(main())
    finally:
        store.close()


def status_line(monitor: Any) -> str:
    """`6 endpoints: 5 up, 1 down, 0 unknown · 1,234 probes (7 re-checks)`."""
    states = [tracker.status for tracker in monitor.trackers.values()]
    counts = ", ".join(f"{states.count(s)} {s}" for s in ("up", "down", "unknown"))
    noun = "endpoint" if len(states) == 1 else "endpoints"
    return (
        f"{len(states)} {noun}: {counts} · {monitor.probes:,} probes "
        f"({monitor.rechecks:,} re-checks)"
    )


@contextlib.contextmanager
def _live_status(monitor: Any, enabled: bool) -> Iterator[None]:
    """On a terminal, a status line that rich keeps live under the event lines (which rich
    moves above it); elsewhere nothing, so piped output stays plain."""
    if not enabled:
        yield
        return
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    with Live(
        get_renderable=lambda: Text(status_line(monitor)),
        console=Console(stderr=True),
        refresh_per_second=2,
        transient=True,
        redirect_stdout=True,
    ):
        yield


def _export(args: list[str], out: Path, force: bool) -> int:
    from prodready.monitor.config import load_config
    from prodready.monitor.export import export_prometheus

    if len(args) != 2 or args[0] != "prometheus":
        raise UsageError(
            "export needs `prometheus` and a config",
            "e.g. prodready monitor export prometheus monitor.toml",
        )
    path = Path(args[1])
    if not path.is_file():
        raise UsageError(f"{path}: no such file", "give the monitor.toml or monitor.yaml to export")
    results = export_prometheus(load_config(path), out, force)
    for result in results:
        verdict = "not validated" if result.tool is None else "ok" if result.ok else "FAILED"
        typer.echo(
            f"wrote {result.path}" + (f"  ({result.tool}: {verdict})" if result.tool else "")
        )
        if not result.ok:
            typer.echo(result.output, err=True)
    return EXIT_OK if all(r.ok for r in results) else EXIT_FINDINGS


def _silence(args: list[str], store_path: Path | str | None, config_file: Path | None) -> None:
    from prodready.monitor.config import DEFAULT_STORE, load_config
    from prodready.monitor.durations import format_duration, parse_duration
    from prodready.monitor.store import Store

    if len(args) != 2:
        raise UsageError(
            "silence needs ENDPOINT and DURATION",
            "e.g. prodready monitor silence api 2h --config monitor.toml",
        )
    pattern, length = args
    try:
        seconds = parse_duration(length)
    except ValueError as error:
        raise UsageError(f"silence: {error}", "e.g. 2h, 30m or 1d") from None
    if seconds <= 0:
        raise UsageError("silence: the duration must be more than 0", "e.g. 2h")
    if store_path is None:
        store_path = load_config(config_file).store if config_file else DEFAULT_STORE
    store = Store(store_path)
    now = time.time()
    store.add_silence(pattern, now + seconds, now)
    store.close()
    until = datetime.fromtimestamp(now + seconds, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    typer.echo(f"silenced {pattern} for {format_duration(seconds)}, until {until}")


def register(app: typer.Typer) -> None:
    app.command("monitor")(monitor)

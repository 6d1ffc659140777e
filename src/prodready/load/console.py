"""Text output for people: the live progress line and the summary at the end (rich)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from prodready.load.engine import Progress
from prodready.load.histogram import REPORTED_PERCENTILES, percentile_label, percentile_ms
from prodready.load.result import LoadResult
from prodready.load.slo import DEFAULT_GATE, Verdict, is_default_gate
from prodready.load.sse import SSELoadResult


class _LiveLine:
    """Redrawn by rich a few times a second; elapsed time moves even between reports."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.monotonic()
        self.latest: Progress | None = None

    def __rich__(self) -> RenderableType:
        elapsed = time.monotonic() - self.started
        line = Text()
        line.append(f"{self.label} {elapsed:.1f}s", style="bold")
        latest = self.latest
        if latest is not None:
            if latest.planned_s:
                line.append(f"/{latest.planned_s:g}s", style="bold")
            line.append(
                f"  {latest.rps:,.0f} rps  p50 {latest.p50_ms:.2f}ms  p99 {latest.p99_ms:.2f}ms  "
            )
            line.append(f"errors {latest.errors:,}", style="red" if latest.errors else "")
            line.append(f"  ({latest.responses:,} responses)", style="dim")
        return line


@contextmanager
def live_progress(
    console: Console, label: str, enabled: bool
) -> Iterator[Callable[[Progress], None] | None]:
    """Yields an `on_progress` callback; shows nothing when disabled (quiet, not a TTY)."""
    if not enabled:
        yield None
        return
    line = _LiveLine(label)

    def on_progress(progress: Progress) -> None:
        line.latest = progress

    with Live(line, console=console, refresh_per_second=4, transient=True):
        yield on_progress


def summary(result: LoadResult, verdicts: list[Verdict]) -> RenderableType:
    """The end-of-run summary: counts, latency percentiles, errors, generator health, SLO."""
    parts: list[RenderableType] = []
    config = result.config
    model = (
        f"open model, {config['rate']:g} req/s"
        if config["model"] == "open"
        else f"closed model, {config['connections']} connections"
    )
    title = f"{config['url']}  ({model}, {config['workers']} worker(s))"
    if result.interrupted:
        title += "  [interrupted: partial result]"
    parts.append(Text(title, style="bold"))

    totals = Table(show_header=False, box=None, pad_edge=False)
    totals.add_row("duration", f"{result.duration_s:.2f} s")
    totals.add_row("responses", f"{result.responses:,}  ({result.rps:,.1f}/s)")
    totals.add_row("errors", f"{result.error_count:,}  ({result.error_rate:.3%})")
    if result.dropped:
        totals.add_row("not sent", f"{result.dropped:,}  (no free connection in time)")
    if result.waited_for_connection:
        totals.add_row(
            "waited",
            f"{result.waited_for_connection:,}  (every connection busy when due: raise -c, "
            "unless the server stalled)",
        )
    if result.unfinished:
        totals.add_row(
            "unfinished", f"{result.unfinished:,}  (still in flight at the end; counted as errors)"
        )
    if result.lost_workers:
        why = "; ".join(result.worker_errors) or "their last interval is missing"
        totals.add_row("lost workers", f"{result.lost_workers}  ({why})")
    parts.append(totals)

    if result.responses:
        histogram = result.histogram
        latency = Table(title="latency", title_justify="left")
        names = ["min", "mean", *(percentile_label(p) for p in REPORTED_PERCENTILES), "max"]
        values = [histogram.get_min_value() / 1000, histogram.get_mean_value() / 1000]
        values += [result.latency_ms(p) for p in REPORTED_PERCENTILES]
        values.append(histogram.get_max_value() / 1000)
        latency.add_column("")
        latency.add_column("ms", justify="right")
        for name, value in zip(names, values, strict=True):
            latency.add_row(name, f"{value:,.3f}")
        parts.append(latency)

    if len(result.by_request) > 1:
        by_request = Table(title="by request", title_justify="left")
        by_request.add_column("request")
        for column in ("responses", "p50 ms", "p99 ms", "max ms", "HTTP errors"):
            by_request.add_column(column, justify="right")
        for stats in result.by_request:
            by_request.add_row(
                stats.label,
                f"{stats.responses:,}",
                f"{percentile_ms(stats.histogram, 50):,.3f}",
                f"{percentile_ms(stats.histogram, 99):,.3f}",
                f"{stats.histogram.get_max_value() / 1000:,.3f}",
                f"{stats.http_errors:,}",
                style="red" if stats.http_errors else "",
            )
        parts.append(by_request)

    if result.errors or result.status_counts:
        kinds = Table(title="responses and errors", title_justify="left")
        kinds.add_column("kind")
        kinds.add_column("count", justify="right")
        for code, count in sorted(result.status_counts.items()):
            kinds.add_row(f"HTTP {code}", f"{count:,}", style="red" if code >= 400 else "")
        for kind, count in result.transport_errors.items():
            kinds.add_row(kind, f"{count:,}", style="red")
        parts.append(kinds)

    generator = result.generator
    health = f"generator: CPU {generator.cpu_fraction_max:.0%} per worker"
    if generator.demand_fraction_max is not None:
        health += f", wanted a CPU {generator.demand_fraction_max:.0%} of the time"
    health += f", event-loop lag {generator.lag_mean_ms_max:.2f} ms"
    if generator.suspect:
        parts.append(
            Text(
                f"{health} - SUSPECT: the generator may have limited the result "
                f"({'; '.join(generator.suspect_reasons)}); {generator.advice}",
                style="yellow",
            )
        )
    else:
        parts.append(Text(health, style="dim"))

    if is_default_gate(verdicts):
        parts.append(_default_gate_line(verdicts))
    elif verdicts:
        slo = Table(title="SLO", title_justify="left")
        slo.add_column("objective")
        slo.add_column("actual", justify="right")
        slo.add_column("result")
        for verdict in verdicts:
            slo.add_row(
                verdict.objective.text,
                verdict.describe_actual(),
                Text("pass", style="green") if verdict.passed else Text("FAIL", style="bold red"),
            )
        parts.append(slo)
        failed = [verdict.objective.text for verdict in verdicts if not verdict.passed]
        parts.append(
            Text(f"SLO FAILED: {', '.join(failed)}", style="bold red")
            if failed
            else Text("SLO passed", style="bold green")
        )
    return Group(*parts)


def _default_gate_line(verdicts: list[Verdict]) -> Text:
    """One line for the gate of a run without --slo; the failed checks with their values."""
    failed = [f"{v.objective.text} ({v.describe_actual()})" for v in verdicts if not v.passed]
    if failed:
        return Text(
            f"FAILED the default gate: {', '.join(failed)}; --slo sets your own",
            style="bold red",
        )
    return Text(f"default gate passed ({DEFAULT_GATE}); --slo sets your own", style="dim")


def sse_summary(result: SSELoadResult) -> RenderableType:
    """What `load --sse` found: capacity, delivery latency, gaps and duplicates."""
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("streams", f"{result.max_open} of {result.streams} open at once")
    if result.never_opened:
        table.add_row("never opened", Text(str(result.never_opened), style="red"))
    errors = ", ".join(f"{name} {count}" for name, count in result.connect_errors.items())
    table.add_row("connections", f"{result.connections} ({result.reconnects} reconnects)")
    if errors:
        table.add_row("connect errors", errors)
    table.add_row("events", f"{result.events} in {result.duration_s:.1f}s")
    if result.stamped_events:
        latency = "  ".join(
            f"{percentile_label(p)} {percentile_ms(result.latency, p):.2f}ms"
            for p in (50.0, 90.0, 99.0, 99.9)
        )
        table.add_row("delivery", latency)
    else:
        table.add_row("delivery", "no sent_at in the events' data: latency not measured")
    gaps = Text(f"{result.gaps} ({result.missing_events} events missing)")
    gaps.stylize("red" if result.gaps else "green")
    table.add_row("gaps", gaps)
    table.add_row(
        "duplicates", Text(str(result.duplicates), "red" if result.duplicates else "green")
    )
    return table

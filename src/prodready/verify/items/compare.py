"""serve plan vs dev server: `prodready load` on a light route and on the slowest I/O route,
against the served plan (the shared server) and the app's own development server, side by
side: the same requests and load settings, interleaved in rounds (plan, dev, then dev, plan)
so a machine that gets busier halfway does not favour one. This is where "10x" is shown or
refuted.

The light route is loaded with CONNECTIONS connections. The I/O route gets as many as it takes
for the servers, not the load, to be the bound: a closed load of C connections on a route
that takes L seconds gets at most C / L requests per second out of any server (riskapi's
/api/lookup sleeps 50 ms: 32 connections cap both servers at 640 req/s, and the ratio was
then each server's per-request overhead, 0.87x to 1.1x from run to run). So C is set to carry
twice the dev server's req/s on the light route, its ceiling when the waits overlap: a server
that serves waits concurrently shows it, one that queues them shows that.

Compared: requests served per second (answers below 400: a server answering errors fast is
not serving) and p99 latency. The plan fails when it serves fewer requests per second than the
dev server on a route, or fails requests the dev server answered; it warns when it serves as
many but its p99 is slower. Only then: under a closed load each connection sends its next
request as soon as the last is answered, so a server that answers faster is sent more, and its
tail is measured under a heavier load than the dev server's. Differences within NOISE
are taken as equal: runs of a few seconds on a shared two-CPU machine vary that much from one
to the next. A p99 tail varies more than that: one busy second elsewhere on the machine moves
it by a fifth, so a slower p99 is measured again (ROUNDS more rounds, merged with the first)
before it is reported."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from prodready.load import LoadConfig, LoadResult, run_load
from prodready.load.histogram import new_histogram, percentile_ms
from prodready.verify.devserver import DevCommand, start_dev_server
from prodready.verify.loadroutes import Route, Routes, choose_routes
from prodready.verify.loadrun import TIMEOUT_S, failed, front_headers, load_config, p99_series
from prodready.verify.model import ItemResult, Number
from prodready.verify.stage import Stage

ID = "compare"
TITLE = "serve plan vs dev server"
CONNECTIONS = 32
MAX_CONNECTIONS = 256
OVERDRIVE = 2.0
"""The I/O route's load carries this many times the dev server's light-route req/s."""
RUN_S = 1.0
ROUNDS = 2
WARMUP_S = 0.3
NOISE = 0.10
SERVERS = ("plan", "dev")
LABELS = {"light": "light", "io": "I/O"}
"""In the chart legends, which have room for a short name each (the details name the paths)."""


@dataclass
class Side:
    """One server's runs on one route, merged."""

    runs: list[LoadResult] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(r.duration_s for r in self.runs)

    @property
    def rps(self) -> float:
        """Requests served (answered below 400) per second."""
        return sum(r.successes for r in self.runs) / self.seconds if self.seconds else 0.0

    def latency_ms(self, percentile: float) -> float:
        merged = new_histogram()
        for run in self.runs:
            if run.histogram.get_total_count():  # hdrh takes an empty one's minimum as 0
                merged.add(run.histogram)
        return percentile_ms(merged, percentile)

    @property
    def failed(self) -> int:
        return sum(failed(r) for r in self.runs)

    def series(self) -> list[tuple[float, float]]:
        points, offset = [], 0.0
        for run in self.runs:
            points += p99_series(run, offset)
            offset += run.duration_s
        return points


@dataclass
class Measured:
    kind: str
    route: Route
    connections: int
    sides: dict[str, Side]

    @property
    def plan(self) -> Side:
        return self.sides["plan"]

    @property
    def dev(self) -> Side:
        return self.sides["dev"]

    @property
    def rps_ratio(self) -> float:
        return self.plan.rps / self.dev.rps if self.dev.rps else float("inf")

    @property
    def slower_throughput(self) -> bool:
        return self.rps_ratio < 1 - NOISE

    @property
    def more_failures(self) -> bool:
        return self.plan.failed > self.dev.failed

    @property
    def slower_p99(self) -> bool:
        """p99 slower at the same throughput (the module's docstring says why only then)."""
        same_throughput = self.rps_ratio <= 1 + NOISE
        return same_throughput and self.plan.latency_ms(99) > self.dev.latency_ms(99) * (1 + NOISE)

    def summary(self) -> str:
        ratio = f"{self.rps_ratio:.1f}x" if self.dev.rps else "dev served none,"
        return (
            f"{_short(self.route.path)} {ratio} req/s, p99 {self.plan.latency_ms(99):.0f} vs "
            f"{self.dev.latency_ms(99):.0f} ms"
        )


def verify(stage: Stage) -> ItemResult:
    headers = front_headers(stage.options.server_name)
    routes = choose_routes(
        stage.project, lambda path: stage.server.get(path, headers=headers, timeout=TIMEOUT_S)
    )
    if not routes.loaded:
        why = "no detected GET route answers 2xx on the served app"
        return ItemResult.skipped(ID, TITLE, why, details=[f"tried {r}" for r in routes.refused])
    started = start_dev_server(
        stage.project, stage.target, stage.app_dir, stage.app_env, stage.work,
        root_target=stage.app_from_root,
    )  # fmt: skip
    if isinstance(started, str):
        return ItemResult.skipped(ID, TITLE, f"no dev server to compare with: {started}"[:88])
    dev, command = started
    ports = {"plan": stage.server.port, "dev": dev.port}
    try:
        measured: list[Measured] = []
        for kind, route in routes.loaded:
            connections = CONNECTIONS
            if kind == "io" and measured:
                connections = io_connections(measured[0].dev.rps, route.seconds)
            found = _side_by_side(kind, route, ports, headers, connections)
            if found.slower_p99:
                _run_rounds(found, ports, headers)
            measured.append(found)
    finally:
        dev.stop()
    return _judged(measured, routes, command, stage.server.port, headers)


def io_connections(dev_light_rps: float, route_seconds: float) -> int:
    """Connections for the I/O route: enough in flight to carry OVERDRIVE times the dev
    server's light-route req/s at the route's unloaded time (see the module's docstring)."""
    wanted = math.ceil(OVERDRIVE * dev_light_rps * route_seconds)
    return max(CONNECTIONS, min(MAX_CONNECTIONS, wanted))


def _side_by_side(
    kind: str, route: Route, ports: dict[str, int], headers: dict[str, str], connections: int
) -> Measured:
    for server in SERVERS:  # first requests pay for lazy set-up (connections, caches)
        run_load(_config(route, ports[server], headers, connections, WARMUP_S))
    found = Measured(kind, route, connections, {server: Side() for server in SERVERS})
    _run_rounds(found, ports, headers)
    return found


def _run_rounds(found: Measured, ports: dict[str, int], headers: dict[str, str]) -> None:
    """ROUNDS more interleaved rounds on both servers, added to what was measured."""
    for round_number in range(ROUNDS):
        order = SERVERS if round_number % 2 == 0 else SERVERS[::-1]
        for server in order:
            config = _config(found.route, ports[server], headers, found.connections, RUN_S)
            found.sides[server].runs.append(run_load(config))


def _config(
    route: Route, port: int, headers: dict[str, str], connections: int, seconds: float
) -> LoadConfig:
    url = f"http://127.0.0.1:{port}{route.path}"
    return load_config(url, headers, connections=connections, duration=seconds)


def _judged(
    measured: list[Measured],
    routes: Routes,
    command: DevCommand,
    port: int,
    headers: dict[str, str],
) -> ItemResult:
    summary = "; ".join(m.summary() for m in measured)
    kw = {
        "measures": _measures(measured),
        "details": _details(measured, routes, command, port, headers),
        "series": {
            f"{server} {LABELS[m.kind]} p99_ms": m.sides[server].series()
            for m in measured
            for server in SERVERS
        },
    }
    if any(m.slower_throughput or m.more_failures for m in measured):
        return ItemResult.failed(ID, TITLE, summary, **kw)
    if any(m.slower_p99 for m in measured):
        return ItemResult.warned(ID, TITLE, summary, **kw)
    return ItemResult.passed(ID, TITLE, summary, **kw)


def _measures(measured: list[Measured]) -> dict[str, Number | str | bool]:
    found: dict[str, Number | str | bool] = {}
    for m in measured:
        found[f"{m.kind}_route"] = m.route.path
        found[f"{m.kind}_connections"] = m.connections
        found[f"{m.kind}_seconds_per_server"] = len(m.plan.runs) * RUN_S
        if m.dev.rps:
            found[f"{m.kind}_rps_ratio"] = round(m.rps_ratio, 2)
        for server in SERVERS:
            side = m.sides[server]
            found[f"{m.kind}_{server}_rps"] = round(side.rps, 1)
            found[f"{m.kind}_{server}_p50_ms"] = side.latency_ms(50)
            found[f"{m.kind}_{server}_p99_ms"] = side.latency_ms(99)
            found[f"{m.kind}_{server}_failed_requests"] = side.failed
    return found


def _details(
    measured: list[Measured],
    routes: Routes,
    command: DevCommand,
    port: int,
    headers: dict[str, str],
) -> list[str]:
    sent = ", ".join(f"{k}: {v}" for k, v in headers.items())
    lines = [
        f"plan: prodready serve on 127.0.0.1:{port} (the shared server)",
        f"dev: `{command.shown}` for {command.origin}, without reloader and debugger",
        f"load: prodready.load, closed model, {ROUNDS} rounds of {RUN_S:g} s per server and "
        f"route, interleaved, after a {WARMUP_S:g} s warm-up; the same requests to both ({sent})",
    ]
    for m in measured:
        lines.append(
            f"{m.route.path} ({m.kind}, {m.route.where}, {m.connections} connections): "
            + "; ".join(_side_text(server, m.sides[server]) for server in SERVERS)
            + (f"; {m.rps_ratio:.2f}x the dev server's req/s" if m.dev.rps else "")
        )
        if len(m.plan.runs) > ROUNDS:
            lines.append(
                f"{m.route.path}: the plan's p99 came out slower, so it was measured "
                f"{ROUNDS} more rounds; the figures above merge all {len(m.plan.runs)}"
            )
        lines += [
            f"{server} on {m.route.path}: the load generator was short of CPU ({reason}): "
            "the faster server may be faster still"
            for server in SERVERS
            for run in m.sides[server].runs[:1]
            for reason in run.generator.suspect_reasons[:1]
        ]
    lines.append(
        "charts: p99 latency of each quarter second; "
        + ", ".join(f"{LABELS[m.kind]} = {m.route.path}" for m in measured)
    )
    if routes.io is None:
        lines.append("no route that waits on I/O answered 2xx: only the light route is compared")
    lines += [f"not loaded (no 2xx): {refused}" for refused in routes.refused]
    return lines


def _side_text(server: str, side: Side) -> str:
    text = (
        f"{server} {side.rps:.0f} req/s, p50 {side.latency_ms(50):.1f} ms, "
        f"p99 {side.latency_ms(99):.1f} ms"
    )
    kinds: Counter[str] = Counter()
    for run in side.runs:
        kinds.update(run.errors)
    listed = ", ".join(f"{kind} {count}" for kind, count in kinds.most_common())
    return text + (f", {side.failed} failed ({listed})" if side.failed else "")


def _short(path: str, width: int = 18) -> str:
    return path if len(path) <= width else path[: width - 1] + "…"

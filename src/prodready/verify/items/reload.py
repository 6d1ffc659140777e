"""reload under load: `prodready reload` three times on a server of its own (`start_extra`)
while `prodready load` keeps sending requests to the light route; every failed request
(refused, reset, timed out, answered 400 or more) counts.

The load goes straight to that server, not through nginx: the front serves the shared server,
and the load tool dials the address it is given, so it cannot send the site's name as SNI,
which the generated site requires."""

from __future__ import annotations

import time
from dataclasses import dataclass

from prodready.errors import UserError
from prodready.load import LoadConfig, LoadResult
from prodready.serve.reload import ReloadReport, reload_server
from prodready.verify.loadrun import (
    failed,
    failure_text,
    front_headers,
    load_config,
    p99_series,
    start_flowing,
)
from prodready.verify.model import ItemResult
from prodready.verify.routes import choose_routes
from prodready.verify.server import ServerProcess
from prodready.verify.stage import Stage

ID = "reload"
TITLE = "reload under load"
RELOADS = 3
RATE = 200.0
"""Requests per second (open model): steady traffic that leaves the CPUs to the new workers."""
CONNECTIONS = 16
LOAD_LIMIT_S = 120.0
"""The load is stopped once the reloads are done; this only bounds a run that is not."""
SETTLE_S = 0.5
"""Load before the first reload and after the last, so each one lands in steady traffic."""
SIGHUP_SETTLE_S = 3.0
"""A SIGHUP (Granian) returns at once: time for its new workers to take over."""
READY_TIMEOUT_S = 45.0


@dataclass
class Reloaded:
    report: ReloadReport
    seconds: float

    def text(self, number: int) -> str:
        old, new = self.report.old_workers, self.report.new_workers
        workers = f", workers {_pids(old)} -> {_pids(new)}" if new else ""
        return f"reload {number}: {self.report.how}{workers}, {self.seconds:.1f} s"


def verify(stage: Stage) -> ItemResult:
    headers = front_headers(stage.options.server_name)
    served = stage.start_extra("reload")
    try:
        route = choose_routes(stage.project, lambda p: served.get(p, headers=headers)).light
        if route is None:
            return ItemResult.skipped(ID, TITLE, "no detected GET route answers 2xx to load")
        url = f"http://127.0.0.1:{served.port}{route.path}"
        config = load_config(
            url, headers, connections=CONNECTIONS, duration=LOAD_LIMIT_S, rate=RATE
        )
        done, refused, result = _reload_under_load(served, config)
    finally:
        served.stop()
    details = [
        f"load: prodready.load, {RATE:g} requests/s (open model) on {CONNECTIONS} connections "
        f"to GET {route.path}, straight to the server on 127.0.0.1:{served.port} (not "
        "through nginx: the front serves the shared server, and the load tool cannot send "
        "the site's name as SNI)",
        *(reloaded.text(n) for n, reloaded in enumerate(done, 1)),
        f"{result.responses} responses, failed requests: {failure_text(result)}",
    ]
    measures = {
        "reloads": len(done),
        "failed_requests": failed(result),
        "responses": result.responses,
        "p99_ms": result.latency_ms(99),
        "max_ms": result.latency_ms(100),
        "reload_s_max": round(max((r.seconds for r in done), default=0.0), 2),
    }
    kw = {"measures": measures, "details": details, "series": {"p99_ms": p99_series(result)}}
    if refused:
        summary = f"reload {len(done) + 1} of {RELOADS} refused: {refused}"
        return ItemResult.failed(ID, TITLE, summary[:88], log=served.log_tail(30), **kw)
    if failed(result):
        summary = f"{failed(result)} of {result.attempts} requests failed across {RELOADS} reloads"
        return ItemResult.failed(ID, TITLE, summary, log=served.log_tail(30), **kw)
    return ItemResult.passed(
        ID,
        TITLE,
        f"0 failed of {result.responses} requests across {RELOADS} reloads, "
        f"p99 {result.latency_ms(99):.0f} ms",
        **kw,
    )


def _reload_under_load(
    served: ServerProcess, config: LoadConfig
) -> tuple[list[Reloaded], str, LoadResult]:
    """(the reloads done, why the next one was refused or "", what the load saw)."""
    load = start_flowing(config)
    done: list[Reloaded] = []
    refused = ""
    try:
        time.sleep(SETTLE_S)
        for _ in range(RELOADS):
            began = time.monotonic()
            try:
                report = reload_server(served.pidfile, ready_timeout_s=READY_TIMEOUT_S)
            except UserError as error:
                refused = error.message
                break
            if report.how == "SIGHUP":
                time.sleep(SIGHUP_SETTLE_S)
            done.append(Reloaded(report, time.monotonic() - began))
        time.sleep(SETTLE_S)
    finally:
        load.stop()
    return done, refused, load.wait(timeout=30)


def _pids(pids: tuple[int, ...]) -> str:
    return ",".join(map(str, pids))

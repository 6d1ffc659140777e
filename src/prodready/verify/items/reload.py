"""reload under load: `prodready reload` three times on a server of its own (`start_extra`)
while `prodready load` keeps sending requests to the light route; every failed request
(refused, reset, timed out, answered 400 or more, nginx's 502 included) counts.

The load goes through nginx, as production traffic does: a plain-HTTP front with keep-alive
connections to that server (the deploy item's, without TLS and the site's rate limit, which
would answer the load with 429). nginx retries a request whose cached upstream connection the
server closed as it stopped a worker, as it does in production; a load tool straight at the
server would count that close as a failure. A request nginx had to retry (its error log names
the server's reset or close) still warns: nginx retries only idempotent requests, so a POST
then would have failed, and a worker that dies with requests in flight shows up this way.
Straight to the server only when nginx is not installed."""

from __future__ import annotations

import time
from dataclasses import dataclass

from prodready.errors import UserError
from prodready.generate.validate import find_tool
from prodready.load import LoadConfig, LoadResult
from prodready.serve.reload import ReloadReport, reload_server
from prodready.verify.deployfront import server_front
from prodready.verify.loadroutes import choose_routes
from prodready.verify.loadrun import (
    TIMEOUT_S,
    failed,
    failure_text,
    front_headers,
    load_config,
    p99_series,
    start_flowing,
)
from prodready.verify.model import ItemResult
from prodready.verify.server import ServerProcess
from prodready.verify.stage import Stage

ID = "reload"
TITLE = "reload under load"
RELOADS = 3
RATE = 100.0
"""Requests per second (open model): steady traffic that leaves the CPUs to the new workers."""
CONNECTIONS = 16
LOAD_LIMIT_S = 120.0
"""The load is stopped once the reloads are done; this only bounds a run that is not."""
SETTLE_S = 0.5
"""Load before the first reload and after the last, so each one lands in steady traffic."""
SIGHUP_SETTLE_S = 3.0
"""A SIGHUP (Granian) returns at once: time for its new workers to take over."""
BUDGET_S = 45.0
"""For the three reloads together; a reload still waiting for its new workers then is given
up (prodready reload stops them; the old ones keep serving) and the item warns."""


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
    routes = choose_routes(
        stage.project, lambda path: stage.get(path, headers=headers, timeout=TIMEOUT_S)
    )
    route = routes.light
    if route is None:
        return ItemResult.skipped(
            ID, TITLE, "no detected GET route answers 2xx to load",
            details=[f"tried {r}" for r in routes.refused],
        )  # fmt: skip
    served = stage.start_extra("reload")
    nginx = find_tool("nginx")
    front = server_front(stage.work / "reload-nginx", served.port, stage.options.server_name)
    try:
        why_not = front.start(nginx) if nginx else "nginx is not installed"
        port = served.port if why_not else front.port
        url = f"http://127.0.0.1:{port}{route.path}"
        config = load_config(
            url, headers, connections=CONNECTIONS, duration=LOAD_LIMIT_S, rate=RATE
        )
        run = _reload_under_load(served, config)
        dropped = [] if why_not else front.upstream_errors()
    finally:
        front.stop()
        served.stop()
    done, result = run.done, run.result
    path = (
        f"straight to the server on 127.0.0.1:{served.port} ({why_not})"
        if why_not
        else f"through nginx (plain HTTP, keep-alive to the server on 127.0.0.1:{served.port})"
    )
    details = [
        f"load: prodready.load, {RATE:g} requests/s (open model) on {CONNECTIONS} connections "
        f"to GET {route.path}, {path}",
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
        "nginx_retried": len(dropped),
    }
    kw = {"measures": measures, "details": details, "series": {"p99_ms": p99_series(result)}}
    log = _server_log(served)
    if failed(result):
        summary = (
            f"{failed(result)} of {result.attempts} requests failed across {len(done)} reloads"
        )
        return ItemResult.failed(ID, TITLE, summary, log=log, **kw)
    if dropped:
        details += ["nginx met the server closing or resetting requests:", *dropped[:5]]
        summary = (
            f"0 failed of {result.responses}, but nginx retried {len(dropped)} the server "
            "dropped (a POST would fail)"
        )
        return ItemResult.warned(ID, TITLE, summary[:88], log=log, **kw)
    if run.over_budget:
        details.append(f"reload {len(done) + 1}: {run.refused}")
        summary = f"reload {len(done) + 1} of {RELOADS} not done within {BUDGET_S:.0f} s; 0 failed"
        return ItemResult.warned(ID, TITLE, summary, log=log, **kw)
    if run.refused:
        summary = f"reload {len(done) + 1} of {RELOADS} refused: {run.refused}"
        return ItemResult.failed(ID, TITLE, summary[:88], log=log, **kw)
    return ItemResult.passed(
        ID,
        TITLE,
        f"0 failed of {result.responses} requests across {RELOADS} reloads, "
        f"p99 {result.latency_ms(99):.0f} ms",
        **kw,
    )


@dataclass
class Run:
    done: list[Reloaded]
    result: LoadResult
    refused: str = ""
    """Why the reload after `done` did not happen."""
    over_budget: bool = False
    """It was still waiting for its new workers when BUDGET_S ran out."""


def _reload_under_load(served: ServerProcess, config: LoadConfig) -> Run:
    load = start_flowing(config)
    done: list[Reloaded] = []
    refused, over_budget = "", False
    deadline = time.monotonic() + BUDGET_S
    try:
        time.sleep(SETTLE_S)
        for _ in range(RELOADS):
            began = time.monotonic()
            allowed = max(deadline - began, 1.0)
            try:
                report = reload_server(served.pidfile, ready_timeout_s=allowed)
            except UserError as error:
                refused = error.message
                over_budget = time.monotonic() - began >= allowed
                break
            if report.how == "SIGHUP":
                time.sleep(SIGHUP_SETTLE_S)
            done.append(Reloaded(report, time.monotonic() - began))
        time.sleep(SETTLE_S)
    finally:
        load.stop()
    return Run(done, load.wait(timeout=30), refused, over_budget)


def _server_log(served: ServerProcess, lines: int = 30) -> str:
    """The server's own lines (workers started, stopped, killed), without its access log."""
    own = [ln for ln in served.log_text().splitlines() if '"gunicorn.access"' not in ln]
    return "\n".join(own[-lines:])


def _pids(pids: tuple[int, ...]) -> str:
    return ",".join(map(str, pids))

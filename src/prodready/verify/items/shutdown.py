"""graceful shutdown: SIGTERM while 20 requests are in flight; every one must complete, none
reset. Run on a server of its own (the shared one stays up).

The requests must still be running when the signal lands, so the route is chosen for it:
1. the slowest GET route the project declares (without parameters; those that wait on I/O
   first), timed once on the shared server, when it takes at least SLOW_ROUTE_S;
2. else a slow upload to a POST/PUT/PATCH route that reads its body: half the body sent before
   SIGTERM, the rest after, so each request is inside the app, waiting for its body, when the
   server is told to stop (a route that answers before its body is whole is passed over);
3. else the item is skipped: nothing the app serves can be held open honestly.
"""

from __future__ import annotations

import re
import signal
import threading
import time

from prodready.project.model import RouteInfo
from prodready.verify.inflight import (
    BODY_BYTES,
    Outcomes,
    SlowUpload,
    answered_early,
    finish_upload,
    slow_get,
    start_upload,
)
from prodready.verify.model import ItemResult
from prodready.verify.server import ServerProcess
from prodready.verify.stage import Stage

TITLE = "graceful shutdown"
IN_FLIGHT = 20
SLOW_ROUTE_S = 1.0
TIMED_ROUTES = 5
SETTLE_S = 0.5
"""Time the server gets to take the held requests in before SIGTERM, and the signal to reach
the workers before the uploads go on."""
NOTHING_HOLDS = (
    f"GET routes answer in under {SLOW_ROUTE_S} s; no POST/PUT/PATCH route waits for its body"
)
PARAMETER = re.compile(r"<[^>]*>|\{[^}]*\}")


def verify(stage: Stage) -> ItemResult:
    slow = _slow_get_route(stage)
    served = stage.start_extra("shutdown")
    try:
        if slow is not None:
            path, took = slow
            how = f"{IN_FLIGHT} x GET {path} (the slowest GET route, {took:.1f} s)"
            outcomes = _sigterm_during_gets(served, path)
        else:
            found = _upload_route(stage, served)
            if found is None:
                return ItemResult.skipped(
                    "shutdown",
                    TITLE,
                    "no route holds a request open: none slow, none reads its body",
                    details=[NOTHING_HOLDS],
                )
            method, path = found
            how = (
                f"{IN_FLIGHT} x {method} {path} with a slow upload: half of a "
                f"{BODY_BYTES // 1024} KiB JSON body before SIGTERM, the rest after"
            )
            outcomes = _sigterm_during_uploads(served, method, path)
        exit_code = served.stop()
    finally:
        served.stop()
    return _judged(outcomes, how, exit_code, served)


def _judged(
    outcomes: Outcomes, how: str, exit_code: int | None, served: ServerProcess
) -> ItemResult:
    done, reset, errored = (outcomes.count(r) for r in ("completed", "reset", "errored"))
    measures: dict[str, int | float | str | bool] = {
        "in_flight": IN_FLIGHT, "completed": done, "reset": reset, "errored": errored,
        "exit_code": exit_code if exit_code is not None else "running",
    }  # fmt: skip
    statuses = ", ".join(f"{s} x{n}" for s, n in sorted(outcomes.statuses.items()))
    details = [f"SIGTERM to the master with {how}",
               f"answers: {statuses or 'none'} (any status counts as completed)"]  # fmt: skip
    if done == IN_FLIGHT:
        return ItemResult.passed(
            "shutdown", TITLE, f"SIGTERM with {IN_FLIGHT} in flight: all completed, 0 reset",
            measures=measures, details=details,
        )  # fmt: skip
    return ItemResult.failed(
        "shutdown", TITLE,
        f"SIGTERM with {IN_FLIGHT} in flight: {done} completed, {reset} reset, {errored} errored",
        measures=measures, details=details,
        log="\n".join([*outcomes.errors[:5], served.log_tail(15)])[-2000:],
    )  # fmt: skip


def _slow_get_route(stage: Stage) -> tuple[str, float] | None:
    """The slowest parameterless GET route, if it takes SLOW_ROUTE_S or more."""
    routes = [r for r in stage.project.routes if "GET" in r.methods and not _has_parameters(r)]
    routes.sort(key=lambda r: (not r.blocking_io, len(r.path)))
    timed: list[tuple[float, str]] = []
    for route in routes[:TIMED_ROUTES]:
        started = time.monotonic()
        try:
            stage.get(route.path, timeout=30.0)
        except OSError:
            continue
        timed.append((time.monotonic() - started, route.path))
    took, path = max(timed, default=(0.0, ""))
    return (path, took) if took >= SLOW_ROUTE_S else None


def _upload_route(stage: Stage, served: ServerProcess) -> tuple[str, str] | None:
    """The first POST/PUT/PATCH route (parameters filled with 1) whose handler waits for its
    body, tried with one slow upload each on `served` (the first TIMED_ROUTES of them)."""
    writes = [r for r in stage.project.routes if {"POST", "PUT", "PATCH"} & set(r.methods)]
    for route in writes[:TIMED_ROUTES]:
        method = next(m for m in ("POST", "PUT", "PATCH") if m in route.methods)
        path = PARAMETER.sub("1", route.path)
        probe = start_upload(served.port, method, path)
        early = answered_early(probe, SETTLE_S)
        finish_upload(probe, Outcomes())
        if not early:
            return method, path
    return None


def _sigterm_during_gets(served: ServerProcess, path: str) -> Outcomes:
    outcomes = Outcomes()
    jobs = [threading.Thread(target=slow_get, args=(served.port, path, outcomes))
            for _ in range(IN_FLIGHT)]  # fmt: skip
    for job in jobs:
        job.start()
    time.sleep(SETTLE_S)
    served.process.send_signal(signal.SIGTERM)
    for job in jobs:
        job.join()
    return outcomes


def _sigterm_during_uploads(served: ServerProcess, method: str, path: str) -> Outcomes:
    outcomes = Outcomes()
    uploads: list[SlowUpload] = []
    for _ in range(IN_FLIGHT):
        try:
            uploads.append(start_upload(served.port, method, path))
        except OSError as error:
            outcomes.add("errored", error=f"could not start the upload: {error!r}")
    time.sleep(SETTLE_S)
    served.process.send_signal(signal.SIGTERM)
    time.sleep(SETTLE_S)
    jobs = [threading.Thread(target=finish_upload, args=(u, outcomes)) for u in uploads]
    for job in jobs:
        job.start()
    for job in jobs:
        job.join()
    return outcomes


def _has_parameters(route: RouteInfo) -> bool:
    return bool(PARAMETER.search(route.path))

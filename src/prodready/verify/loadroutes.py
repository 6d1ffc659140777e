"""Which of the app's routes the load items load: the detected GET routes without parameters
that answer 2xx on the served app, each timed over a few requests. The light route is the
fastest of those whose handler waits on nothing; the I/O route the slowest of those that wait
(a database, an HTTP call, a sleep)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from prodready.project.model import Project, RouteInfo
from prodready.project.probes import is_url_path
from prodready.verify.http import Reply

PROBES = 3
"""Requests per route: the median of three ignores a first request's lazy set-up."""
MAX_ROUTES = 12
"""Routes tried at most (each costs PROBES requests)."""
PARAMETER_MARKS = ("<", "{", "(", "^", "$", "*")

Get = Callable[[str], Reply]


@dataclass(frozen=True)
class Route:
    path: str
    io: bool
    """The handler waits on I/O (as detected in its code)."""
    seconds: float
    """Median time of one request on the served app, unloaded."""
    where: str


@dataclass(frozen=True)
class Routes:
    light: Route | None
    io: Route | None
    refused: list[str]
    """`path: status` of the routes that did not answer 2xx."""

    @property
    def loaded(self) -> list[tuple[str, Route]]:
        """(kind, route) for each route to load: the light one, then the I/O one."""
        found = [("light", self.light), ("io", self.io)]
        return [(kind, route) for kind, route in found if route is not None]


def candidates(project: Project) -> list[RouteInfo]:
    """GET routes a request can reach as they are written (no path parameters, no streams)."""
    seen: dict[str, RouteInfo] = {}
    for route in project.routes:
        plain = is_url_path(route.path) and not any(m in route.path for m in PARAMETER_MARKS)
        if plain and "GET" in route.methods and not route.streams:
            seen.setdefault(route.path, route)
    return list(seen.values())[:MAX_ROUTES]


def choose_routes(project: Project, get: Get) -> Routes:
    """Times each candidate with `get` (a request to the served app) and picks the two."""
    answering: list[Route] = []
    refused: list[str] = []
    for info in candidates(project):
        timed = _time(info.path, get)
        if isinstance(timed, str):
            refused.append(f"{info.path}: {timed}")
            continue
        answering.append(Route(info.path, info.blocking_io, timed, f"{info.rel}:{info.line}"))
    waiting = [r for r in answering if r.io]
    quick = [r for r in answering if not r.io] or answering
    light = min(quick, key=lambda r: r.seconds, default=None)
    slow = max((r for r in waiting if r != light), key=lambda r: r.seconds, default=None)
    return Routes(light, slow, refused)


def _time(path: str, get: Get) -> float | str:
    """Median seconds of PROBES requests, or why the route does not count (status, error)."""
    took = []
    for _ in range(PROBES):
        began = time.perf_counter()
        try:
            reply = get(path)
        except OSError as error:
            return f"{type(error).__name__}"
        if not 200 <= reply.status < 300:
            return str(reply.status)
        took.append(time.perf_counter() - began)
    return statistics.median(took)

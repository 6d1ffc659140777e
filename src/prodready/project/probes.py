"""Which routes the healthchecks, probes, alert rules and deploy's health gate use.

With the prodready.runtime kit the app answers /health/live, /health/ready and /metrics. Without
it we fall back to a real GET route the app has (a health-looking one first), and say so: a
probe on a route that does not exist would keep every container unhealthy."""

from __future__ import annotations

import re
from dataclasses import dataclass

from prodready.project.model import Project, RouteInfo

KIT_LIVE = "/health/live"
KIT_READY = "/health/ready"
KIT_METRICS = "/metrics"
URL_PATH = re.compile(r"/[A-Za-z0-9._~%/:@+,=-]*")
HEALTH_WORDS = ("ready", "readyz", "health", "healthz", "live", "livez", "ping", "status")


@dataclass(frozen=True)
class Probes:
    live: str
    ready: str
    metrics: str | None
    uses_kit: bool
    note: str | None = None


def is_url_path(path: str) -> bool:
    return bool(URL_PATH.fullmatch(path))


def uses_runtime_kit(project: Project) -> bool:
    return any("prodready" in summary.imports for summary in project.modules.values())


def choose_probes(project: Project) -> Probes:
    if uses_runtime_kit(project):
        return Probes(KIT_LIVE, KIT_READY, KIT_METRICS, uses_kit=True)
    plain = [r for r in project.routes if _probeable(r)]
    by_path = {r.path for r in plain}
    for word in HEALTH_WORDS:
        for route in plain:
            if route.path.rstrip("/").rsplit("/", 1)[-1].lower() == word:
                return _fallback(
                    route.path, f"health route {route.path} ({route.rel}:{route.line})"
                )
    if "/" in by_path:
        return _fallback("/", "the app's / route")
    if plain:
        route = sorted(plain, key=lambda r: (len(r.path), r.path))[0]
        return _fallback(route.path, f"route {route.path} ({route.rel}:{route.line})")
    return _fallback("/", "/, as no GET route without parameters was found")


def _fallback(path: str, what: str) -> Probes:
    return Probes(
        path,
        path,
        None,
        uses_kit=False,
        note=f"the app does not use prodready.runtime: probes use {what}, "
        "and the alert rules expect metrics the app does not export yet",
    )


def _probeable(route: RouteInfo) -> bool:
    path = route.path
    has_parameters = any(mark in path for mark in ("<", "{", "(", "^", "$"))
    return is_url_path(path) and not has_parameters and ("GET" in route.methods)

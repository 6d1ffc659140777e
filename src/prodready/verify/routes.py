"""Concrete paths the request items send, from the routes detection found: plain GET routes
(no parameters, no streams) and, for a parametrised GET route, a path with given ids."""

from __future__ import annotations

import re

from prodready.project.model import Project, RouteInfo
from prodready.project.probes import choose_probes, is_url_path

_PARAMETER = re.compile(r"<[^<>]+>|\{[^{}]+\}")
_REGEX_MARKS = ("^", "$", "(", "[", "\\", "?", "*", "+")


def plain_get_paths(project: Project, limit: int = 8) -> list[str]:
    """Up to `limit` GET routes without parameters, health-looking ones (the probe) first;
    the probe alone when detection found none."""
    probe = choose_probes(project).ready
    paths = [probe]
    for route in sorted(project.routes, key=lambda r: (len(r.path), r.path)):
        if _plain(route) and route.path not in paths:
            paths.append(route.path)
    return paths[:limit]


def app_route(project: Project) -> str:
    """One plain GET route of the app itself (not a kit endpoint), else the probe."""
    probes = choose_probes(project)
    kit = {probes.live, probes.ready, probes.metrics} if probes.uses_kit else set()
    for path in plain_get_paths(project):
        if path not in kit:
            return path
    return probes.ready


def parametrised_paths(project: Project, ids: tuple[int, ...]) -> tuple[str, list[str]] | None:
    """(route template, one concrete path per id) for the first GET route whose parameters are
    plain `<...>` or `{...}` segments, or None when there is none."""
    for route in sorted(project.routes, key=lambda r: (len(r.path), r.path)):
        if "GET" not in route.methods or route.streams or not _PARAMETER.search(route.path):
            continue
        if any(mark in route.path for mark in _REGEX_MARKS):
            continue
        paths = [_PARAMETER.sub(str(n), route.path) for n in ids]
        if all(is_url_path(path) for path in paths):
            return route.path, paths
    return None


def post_route(project: Project) -> str | None:
    """A POST route (where a login form or API body goes), parameters filled with 1, plain
    routes first; None when there is none."""
    routes = sorted(project.routes, key=lambda r: (bool(_PARAMETER.search(r.path)), len(r.path)))
    for route in routes:
        path = _PARAMETER.sub("1", route.path)
        regex = any(mark in route.path for mark in _REGEX_MARKS)
        if "POST" in route.methods and not regex and is_url_path(path):
            return path
    return None


def _plain(route: RouteInfo) -> bool:
    return (
        "GET" in route.methods
        and not route.streams
        and is_url_path(route.path)
        and not _PARAMETER.search(route.path)
    )

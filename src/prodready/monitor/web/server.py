"""`prodready monitor --ui HOST:PORT`: `/` the dashboard, `/status` the public read-only
status page (no reasons, charts or channels), `/badge/<endpoint>.svg` a status badge."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import jinja2

from prodready.monitor.durations import format_duration
from prodready.monitor.web.status import EndpointStatus, endpoint_status, failed_notifications
from prodready.monitor.web.svg import badge_svg, latency_svg

if TYPE_CHECKING:
    from aiohttp import web

    from prodready.monitor.scheduler import Monitor

REFRESH_S = 30

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("prodready.monitor.web", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def _clock(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def statuses(monitor: Monitor, now: float) -> list[EndpointStatus]:
    assert monitor.store is not None
    found = []
    for endpoint in monitor.config.endpoints:
        verdict = monitor.latest.get(endpoint.name)
        state = monitor.trackers[endpoint.name].status
        found.append(
            endpoint_status(
                monitor.store,
                endpoint.name,
                state,
                verdict.result.reason if verdict else "",
                verdict.result.latency * 1000 if verdict else None,
                verdict.result.cert_days if verdict else None,
                now,
            )
        )
    return found


def render_page(monitor: Monitor, public: bool, now: float | None = None) -> str:
    now = time.time() if now is None else now
    endpoints = statuses(monitor, now)
    assert monitor.store is not None
    return _templates.get_template("page.html.j2").render(
        title="Status" if public else "prodready monitor",
        endpoints=endpoints,
        down=[e.name for e in endpoints if e.state == "down"],
        charts={e.name: latency_svg(e.chart, now) for e in endpoints},
        failed=failed_notifications(monitor.store, now),
        public=public,
        refresh=REFRESH_S,
        updated=_clock(now),
        now=now,
        clock=_clock,
        duration=format_duration,
    )


def render_badge(monitor: Monitor, name: str) -> str | None:
    if name not in monitor.trackers:
        return None
    state = monitor.trackers[name].status
    up = None if state == "unknown" else state == "up"
    return badge_svg(name, state, up)


async def serve_ui(monitor: Monitor, host: str, port: int) -> web.AppRunner:
    from aiohttp import web

    async def dashboard(request: web.Request) -> web.Response:
        return web.Response(text=render_page(monitor, public=False), content_type="text/html")

    async def public(request: web.Request) -> web.Response:
        return web.Response(text=render_page(monitor, public=True), content_type="text/html")

    async def badge(request: web.Request) -> web.Response:
        svg = render_badge(monitor, request.match_info["name"])
        if svg is None:
            raise web.HTTPNotFound(text="no such endpoint")
        return web.Response(
            text=svg, content_type="image/svg+xml", headers={"Cache-Control": "no-cache"}
        )

    app = web.Application()
    app.router.add_get("/", dashboard)
    app.router.add_get("/status", public)
    app.router.add_get("/badge/{name}.svg", badge)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner

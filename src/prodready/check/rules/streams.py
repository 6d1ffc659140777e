"""Rules about long-lived streams (server-sent events, StreamingResponse): PR123 on the code,
PR924-PR926 across the code, the Gunicorn setup and nginx. Streaming routes are the Project's
fact (`RouteInfo.streams`), their heartbeats too (`ModuleSummary.stream_heartbeats`)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator

from prodready.check.model import Hit, Severity
from prodready.check.pycontext import PyContext
from prodready.check.registry import rule
from prodready.check.rules.crossfile_facts import (
    gunicorn_setup,
    inherited,
    production_nginx,
    production_servers,
)
from prodready.project.model import FileKind, Project, RouteInfo
from prodready.project.parsers.nginx import Directive, NginxConf

PY = FileKind.PYTHON.value
PROJECT = "project"
STREAM_RESPONSES = frozenset({"StreamingResponse", "EventSourceResponse", "StreamingHttpResponse"})
NGINX_READ_TIMEOUT_S = 60.0
"""nginx's default proxy_read_timeout."""
GUNICORN_TIMEOUT_S = 30
_PARAM = re.compile(r"\{[^}]*\}|<[^>]*>")
_NGINX_TIME = re.compile(r"(\d+)(ms|s|m|h|d|w|M|y)?")
_NGINX_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def streaming_routes(project: Project) -> list[RouteInfo]:
    """The stream routes of files that are deployed (not tests or dev scripts)."""
    return [r for r in project.routes if r.streams and project.env_of(r.rel).deployed]


def _shown(routes: list[RouteInfo]) -> str:
    return ", ".join(f"{r.path} ({r.rel}:{r.line})" for r in routes[:2]) + (
        f" and {len(routes) - 2} more" if len(routes) > 2 else ""
    )


# --- PR123 -------------------------------------------------------------------------------------


@rule(
    "PR123",
    "stream-generator-ignores-disconnect",
    title="An endless streaming generator never checks that the client is still there",
    severity=Severity.WARNING,
    kind=PY,
    why="""
A `while True:` generator behind a StreamingResponse or EventSourceResponse keeps running
after the browser has gone until a write to the closed connection fails, and under ASGI
servers that report disconnects only on the next send (ASGI 2.4) that may be never, if it
waits on a queue or a database between events. Every closed tab then leaves a task (or a
thread) polling for nobody, and the workers fill up with them.
""",
    fix="""
Leave the loop when the client is gone: `if await request.is_disconnected(): break`, or a
`try: ... finally:` that releases what the loop holds. prodready.runtime streams do this for
you: `return reports.response(task_id)`.
""",
    bad="""
async def ticker():
    while True:
        yield f"data: {await next_price()}\\n\\n"
""",
    good="""
async def ticker(request):
    while not await request.is_disconnected():
        yield f"data: {await next_price()}\\n\\n"
""",
)
def stream_generator_ignores_disconnect(ctx: PyContext) -> Iterable[Hit]:
    generators = {
        node.name: node
        for kind in (ast.FunctionDef, ast.AsyncFunctionDef)
        for node in ctx.nodes(kind)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _is_generator(node)
    }
    reported: set[str] = set()
    for name in STREAM_RESPONSES:
        for call, _callee in ctx.calls_named(name):
            source = call.args[0] if call.args else None
            if isinstance(source, ast.Call) and isinstance(source.func, ast.Name):
                generator = generators.get(source.func.id)
                if generator is None or generator.name in reported:
                    continue
                loop = _endless_loop(generator)
                if loop is not None and not _handles_disconnect(generator):
                    reported.add(generator.name)
                    yield Hit(
                        loop.lineno,
                        f"{generator.name}() loops forever behind {name} (line {call.lineno}) "
                        "and never checks request.is_disconnected() nor cleans up in finally",
                    )


def _is_generator(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(inner, ast.Yield | ast.YieldFrom) for inner in ast.walk(node))


def _endless_loop(node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.While | None:
    for inner in ast.walk(node):
        if (
            isinstance(inner, ast.While)
            and isinstance(inner.test, ast.Constant)
            and inner.test.value
            and not any(isinstance(n, ast.Break | ast.Return) for n in ast.walk(inner))
        ):
            return inner
    return None


def _handles_disconnect(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Attribute) and inner.attr == "is_disconnected":
            return True
        if isinstance(inner, ast.Try) and inner.finalbody:
            return True
        if isinstance(inner, ast.ExceptHandler) and inner.type is not None:
            caught = ast.unparse(inner.type)
            if "CancelledError" in caught or "GeneratorExit" in caught:
                return True
    return False


# --- PR924 -------------------------------------------------------------------------------------


@rule(
    "PR924",
    "stream-under-sync-worker",
    title="Streaming routes served by Gunicorn's sync worker",
    severity=Severity.ERROR,
    kind=PROJECT,
    why="""
Gunicorn's sync worker serves one request at a time and is killed when a request runs longer
than `timeout` (30 s by default). A server-sent event stream is a request that lasts minutes:
each open stream takes a whole worker (a few tabs and the site stops answering), and every
stream is cut off at the timeout, mid-report, with the worker restarted under it.
""",
    fix="""
Serve streams with workers that hold long connections: `--worker-class gthread --threads 100`
(a thread per open stream; the timeout then watches the worker, not the request), or an
ASGI worker for ASGI apps. `prodready serve` and `prodready init` choose this by themselves.
""",
    bad="gunicorn -w 4 app:app            # app has @app.get('/events') -> stream.response()",
    good="gunicorn -w 4 -k gthread --threads 100 app:app",
)
def stream_under_sync_worker(project: Project) -> Iterable[Hit]:
    routes = [r for r in streaming_routes(project) if not r.is_async]
    if not routes:
        return
    for served in production_servers(project):
        setup = gunicorn_setup(project, served)
        if setup is None:
            continue
        worker = setup.setting("worker_class")
        threads = setup.setting("threads")
        name = worker[0] if worker else "sync"
        many_threads = threads is not None and isinstance(threads[0], int) and threads[0] > 1
        if name != "sync" or many_threads:  # gunicorn turns sync into gthread for threads > 1
            continue
        timeout = setup.setting("timeout")
        seconds = timeout[0] if timeout and isinstance(timeout[0], int) else GUNICORN_TIMEOUT_S
        rel, line = (worker[1], worker[2]) if worker else (served.launch.rel, served.launch.line)
        yield Hit(
            line,
            f"streaming routes {_shown(routes)} run under gunicorn's sync worker: each open "
            f"stream holds a whole worker and is killed after timeout = {seconds} s",
            path=rel,
        )


# --- PR925 -------------------------------------------------------------------------------------


@rule(
    "PR925",
    "nginx-buffers-stream-route",
    title="nginx buffers a streaming route",
    severity=Severity.WARNING,
    kind=PROJECT,
    why="""
nginx reads a proxied response into its buffers before it passes it on (proxy_buffering is on
by default), so the events of a server-sent event stream reach the browser in bursts of
4-8 KiB, minutes late, or only when the stream ends. Apps that send `X-Accel-Buffering: no`
escape it; any other streaming response does not, and the page shows nothing.
""",
    fix="""
Give the stream routes a location of their own with `proxy_buffering off; proxy_cache off;`,
`proxy_http_version 1.1;` and a `proxy_read_timeout` above the stream's heartbeat
(`prodready init` writes it).
""",
    bad="location / { proxy_pass http://app; }            # /events/ streams",
    good="location /events/ { proxy_pass http://app; proxy_buffering off; proxy_cache off; }",
)
def nginx_buffers_stream_route(project: Project) -> Iterable[Hit]:
    routes = streaming_routes(project)
    for conf in production_nginx(project):
        for route, location, proxy in _serving_locations(conf, routes):
            buffering = inherited(proxy, "proxy_buffering")
            if buffering is None or buffering.args[:1] != ["off"]:
                yield Hit(
                    location.line,
                    f"location {' '.join(location.args)} proxies the streaming route "
                    f"{route.path} ({route.rel}:{route.line}) with proxy_buffering "
                    f"{'on' if buffering is None else buffering.args[0]}",
                    path=conf.rel,
                )


def _serving_locations(
    conf: NginxConf, routes: list[RouteInfo]
) -> Iterator[tuple[RouteInfo, Directive, Directive]]:
    """(route, location, its proxy_pass) for the prefix location that serves each route in
    each server (nginx picks the longest matching prefix; regex locations are not judged)."""
    for server in conf.servers():
        locations = [
            d for d in conf.walk() if d.name == "location" and d.args and _server_of(d) is server
        ]
        for route in routes:
            sample = _PARAM.sub("x", route.path)
            best: Directive | None = None
            for location in locations:
                if location.args[0] in ("~", "~*", "@") or location.args[0].startswith("@"):
                    continue
                prefix = location.args[-1]
                exact = location.args[0] == "="
                matches = (sample == prefix) if exact else sample.startswith(prefix)
                if matches and (best is None or len(prefix) > len(best.args[-1])):
                    best = location
            proxy = best.child("proxy_pass") if best is not None else None
            if best is not None and proxy is not None:
                yield route, best, proxy


def _server_of(directive: Directive) -> Directive | None:
    return next((d for d in directive.ancestors() if d.name == "server"), None)


# --- PR926 -------------------------------------------------------------------------------------


@rule(
    "PR926",
    "stream-heartbeat-above-proxy-timeout",
    title="A stream's heartbeat is not below the proxy's read timeout",
    severity=Severity.WARNING,
    kind=PROJECT,
    why="""
nginx closes a proxied connection on which the app has sent nothing for proxy_read_timeout
(60 s by default). A stream that is quiet for longer (no events, and a heartbeat at or above
that timeout) is cut every time; the browser reconnects, and any event published in between
is lost unless the stream replays.
""",
    fix="""
Keep the heartbeat well below every idle timeout on the way (nginx proxy_read_timeout, load
balancers: often 60 s): `prod.stream("reports", heartbeat=15)`, or raise proxy_read_timeout in
the stream's location.
""",
    bad='prod.stream("reports", heartbeat=90)     # nginx: proxy_read_timeout 60s (default)',
    good='prod.stream("reports", heartbeat=15)',
)
def stream_heartbeat_above_proxy_timeout(project: Project) -> Iterable[Hit]:
    routes = streaming_routes(project)
    for conf in production_nginx(project):
        for route, _location, proxy in _serving_locations(conf, routes):
            summary = project.modules.get(route.rel)
            if summary is None:
                continue
            found = inherited(proxy, "proxy_read_timeout")
            timeout = _nginx_seconds(found.args[0]) if found and found.args else None
            timeout = NGINX_READ_TIMEOUT_S if found is None else timeout
            if timeout is None:
                continue
            for line, heartbeat in summary.stream_heartbeats:
                if heartbeat >= timeout:
                    where = f"{conf.rel}:{found.line}" if found else f"{conf.rel} (default)"
                    yield Hit(
                        line,
                        f"heartbeat {heartbeat:g} s is not below nginx's proxy_read_timeout "
                        f"{timeout:g} s ({where}) for {route.path}: idle streams are cut",
                        path=route.rel,
                    )


def _nginx_seconds(text: str) -> float | None:
    """nginx time: 60, 60s, 1m30s, 1h."""
    total, position = 0.0, 0
    for match in _NGINX_TIME.finditer(text):
        if match.start() != position:
            return None
        total += int(match[1]) * _NGINX_UNITS.get(match[2] or "s", 1)
        position = match.end()
    return total if position == len(text) and text else None

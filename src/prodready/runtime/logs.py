"""JSON logs on stdout, one object per line, through one structlog pipeline.

structlog loggers, the stdlib `logging` tree (libraries, Django, Flask) and the servers' own
loggers (gunicorn.error, gunicorn.access, uvicorn.*) all end in the same JSON renderer, and every
line written while a request is handled carries its `request_id`.

`gunicorn_logconfig_dict()` is what `prodready serve` hands to Gunicorn (`logconfig_dict`), and
`GunicornLogger` is its `logger_class`: access lines become structured events instead of an
Apache-style string. Both stay cheap to import: structlog is imported when they are called.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from prodready.runtime.requestid import request_id_var

SERVER_LOGGERS = ("gunicorn.error", "gunicorn.access", "uvicorn", "uvicorn.error", "uvicorn.access")
"""Loggers servers configure with their own handlers; we route them into the JSON pipeline."""

_access_log: DeferredAccessLog | None = None
"""The access log `access_log()` gives kits now."""
_every_access_log: list[DeferredAccessLog] = []
"""Every one made in this process: a kit keeps the one it was given even after a later
configure_logging replaced or dropped it, and its queued lines must still be written."""
_configured_here = False


def write_queued_access_lines_first(
    _logger: Any, _method: str, event_dict: dict[str, Any]
) -> dict[str, Any]:
    """structlog processor: writes the queued access lines before this line, to keep order."""
    for access_log in _every_access_log:
        access_log.drain()
    return event_dict


def add_request_id(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: adds the current request's ID, if any."""
    request_id = request_id_var.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


class Timestamp:
    """structlog processor: ISO 8601 UTC time with microseconds, as TimeStamper(fmt="iso",
    utc=True) writes it, at a fifth of the cost: the date and time are formatted once a second.
    """

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def __call__(self, _logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        event_dict["timestamp"] = self.format(time.time())
        return event_dict

    def format(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._text = time.strftime("%Y-%m-%dT%H:%M:%S.%%06dZ", time.gmtime(second))
            self._second = second
        return self._text % ((now - second) * 1_000_000)


FORMATTER_FIELDS = ("message", "asctime", "color_message")
"""Set on a record by other formatters (a handler of the app's own that formats it first, or
uvicorn's `extra={"color_message": ...}`), never by the caller's `extra`: stdlib refuses
`message` and `asctime` there. They repeat `event` and `timestamp` in another shape."""


def drop_formatter_fields(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: keeps one schema whatever handlers formatted the record first."""
    for name in FORMATTER_FIELDS:
        event_dict.pop(name, None)
    return event_dict


def _pre_chain() -> list[Any]:
    """Processors shared by structlog events and stdlib records, before rendering."""
    import structlog

    return [
        structlog.contextvars.merge_contextvars,
        add_request_id,
        structlog.stdlib.add_log_level,
        Timestamp(),
        write_queued_access_lines_first,
    ]


LOG_FORMAT_ENV = "PRODREADY_LOG_FORMAT"
"""`json` or `console`: set by `prodready serve --log-format` for the workers' own logging."""


def wants_json(stream: Any = None) -> bool:
    """JSON lines unless $PRODREADY_LOG_FORMAT says `console`, or, without it, the stream
    (stdout by default) is a terminal: there a person reads them, not a log shipper."""
    chosen = os.environ.get(LOG_FORMAT_ENV, "").strip().lower()
    if chosen in ("json", "console"):
        return chosen == "json"
    stream = sys.stdout if stream is None else stream
    try:
        return not stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return True


def _renderer(json: bool, as_bytes: bool) -> Any:
    import structlog

    if not json:
        return structlog.dev.ConsoleRenderer(colors=_is_terminal(sys.stdout))
    import orjson

    if as_bytes:
        return structlog.processors.JSONRenderer(serializer=orjson.dumps)
    return structlog.processors.JSONRenderer(
        serializer=lambda obj, **kw: orjson.dumps(obj, **kw).decode()
    )


def _lines_renderer(json: bool, as_bytes: bool) -> Callable[[list[dict[str, Any]]], Any]:
    """Renders access events as `_renderer` does, one line each, newline-terminated. JSON
    lines come from one orjson call for the whole batch (through structlog's JSONRenderer, one
    line at a time, they cost several times as much): orjson writes `[{...},{...}]` without
    spaces, and the batch is cut where `},{"method":` occurs. That is only ever between two
    events: every event starts with the key "method" and holds scalars only, a quote inside a
    string is escaped, and a string that ends in `},{` is followed by `,` or `}`, never by
    `method":` (a request path like `/x},{` must not split a line)."""
    if not json:
        render = _renderer(json=False, as_bytes=False)
        return lambda events: "".join(f"{render(None, e['level'], e)}\n" for e in events)
    import orjson

    def render_json(events: list[dict[str, Any]]) -> bytes:
        return orjson.dumps(events)[1:-1].replace(b'},{"method":', b'}\n{"method":') + b"\n"

    if as_bytes:
        return render_json
    return lambda events: render_json(events).decode()


class DeferredAccessLog:
    """The one access line per request, queued on the request path and rendered in batches.

    A request only appends a tuple (time, request ID and its fields) to a deque; a background
    thread renders the queued lines every FLUSH_INTERVAL seconds and writes them in one system
    call (nginx's `access_log ... flush=`). Rendered one at a time between two requests, a
    line costs about three times what it costs in a batch: the JSON renderer and the write path
    are no longer in the CPU caches by the next request (benchmarks/runtime_overhead.py).

    Order with other output is kept: every other log line, structlog's or stdlib's, first writes
    the queued ones (`write_queued_access_lines_first`, a processor of the shared chain). Queued
    lines are written at exit and before fork; a SIGKILL may lose the last FLUSH_INTERVAL of
    them. On a terminal every line is written at once.
    """

    FLUSH_INTERVAL = 0.2
    MAX_QUEUED = 50_000
    """Above this many queued lines the request that adds one writes them all itself."""

    def __init__(self, json: bool, stream: Any, min_status: int = 0) -> None:
        self._json = json
        self._render = _lines_renderer(json, as_bytes=not isinstance(stream, io.TextIOBase))
        self._min_status = min_status
        """Lines of requests answered below this status are dropped: their level (see
        `access_level`) is below the configured one."""
        self._stream = stream
        self._queue: deque[tuple[Any, ...]] = deque()
        self._timestamp = Timestamp()
        self._drain_lock = threading.Lock()
        self._interactive = stream.isatty()
        self._flusher_pid = 0

    def __call__(
        self, method: str, path: str, route: str, status: int, seconds: float, client: str | None
    ) -> None:
        if status < self._min_status:
            return
        queue = self._queue
        queue.append((time.time(), request_id_var.get(), method, path, route, status, seconds,
                      client))  # fmt: skip
        if self._interactive or len(queue) > self.MAX_QUEUED:
            self.drain()
        elif self._flusher_pid != _pid:
            self._start_flusher()

    def writes_like(self, json: bool, stream: Any, min_status: int) -> bool:
        """Whether this log renders the same way into the same stream: configure_logging,
        called again by every Production(), then keeps it rather than making another."""
        return json == self._json and stream is self._stream and min_status == self._min_status

    def drain(self) -> None:
        """Writes every queued line now, in the order they were queued."""
        if not self._queue:
            return
        with self._drain_lock:
            self._write_queued()

    def _write_queued(self) -> None:
        queue, timestamp = self._queue, self._timestamp
        events = []
        while queue:
            now, request_id, method, path, route, status, seconds, client = queue.popleft()
            # round(x * 1e6) / 1e3 is round(x * 1e3, 3) at a third of the cost.
            # "method" first: the batch renderer cuts lines before it (see _lines_renderer).
            event = {"method": method, "path": path, "route": route, "status": status,
                     "duration_ms": round(seconds * 1_000_000) / 1000, "client": client,
                     "event": "request"}  # fmt: skip
            if request_id is not None:
                event["request_id"] = request_id
            event["level"] = "info" if status < 400 else access_level(status)
            event["timestamp"] = timestamp.format(now)
            events.append(event)
        if events:
            self._stream.write(self._render(events))
            self._stream.flush()

    def _start_flusher(self) -> None:
        with self._drain_lock:
            if self._flusher_pid == _pid:
                return
            self._flusher_pid = _pid
            if not _at_exit_registered:
                _register_exit_hooks()
            thread = threading.Thread(target=self._run, name="prodready-access-log", daemon=True)
            thread.start()

    def _run(self) -> None:
        pid = _pid
        while pid == _pid:
            time.sleep(self.FLUSH_INTERVAL)
            try:
                self.drain()
            except (OSError, ValueError):  # stdout closed at shutdown, or a broken pipe
                return


_pid = os.getpid()
"""This process's ID, updated after fork: a forked worker starts its own flusher thread."""
_at_exit_registered = False


def _register_exit_hooks() -> None:
    import atexit

    global _at_exit_registered
    _at_exit_registered = True
    atexit.register(_drain_quietly)
    os.register_at_fork(before=_drain_quietly, after_in_child=_forked)


def _forked() -> None:
    global _pid
    _pid = os.getpid()
    for access_log in _every_access_log:  # the parent's flusher may have held the lock
        access_log._drain_lock = threading.Lock()


def _drain_quietly() -> None:
    for access_log in _every_access_log:
        with contextlib.suppress(OSError, ValueError):  # stdout closed, or a broken pipe
            access_log.drain()


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _logger_factory(as_bytes: bool) -> Any:
    import structlog

    if as_bytes:
        return structlog.BytesLoggerFactory(file=sys.stdout.buffer)
    return structlog.WriteLoggerFactory(file=sys.stdout)


def json_formatter(json: bool | None = None) -> logging.Formatter:
    """A stdlib formatter that renders records through the structlog pipeline: JSON, or lines
    for people (`json=False`); by default as `wants_json()` decides."""
    import structlog

    json = wants_json() if json is None else json
    renderer = _renderer(json, as_bytes=False)
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            *_pre_chain(),
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            drop_formatter_fields,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )


def configure_logging(level: str | int = "INFO", json: bool | None = None) -> None:
    """Sends structlog and stdlib logging to stdout as JSON lines. Idempotent.

    On a terminal the lines are for people (structlog's console renderer) unless
    $PRODREADY_LOG_FORMAT says `json` (see `wants_json`); `json=` decides it outright.
    Replaces the handlers of the root logger and of the servers' loggers (which uvicorn and
    gunicorn set up before the app is imported) with one stdout handler.
    """
    import structlog

    if isinstance(level, str):
        level = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    json = wants_json() if json is None else json
    # Bytes straight to stdout's buffer when there is one (orjson renders bytes).
    as_bytes = json and hasattr(sys.stdout, "buffer")
    structlog.configure(
        processors=[
            *_pre_chain(),
            structlog.processors.format_exc_info,
            _renderer(json, as_bytes),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=_logger_factory(as_bytes),
        cache_logger_on_first_use=True,
    )
    global _access_log, _configured_here
    _configured_here = True
    if level <= logging.ERROR:
        stream = sys.stdout.buffer if as_bytes else sys.stdout
        min_status = 0 if level <= logging.INFO else 400 if level <= logging.WARNING else 500
        if _access_log is None or not _access_log.writes_like(json, stream, min_status):
            _access_log = DeferredAccessLog(json, stream, min_status)
            _every_access_log.append(_access_log)
    else:
        _access_log = None
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(json_formatter(json))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in SERVER_LOGGERS:
        server_logger = logging.getLogger(name)
        if server_logger.handlers:
            server_logger.handlers = [handler]
            server_logger.propagate = False


def silence_server_access_logs() -> None:
    """The kit writes one access line per request (with route and request ID); the servers'
    own access lines would repeat it (at any level: a 5xx line is an error), so they are kept
    for when the kit's are off."""
    for name in ("gunicorn.access", "uvicorn.access"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def access_level(status: int) -> str:
    """The level of a request's access line: users filter on level, so a 5xx is an error and a
    4xx a warning, not one more info line among thousands."""
    if status >= 500:
        return "error"
    return "warning" if status >= 400 else "info"


AccessLogWriter = Callable[[str, str, str, int, float, "str | None"], None]
"""(method, path, route template, status, seconds, client) -> None"""


def access_log() -> AccessLogWriter | None:
    """The callable that writes one line per request: the `DeferredAccessLog` when
    `configure_logging` set up the logs (None when its level hides even errors), an event
    through the app's own structlog configuration otherwise."""
    if _configured_here:
        return _access_log
    logger = get_logger("prodready.access")

    def write(
        method: str, path: str, route: str, status: int, seconds: float, client: str | None
    ) -> None:
        getattr(logger, access_level(status))(
            "request", method=method, path=path, route=route, status=status,
            duration_ms=round(seconds * 1000, 3), client=client)  # fmt: skip

    return write


def get_logger(name: str = "prodready") -> Any:
    """A structlog logger; `configure_logging()` decides where its lines go."""
    import structlog

    return structlog.get_logger(name)


def gunicorn_logconfig_dict(json: bool | None = None, level: str = "info") -> dict[str, Any]:
    """Gunicorn `logconfig_dict`: error and access logs as JSON lines on stdout (by default
    as `wants_json()` decides: lines for people on a terminal), at Gunicorn's `loglevel`
    (dictConfig runs after Gunicorn applies it, so it is repeated here); access lines are
    written whatever the level, as Gunicorn does.

    Uvicorn workers reuse Gunicorn's handlers, so uvicorn's loggers follow. Pair it with
    `logger_class = "prodready.runtime.logs.GunicornLogger"` to get structured access fields.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"prodready": {"()": json_formatter, "json": json}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "prodready",
                "stream": "ext://sys.stdout",
                "filters": ["cancelled_stream_task"],
            }
        },
        "filters": {"cancelled_stream_task": {"()": CancelledStreamTaskNoise}},
        "root": {"level": level.upper(), "handlers": ["stdout"]},
        "loggers": {
            name: {
                "level": "INFO" if name.endswith(".access") else level.upper(),
                "handlers": ["stdout"],
                "propagate": False,
            }
            for name in SERVER_LOGGERS
        },
    }


class CancelledStreamTaskNoise(logging.Filter):
    """Drops the error asyncio < 3.11.8 / 3.12.2 logs when a stream server's client task is
    cancelled (CPython gh-113538: the callback that reports a failed task calls
    `task.exception()`, which raises on a cancelled one). Gunicorn 27's control server cancels
    its client tasks whenever it stops, before every worker fork, so `prodready reload` made
    the master log a traceback that is not a fault. Other asyncio errors pass.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (
            record.name == "asyncio"
            and type(error).__name__ == "CancelledError"
            and str(record.msg).startswith("Exception in callback StreamReaderProtocol.")
        )


def request_time_ms(request_time: Any) -> float:
    """Milliseconds from what Gunicorn passes to `Logger.access`.

    Its sync and gthread workers pass a `datetime.timedelta`; the asyncio ASGI worker of
    Gunicorn 27 passes a `_RequestTime` with only `.seconds` and `.microseconds`, the two
    fields both types share (plus a timedelta's `.days`).
    """
    seconds = getattr(request_time, "days", 0) * 86_400 + request_time.seconds
    return round(seconds * 1000 + request_time.microseconds / 1000, 3)


def _gunicorn_logger_base() -> type:
    from gunicorn.glogging import Logger

    return Logger


def __getattr__(name: str) -> Any:
    # GunicornLogger subclasses gunicorn's Logger; built on first access so importing this
    # module does not import gunicorn.
    if name == "GunicornLogger":
        cls = _build_gunicorn_logger()
        globals()["GunicornLogger"] = cls
        return cls
    raise AttributeError(name)


def _build_gunicorn_logger() -> type:
    base = _gunicorn_logger_base()

    class GunicornLogger(base):  # type: ignore[misc, valid-type]
        """Gunicorn logger_class whose access lines are structured events, with request_id."""

        def access(self, resp: Any, req: Any, environ: dict, request_time: Any) -> None:
            if not self.access_log_enabled:
                return
            request_id = None
            for header, value in resp.headers or ():
                if header.lower() == "x-request-id":
                    request_id = value
                    break
            status = int(str(resp.status).split(None, 1)[0])
            getattr(self.access_log, access_level(status))(
                "request",
                extra={
                    "method": environ.get("REQUEST_METHOD"),
                    "path": environ.get("PATH_INFO"),
                    "status": status,
                    "duration_ms": request_time_ms(request_time),
                    "remote_addr": environ.get("REMOTE_ADDR"),
                    "request_id": request_id,
                },
            )

    return GunicornLogger

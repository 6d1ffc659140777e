"""JSON logs on stdout, one object per line, through one structlog pipeline.

structlog loggers, the stdlib `logging` tree (libraries, Django, Flask) and the servers' own
loggers (gunicorn.error, gunicorn.access, uvicorn.*) all end in the same JSON renderer, and every
line written while a request is handled carries its `request_id`.

`gunicorn_logconfig_dict()` is what `prodready serve` hands to Gunicorn (`logconfig_dict`), and
`GunicornLogger` is its `logger_class`: access lines become structured events instead of an
Apache-style string. Both stay cheap to import: structlog is imported when they are called.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from prodready.runtime.requestid import request_id_var

SERVER_LOGGERS = ("gunicorn.error", "gunicorn.access", "uvicorn", "uvicorn.error", "uvicorn.access")
"""Loggers servers configure with their own handlers; we route them into the JSON pipeline."""

_access_log: AccessLog | None = None
_configured_here = False


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
        now = time.time()
        second = int(now)
        if second != self._second:
            self._text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        event_dict["timestamp"] = f"{self._text}.{int((now - second) * 1_000_000):06d}Z"
        return event_dict


def _pre_chain() -> list[Any]:
    """Processors shared by structlog events and stdlib records, before rendering."""
    import structlog

    return [
        structlog.contextvars.merge_contextvars,
        add_request_id,
        structlog.stdlib.add_log_level,
        Timestamp(),
    ]


def _renderer(json: bool, as_bytes: bool) -> Any:
    import structlog

    if not json:
        return structlog.dev.ConsoleRenderer(colors=False)
    import orjson

    if as_bytes:
        return structlog.processors.JSONRenderer(serializer=orjson.dumps)
    return structlog.processors.JSONRenderer(
        serializer=lambda obj, **kw: orjson.dumps(obj, **kw).decode()
    )


class BufferedStdoutLines:
    """structlog logger for access lines: appends them to stdout's buffer, which a background
    thread flushes every FLUSH_INTERVAL seconds (nginx's `access_log ... flush=`).

    One write system call per batch instead of one per request. Order with other output is
    kept: any other log line flushes sys.stdout, and with it the lines before it. Pending lines
    are flushed at exit and before fork; a SIGKILL may lose the last FLUSH_INTERVAL of them.
    On a terminal every line is written at once.
    """

    FLUSH_INTERVAL = 0.2

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._interactive = stream.isatty()

    def msg(self, message: bytes) -> None:
        self._stream.write(message + b"\n")
        if self._interactive:
            self._stream.flush()
        elif not _flusher.started:
            _flusher.start(self._stream)

    info = debug = warning = error = critical = exception = msg


class _Flusher:
    def __init__(self) -> None:
        self.started = False

    def start(self, stream: Any) -> None:
        import atexit
        import threading

        self.started = True
        atexit.register(_flush_quietly, stream)
        os.register_at_fork(before=lambda: _flush_quietly(stream), after_in_child=self._forked)
        flusher = threading.Thread(target=self._run, args=(stream,), name="prodready-logs")
        flusher.daemon = True
        flusher.start()

    def _forked(self) -> None:
        self.started = False  # the thread did not survive the fork

    @staticmethod
    def _run(stream: Any) -> None:
        while True:
            time.sleep(BufferedStdoutLines.FLUSH_INTERVAL)
            if not _flush_quietly(stream):
                return


def _flush_quietly(stream: Any) -> bool:
    try:
        stream.flush()
    except (OSError, ValueError):  # closed at shutdown, or a broken pipe
        return False
    return True


_flusher = _Flusher()


def _logger_factory(as_bytes: bool) -> Any:
    import structlog

    if as_bytes:
        return structlog.BytesLoggerFactory(file=sys.stdout.buffer)
    return structlog.WriteLoggerFactory(file=sys.stdout)


def json_formatter(json: bool = True) -> logging.Formatter:
    """A stdlib formatter that renders records through the structlog pipeline."""
    import structlog

    renderer = _renderer(json, as_bytes=False)
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            *_pre_chain(),
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )


def configure_logging(level: str | int = "INFO", json: bool = True) -> None:
    """Sends structlog and stdlib logging to stdout as JSON lines. Idempotent.

    Replaces the handlers of the root logger and of the servers' loggers (which uvicorn and
    gunicorn set up before the app is imported) with one stdout handler.
    """
    import structlog

    if isinstance(level, str):
        level = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
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
    _access_log = None
    if level <= logging.INFO:
        sink = BufferedStdoutLines(sys.stdout.buffer) if as_bytes else _logger_factory(False)()
        _access_log = AccessLog(_renderer(json, as_bytes), sink.msg)
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
    own access lines would repeat it, so they are kept for when the kit's are off."""
    for name in ("gunicorn.access", "uvicorn.access"):
        logging.getLogger(name).setLevel(logging.WARNING)


class AccessLog:
    """Writes the one line per request: the fields structlog's processors would add
    (request_id, level, timestamp, in their order), then the pipeline's renderer.

    For this one event, structlog's bound-logger machinery (context copy, method dispatch)
    costs as much as rendering the line, and so do the processor calls that only set a field
    or two; the line is the same as every other line, minus what an access line never needs
    (contextvars merge, exception formatting).
    """

    def __init__(
        self, render: Callable[[Any, str, dict[str, Any]], Any], write: Callable[[Any], None]
    ) -> None:
        self._timestamp = Timestamp()
        self._render = render
        self._write = write

    def __call__(self, event: str, **event_dict: Any) -> None:
        event_dict["event"] = event
        request_id = request_id_var.get()
        if request_id is not None:
            event_dict.setdefault("request_id", request_id)
        event_dict["level"] = "info"
        self._write(self._render(None, "info", self._timestamp(None, "info", event_dict)))


def access_log() -> Callable[..., Any] | None:
    """The callable that writes one line per request: the lean `AccessLog` when
    `configure_logging` set up JSON logs (None when its level hides INFO), the app's own
    structlog configuration otherwise."""
    if _configured_here:
        return _access_log
    return get_logger("prodready.access").info


def get_logger(name: str = "prodready") -> Any:
    """A structlog logger; `configure_logging()` decides where its lines go."""
    import structlog

    return structlog.get_logger(name)


def gunicorn_logconfig_dict(json: bool = True) -> dict[str, Any]:
    """Gunicorn `logconfig_dict`: error and access logs as JSON lines on stdout.

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
            }
        },
        "root": {"level": "INFO", "handlers": ["stdout"]},
        "loggers": {
            name: {"level": "INFO", "handlers": ["stdout"], "propagate": False}
            for name in SERVER_LOGGERS
        },
    }


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
            self.access_log.info(
                "request",
                extra={
                    "method": environ.get("REQUEST_METHOD"),
                    "path": environ.get("PATH_INFO"),
                    "status": int(str(resp.status).split(None, 1)[0]),
                    "duration_ms": round(request_time.total_seconds() * 1000, 3),
                    "remote_addr": environ.get("REMOTE_ADDR"),
                    "request_id": request_id,
                },
            )

    return GunicornLogger

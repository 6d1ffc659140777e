"""The kit as one pure WSGI middleware: a single pass per request, a single start_response wrapper.

Frameworks turn their own exceptions into 500 responses, which pass through here and get the
request ID. An exception that escapes the app is logged with the request ID and answered 500
when no response was started; otherwise re-raised for the server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from time import perf_counter
from typing import Any

from prodready.runtime.kit import EndpointResponse, Kit, plain_response
from prodready.runtime.requestid import accept_or_generate, request_id_var
from prodready.runtime.security import BodyTooLarge, Headers, add_missing

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
RouteOf = Callable[[Environ], str]
StrHeaders = list[tuple[str, str]]

_ERROR_500 = plain_response(500, "internal server error")
_ERROR_413 = plain_response(413, "request body too large")
_REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 413: "Content Too Large",
            429: "Too Many Requests", 500: "Internal Server Error",
            503: "Service Unavailable"}  # fmt: skip


class KitWSGIMiddleware:
    def __init__(self, app: WSGIApp, kit: Kit, route_of: RouteOf) -> None:
        self.app = app
        self.kit = kit
        self.route_of = route_of
        self._request_id_key = "HTTP_" + kit.request_id_header.decode().upper().replace("-", "_")

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        kit = self.kit
        path: str = environ.get("PATH_INFO") or "/"
        method: str = environ["REQUEST_METHOD"]
        request_id = accept_or_generate(environ.get(self._request_id_key))
        token = request_id_var.set(request_id)
        try:
            https = environ.get("wsgi.url_scheme") == "https"
            origin = environ.get("HTTP_ORIGIN")
            extra = kit.response_headers_str(path, https, request_id, origin)
            endpoint = kit.endpoints.get(path)
            if endpoint is not None:
                return _respond(start_response, endpoint(), extra)
            started = perf_counter()
            peer = environ.get("REMOTE_ADDR")
            refusal = self._refusal(environ, method, path, peer, origin)
            if refusal is not None:
                route = self.route_of(environ)
                kit.record(method, path, route, refusal[0], perf_counter() - started, peer)
                return _respond(start_response, refusal, extra)
            return self._forward(environ, start_response, extra, started, peer)
        finally:
            request_id_var.reset(token)

    def _refusal(
        self, environ: Environ, method: str, path: str, peer: str | None, origin: str | None
    ) -> EndpointResponse | None:
        kit = self.kit
        if kit.cors is not None and method == "OPTIONS":
            preflight = kit.preflight(
                method,
                origin,
                environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"),
                environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", ""),
            )
            if preflight is not None:
                return preflight[0], preflight[1], b""
        content_length = environ.get("CONTENT_LENGTH")
        if content_length and content_length.isdigit() and kit.too_large(path, int(content_length)):
            return _ERROR_413
        if kit.rate_limits is not None:
            refusal = kit.rate_limited(peer, environ.get("HTTP_X_FORWARDED_FOR"), path)
            if refusal is not None:
                return refusal.status, refusal.headers, refusal.body
        return None

    def _forward(
        self,
        environ: Environ,
        start_response: StartResponse,
        extra: StrHeaders,
        started: float,
        peer: str | None,
    ) -> Iterable[bytes]:
        kit = self.kit
        outcome = _Outcome()

        def start_with_headers(status: str, headers: StrHeaders, exc_info: Any = None) -> Any:
            if outcome.body_too_large:
                status, headers = "413 Content Too Large", [*_as_str(_ERROR_413[1]), *extra]
            else:
                headers = list(headers)
                add_missing(headers, extra, kit.header_names_str)
            outcome.status = int(status[:3])
            outcome.started = True
            return start_response(status, headers, exc_info)

        if "HTTP_TRANSFER_ENCODING" in environ:
            # A chunked body has no Content-Length to check up front: count it as it is read.
            limit = kit.body_limits.for_path(environ.get("PATH_INFO") or "/")
            if limit is not None:
                environ["wsgi.input"] = _LimitedInput(environ["wsgi.input"], limit, outcome)
        in_flight = kit.in_flight
        in_flight.enter()
        try:
            result = self.app(environ, start_with_headers)
            if outcome.body_too_large:
                _close(result)
                result = [_ERROR_413[2]]
        except BodyTooLarge:
            result = _respond(start_response, _ERROR_413, extra)
            outcome.status, outcome.started = 413, True
        except Exception:
            if outcome.started:
                raise
            _log_unhandled(environ)
            result = _respond(start_response, _ERROR_500, extra, exc_info=True)
            outcome.status, outcome.started = 500, True
        finally:
            in_flight.leave()
        if outcome.started:
            self._record(environ, outcome.status, started, peer)
            return result
        # The app starts its response lazily (a generator): record once it has, as part of
        # the same request (the context variable was reset when __call__ returned).
        request_id = request_id_var.get()

        def record_later() -> None:
            token = request_id_var.set(request_id)
            try:
                self._record(environ, outcome.status, started, peer)
            finally:
                request_id_var.reset(token)

        return _RecordOnClose(result, record_later)

    def _record(self, environ: Environ, status: int, started: float, peer: str | None) -> None:
        self.kit.record(
            environ["REQUEST_METHOD"],
            environ.get("PATH_INFO") or "/",
            self.route_of(environ),
            status,
            perf_counter() - started,
            peer,
        )


class _Outcome:
    __slots__ = ("body_too_large", "started", "status")

    def __init__(self) -> None:
        self.status = 500
        self.started = False
        self.body_too_large = False


class _LimitedInput:
    """wsgi.input that raises BodyTooLarge once more than `limit` bytes were read."""

    def __init__(self, stream: Any, limit: int, outcome: _Outcome) -> None:
        self._stream = stream
        self._left = limit
        self._outcome = outcome

    def _count(self, data: bytes) -> bytes:
        self._left -= len(data)
        if self._left < 0:
            self._outcome.body_too_large = True
            raise BodyTooLarge
        return data

    def read(self, size: int = -1) -> bytes:
        return self._count(self._stream.read(size))

    def readline(self, size: int = -1) -> bytes:
        return self._count(self._stream.readline(size))

    def readlines(self, hint: int = -1) -> list[bytes]:
        return [self._count(line) for line in self._stream.readlines(hint)]

    def __iter__(self) -> Iterator[bytes]:
        for line in self._stream:
            yield self._count(line)


class _RecordOnClose:
    def __init__(self, result: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self._result = result
        self._on_close = on_close

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._result)

    def close(self) -> None:
        try:
            _close(self._result)
        finally:
            self._on_close()


def _close(result: Iterable[bytes]) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()


def _as_str(headers: Headers) -> StrHeaders:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers]


def _respond(
    start_response: StartResponse,
    response: EndpointResponse,
    extra: StrHeaders,
    exc_info: bool = False,
) -> list[bytes]:
    status, headers, body = response
    all_headers = [*_as_str(headers), *extra, ("Content-Length", str(len(body)))]
    reason = _REASONS.get(status, "")
    if exc_info:
        import sys

        start_response(f"{status} {reason}", all_headers, sys.exc_info())
    else:
        start_response(f"{status} {reason}", all_headers)
    return [body]


def _log_unhandled(environ: Environ) -> None:
    from prodready.runtime.logs import get_logger

    get_logger("prodready").exception(
        "unhandled_exception", method=environ.get("REQUEST_METHOD"), path=environ.get("PATH_INFO")
    )

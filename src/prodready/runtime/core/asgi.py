"""The kit as one pure ASGI middleware: a single pass per request, a single `send` wrapper.

Installed outermost (outside Starlette's ServerErrorMiddleware), so the 500 pages frameworks
render for unhandled exceptions, and their error handlers' responses, get the request ID and
security headers too. An exception that escapes the app is logged here, with the request ID,
and answered 500 if no response was started; it is not re-raised, so the server does not log
it a second time without the ID.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from time import perf_counter
from typing import Any

from prodready.runtime.health import begin_draining
from prodready.runtime.kit import EndpointResponse, Kit, plain_response
from prodready.runtime.requestid import accept_or_generate, new_request_id, request_id_var
from prodready.runtime.security import BodyTooLarge, Headers, add_missing

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
RouteOf = Callable[[Scope], str]

_ERROR_500 = plain_response(500, "internal server error")
_ERROR_413 = plain_response(413, "request body too large")
_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})


class KitASGIMiddleware:
    def __init__(self, app: ASGIApp, kit: Kit, route_of: RouteOf) -> None:
        self.app = app
        self.kit = kit
        self.route_of = route_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # One coroutine frame and one send wrapper per request: this path runs for every
        # request, so its cost is the kit's overhead (see benchmarks/runtime_overhead.py).
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                receive = _drain_on_shutdown(receive)
            await self.app(scope, receive, send)
            return
        kit = self.kit
        path: str = scope["path"]
        # One dict built in C reads the four headers wanted for less than a Python loop over
        # them all; as in that loop, the last of repeated headers wins.
        request_headers = dict(scope["headers"])
        request_id_in = request_headers.get(kit.request_id_header)
        request_id = (
            accept_or_generate(request_id_in.decode("latin-1"))
            if request_id_in
            else new_request_id()
        )
        origin = request_headers.get(b"origin")
        if origin is not None:
            origin = origin.decode("latin-1")
        token = request_id_var.set(request_id)
        try:
            extra = kit.response_headers(path, scope.get("scheme") == "https", request_id, origin)
            endpoint = kit.endpoints.get(path)
            if endpoint is not None:
                await self._endpoint(endpoint, path, extra, send)
                return
            client = scope.get("client")
            peer = client[0] if client else None
            started = perf_counter()
            answer = None
            if kit.cors is not None and origin is not None and scope["method"] == "OPTIONS":
                answer = _preflight(kit, scope, origin)
            content_length = request_headers.get(b"content-length")
            if (
                answer is None
                and content_length
                and content_length.isdigit()
                and kit.too_large(path, int(content_length))
            ):
                answer = _ERROR_413
            if answer is None and kit.rate_limits is not None:
                forwarded_for = request_headers.get(b"x-forwarded-for")
                if forwarded_for is not None:
                    forwarded_for = forwarded_for.decode("latin-1")
                if kit.rate_limits.asynchronous:  # a network storage: await its async client
                    refusal = await kit.arate_limited(peer, forwarded_for, path)
                else:
                    refusal = kit.rate_limited(peer, forwarded_for, path)
                if refusal is not None:
                    answer = refusal.status, refusal.headers, refusal.body
            if answer is not None:
                status, headers, body = answer
                await _respond(send, status, [*headers, *extra], body)
                route = self.route_of(scope)
                kit.record(scope["method"], path, route, status, perf_counter() - started, peer)
                return
            status = 500
            response_started = False
            body_too_large = False

            async def send_with_headers(message: Message) -> None:
                nonlocal status, response_started
                if body_too_large:
                    # The app (or its error handler) answers a body we cut off: answer 413 instead.
                    if not response_started:
                        response_started = True
                        status = 413
                        await _respond(send, 413, [*_ERROR_413[1], *extra], _ERROR_413[2])
                    return
                if message["type"] == "http.response.start":
                    status = message["status"]
                    response_started = True
                    headers = message.get("headers")
                    if headers:
                        headers = list(headers)
                        add_missing(headers, extra, kit.header_names)
                        message["headers"] = headers
                    else:
                        message["headers"] = extra
                await send(message)

            limit = None
            if content_length is None and scope["method"] not in _NO_BODY:
                limit = kit.body_limits.for_path(scope["path"])
            if limit is not None:
                # No Content-Length (chunked): count the body as the app reads it.
                received = 0
                inner_receive = receive

                async def receive_limited() -> Message:
                    nonlocal received, body_too_large
                    message = await inner_receive()
                    received += len(message.get("body", b""))
                    if received > limit:
                        body_too_large = True
                        raise BodyTooLarge
                    return message

                receive = receive_limited

            in_flight = kit.in_flight
            in_flight.enter()
            try:
                await self.app(scope, receive, send_with_headers)
            except BodyTooLarge:
                if not response_started:
                    status = 413
                    await _respond(send, 413, [*_ERROR_413[1], *extra], _ERROR_413[2])
            except Exception:
                if not body_too_large:
                    _log_unhandled(scope)
                    if not response_started:
                        status = 500
                        await _respond(send, 500, [*_ERROR_500[1], *extra], _ERROR_500[2])
            finally:
                in_flight.leave()
                kit.record(
                    scope["method"], scope["path"], self.route_of(scope), status,
                    perf_counter() - started, peer,
                )  # fmt: skip
        finally:
            request_id_var.reset(token)

    async def _endpoint(
        self, endpoint: Callable[[], EndpointResponse], path: str, extra: Headers, send: Send
    ) -> None:
        if path in self.kit.instant_endpoints:
            status, headers, body = endpoint()
        else:
            # Health checks wait on dependencies and scrapes read files: keep the loop free.
            # Async checks come back to this loop, the app's (see HealthRegistry).
            loop = asyncio.get_running_loop()
            self.kit.health.use_event_loop(loop)
            status, headers, body = await loop.run_in_executor(None, endpoint)
        await _respond(send, status, [*headers, *extra], body)


def _preflight(kit: Kit, scope: Scope, origin: str) -> EndpointResponse | None:
    asked_method, asked_headers = None, ""
    for name, value in scope["headers"]:
        if name == b"access-control-request-method":
            asked_method = value.decode("latin-1")
        elif name == b"access-control-request-headers":
            asked_headers = value.decode("latin-1")
    answer = kit.preflight("OPTIONS", origin, asked_method, asked_headers)
    return None if answer is None else (answer[0], answer[1], b"")


async def _respond(send: Send, status: int, headers: Headers, body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _drain_on_shutdown(receive: Receive) -> Receive:
    async def receive_lifespan() -> Message:
        message = await receive()
        if message.get("type") == "lifespan.shutdown":
            begin_draining()
        return message

    return receive_lifespan


def _log_unhandled(scope: Scope) -> None:
    from prodready.runtime.logs import get_logger

    get_logger("prodready").exception(
        "unhandled_exception", method=scope.get("method"), path=scope.get("path")
    )

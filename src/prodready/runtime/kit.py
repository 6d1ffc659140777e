"""What the kit does per request, built once from `Options`; shared by the ASGI and WSGI cores.

The cores only speak their protocol; every decision (which headers, which refusal, what to
record) is made here, so both behave the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from prodready.runtime.health import CONTENT_TYPE as HEALTH_CONTENT_TYPE
from prodready.runtime.health import HealthRegistry
from prodready.runtime.metrics import NoInFlight
from prodready.runtime.options import Options
from prodready.runtime.ratelimit import RateLimits, Refusal
from prodready.runtime.security import BodyLimits, Cors, Headers, SecurityHeaders

EndpointResponse = tuple[int, Headers, bytes]

_NO_STORE = (b"cache-control", b"no-store")


class Kit:
    def __init__(
        self,
        options: Options,
        health: HealthRegistry,
        relaxed_csp_paths: Iterable[str] = (),
        asynchronous: bool = False,
    ) -> None:
        self.options = options
        self.health = health
        self.request_id_header = options.request_id_header.lower().encode()
        self.metrics = None
        self.in_flight: Any = NoInFlight()
        if options.metrics:
            from prodready.runtime.metrics import http_metrics

            self.metrics = http_metrics()
            self.in_flight = self.metrics.in_flight
        self._relaxed_paths = frozenset(relaxed_csp_paths)
        self.security = None
        if options.security_headers:
            self.security = SecurityHeaders(
                options.content_security_policy, options.hsts_max_age, self._relaxed_paths
            )
        self.cors = (
            Cors(options.cors_origins, options.cors_allow_credentials)
            if options.cors_origins
            else None
        )
        # Requests without an Origin header (most) get the same headers after X-Request-ID:
        # built here per (https, relaxed CSP), in bytes for ASGI and str for WSGI.
        self._tails: dict[tuple[bool, bool], Headers] = {}
        for https in (False, True):
            for relaxed in (False, True):
                tail = (
                    [] if self.security is None else self.security.for_request_key(https, relaxed)
                )
                if self.cors is not None:
                    tail = [*tail, *self.cors.response_headers(None)]
                self._tails[https, relaxed] = tail
        self._str_tails = {
            key: [(name.decode("latin-1"), value.decode("latin-1")) for name, value in tail]
            for key, tail in self._tails.items()
        }
        names = {b"x-request-id"}
        for part in (self.security, self.cors):
            if part is not None:
                names |= part.names
        self.header_names = frozenset(names)
        """Every header name `response_headers` can give, in bytes (ASGI)."""
        self.header_names_str = frozenset(name.decode("latin-1") for name in names)
        """The same as str (WSGI)."""
        self.body_limits = BodyLimits(options.max_body_size, options.route_body_limits)
        self.rate_limits = None
        if options.rate_limit or options.route_limits or options.global_limit:
            self.rate_limits = RateLimits(
                per_client=options.rate_limit,
                route_limits=options.route_limits,
                global_limit=options.global_limit,
                storage=options.rate_limit_storage,
                strategy=options.rate_limit_strategy,
                fail_closed=options.rate_limit_fail_closed,
                trusted_proxies=options.trusted_proxies,
                asynchronous=asynchronous,
            )
        self.access_log: Any = None
        if options.access_log:
            from prodready.runtime.logs import access_log, silence_server_access_logs

            self.access_log = access_log()
            if self.access_log is not None:
                silence_server_access_logs()
        self.endpoints: dict[str, Callable[[], EndpointResponse]] = {}
        for path, handler in (
            (options.live_path, self.live),
            (options.ready_path, self.ready),
            (options.health_path, self.deep),
            (options.metrics_path if options.metrics else None, self.render_metrics),
        ):
            if path:
                self.endpoints[path] = handler
        self.instant_endpoints = {options.live_path}
        """Endpoints cheap enough to answer on the event loop; the others go to a thread."""

    def response_headers(
        self, path: str, https: bool, request_id: str, origin: str | None
    ) -> Headers:
        headers: Headers = [(b"x-request-id", request_id.encode())]
        if origin is None:
            headers += self._tails[https, path in self._relaxed_paths]
            return headers
        if self.security is not None:
            headers += self.security.for_request(path, https)
        if self.cors is not None:
            headers += self.cors.response_headers(origin)
        return headers

    def response_headers_str(
        self, path: str, https: bool, request_id: str, origin: str | None
    ) -> list[tuple[str, str]]:
        """`response_headers` for WSGI."""
        headers = [("x-request-id", request_id)]
        if origin is None:
            headers += self._str_tails[https, path in self._relaxed_paths]
            return headers
        if self.security is not None:
            headers += self.security.for_request_str(path, https)
        if self.cors is not None:
            headers += [(n.decode(), v.decode()) for n, v in self.cors.response_headers(origin)]
        return headers

    def preflight(
        self, method: str, origin: str | None, asked_method: str | None, asked_headers: str
    ) -> tuple[int, Headers] | None:
        """The answer to a CORS preflight, or None when this is not one."""
        if self.cors is None or method != "OPTIONS" or origin is None or asked_method is None:
            return None
        return self.cors.preflight(origin, asked_method, asked_headers)

    def too_large(self, path: str, content_length: int | None) -> bool:
        limit = self.body_limits.for_path(path)
        return limit is not None and content_length is not None and content_length > limit

    def rate_limited(
        self, peer: str | None, forwarded_for: str | None, path: str
    ) -> Refusal | None:
        assert self.rate_limits is not None
        return self.rate_limits.hit(self.rate_limits.client_of(peer, forwarded_for), path)

    async def arate_limited(
        self, peer: str | None, forwarded_for: str | None, path: str
    ) -> Refusal | None:
        assert self.rate_limits is not None
        return await self.rate_limits.ahit(self.rate_limits.client_of(peer, forwarded_for), path)

    def record(
        self, method: str, path: str, route: str, status: int, seconds: float, client: str | None
    ) -> None:
        if self.metrics is not None:
            self.metrics.observe(method, route, status, seconds)
        if self.access_log is not None:
            self.access_log(method, path, route, status, seconds, client)

    def live(self) -> EndpointResponse:
        return self._health_response(self.health.live(), with_observations=False)

    def ready(self) -> EndpointResponse:
        return self._health_response(self.health.ready(), with_observations=False)

    def deep(self) -> EndpointResponse:
        return self._health_response(self.health.deep(), with_observations=True)

    @staticmethod
    def _health_response(report: Any, with_observations: bool) -> EndpointResponse:
        body = report.to_json(with_observations)
        headers = [(b"content-type", HEALTH_CONTENT_TYPE.encode()), _NO_STORE]
        return report.http_status, headers, body

    @staticmethod
    def render_metrics() -> EndpointResponse:
        from prodready.runtime.metrics import CONTENT_TYPE, render_latest

        return 200, [(b"content-type", CONTENT_TYPE.encode()), _NO_STORE], render_latest()


def plain_response(status: int, message: str) -> EndpointResponse:
    body = json.dumps({"error": message}).encode()
    return status, [(b"content-type", b"application/json")], body

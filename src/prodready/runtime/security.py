"""Security headers, CORS and request body limits, computed once and added per response.

Headers are precomputed byte pairs; per response the kit only adds those the app did not set
itself (no duplicates, the app's choice wins).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import AnyStr

from prodready.errors import UserError

Headers = list[tuple[bytes, bytes]]

DEFAULT_CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
    "form-action 'self'"
)
"""Strict for APIs and server-rendered pages with their own static files."""

DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "font-src 'self' https://fonts.gstatic.com; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'"
)
"""For FastAPI's /docs and /redoc only: Swagger UI and ReDoc load from jsDelivr and start with
an inline script; everywhere else the strict policy applies."""

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeaders:
    """The headers every response gets, errors included."""

    def __init__(
        self,
        csp: str | None = DEFAULT_CSP,
        hsts_max_age: int = 31_536_000,
        relaxed_csp_paths: Iterable[str] = (),
    ) -> None:
        common: Headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"permissions-policy", PERMISSIONS_POLICY.encode()),
        ]
        if not csp or "frame-ancestors" not in csp:
            # CSP frame-ancestors supersedes X-Frame-Options in every current browser; send
            # the old header only when the policy does not say it (each header costs).
            common.append((b"x-frame-options", b"DENY"))
        strict = [*common, (b"content-security-policy", csp.encode())] if csp else common
        docs = [*common, (b"content-security-policy", DOCS_CSP.encode())] if csp else common
        hsts = (b"strict-transport-security", b"max-age=%d; includeSubDomains" % hsts_max_age)
        self._relaxed = frozenset(relaxed_csp_paths)
        # (https, relaxed) -> headers; HSTS only over HTTPS (browsers ignore it over HTTP).
        self._variants = {
            (False, False): strict,
            (True, False): [*strict, hsts],
            (False, True): docs,
            (True, True): [*docs, hsts],
        }

        self.names = frozenset(name for headers in self._variants.values() for name, _ in headers)
        self._str_variants = {
            key: [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers]
            for key, headers in self._variants.items()
        }

    def for_request(self, path: str, https: bool) -> Headers:
        return self._variants[https, path in self._relaxed]

    def for_request_key(self, https: bool, relaxed: bool) -> Headers:
        """The headers for a request over HTTPS or not, to a relaxed-CSP path or not."""
        return self._variants[https, relaxed]

    def for_request_str(self, path: str, https: bool) -> list[tuple[str, str]]:
        """`for_request` as WSGI wants them (str pairs), converted once at start-up."""
        return self._str_variants[https, path in self._relaxed]


def add_missing(
    headers: list[tuple[AnyStr, AnyStr]],
    extra: list[tuple[AnyStr, AnyStr]],
    names: frozenset[AnyStr],
) -> None:
    """Appends each of `extra` whose name the response does not carry yet (bytes pairs for
    ASGI, str pairs for WSGI).

    `names` holds every name `extra` can have: when the response carries none of them (the
    usual case), `extra` is appended whole, without a look at each header.
    """
    for name, _ in headers:  # a plain loop: a set comprehension is one more frame (3.11)
        if name.lower() in names:
            break
    else:
        headers += extra
        return
    present = {name.lower() for name, _ in headers}
    headers.extend(header for header in extra if header[0] not in present)


class Cors:
    """CORS from settings (CORS_ORIGINS). Refuses `*` with credentials at start-up."""

    def __init__(
        self,
        origins: Sequence[str],
        allow_credentials: bool = False,
        allow_methods: Sequence[str] = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"),
        allow_headers: Sequence[str] = ("authorization", "content-type", "x-request-id"),
        max_age: int = 600,
    ) -> None:
        origins = [origin.strip().rstrip("/") for origin in origins if origin.strip()]
        self.any_origin = "*" in origins
        if self.any_origin and allow_credentials:
            raise UserError(
                "CORS_ORIGINS is '*' while credentials are allowed: any website could act "
                "as your logged-in users (and browsers reject the combination)",
                hint="list the exact origins, e.g. CORS_ORIGINS=https://app.example.com",
            )
        self.origins = frozenset(origins)
        self.allow_credentials = allow_credentials
        self._methods = ", ".join(allow_methods).encode()
        self._headers = ", ".join(allow_headers).encode()
        self._allowed_headers = frozenset(h.lower() for h in allow_headers)
        self._max_age = str(max_age).encode()

    names = frozenset(
        {b"access-control-allow-origin", b"access-control-allow-credentials", b"vary"}
    )
    """Every header name `response_headers` can give."""

    def allows(self, origin: str) -> bool:
        return self.any_origin or origin in self.origins

    def response_headers(self, origin: str | None) -> Headers:
        """Headers for an actual (non-preflight) request from `origin`."""
        if origin is None or not self.allows(origin):
            return [] if self.any_origin else [(b"vary", b"Origin")]
        headers: Headers = [(b"access-control-allow-origin", self._echo(origin))]
        if self.allow_credentials:
            headers.append((b"access-control-allow-credentials", b"true"))
        if not self.any_origin:
            headers.append((b"vary", b"Origin"))
        return headers

    def preflight(self, origin: str, method: str, request_headers: str) -> tuple[int, Headers]:
        """Answer to an OPTIONS preflight: 204 when allowed, 400 otherwise."""
        asked = {h.strip().lower() for h in request_headers.split(",") if h.strip()}
        method_allowed = method.encode() in self._methods.split(b", ")
        if not self.allows(origin) or not method_allowed or not asked <= self._allowed_headers:
            return 400, [(b"vary", b"Origin")]
        headers = [
            *self.response_headers(origin),
            (b"access-control-allow-methods", self._methods),
            (b"access-control-allow-headers", self._headers),
            (b"access-control-max-age", self._max_age),
        ]
        return 204, headers

    def _echo(self, origin: str) -> bytes:
        return b"*" if self.any_origin and not self.allow_credentials else origin.encode()


class BodyLimits:
    """Largest request body accepted, by path prefix (longest prefix wins), else the default."""

    def __init__(self, default: int | None, per_route: Mapping[str, int] | None = None) -> None:
        self.default = default
        self._routes = sorted((per_route or {}).items(), key=lambda item: -len(item[0]))

    def for_path(self, path: str) -> int | None:
        for prefix, limit in self._routes:
            if path.startswith(prefix):
                return limit
        return self.default


class BodyTooLarge(Exception):
    """Raised from the request body stream once it passes its limit; the core answers 413."""

"""Every option of `Production(app, **options)`, with its default, checked at start-up.

Options may also come from a settings object (`Production(app, settings=ProdSettings())`):
any attribute named like an option is used, and `redis_url` becomes the rate-limit storage.
Keyword arguments win over settings.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from prodready.errors import UserError
from prodready.runtime.security import DEFAULT_CSP

MIB = 1024 * 1024


@dataclass(frozen=True)
class Options:
    # Health and metrics endpoints; None turns one off.
    live_path: str | None = "/health/live"
    ready_path: str | None = "/health/ready"
    health_path: str | None = "/health"
    metrics_path: str | None = "/metrics"
    check_ttl: float = 2.0
    # Metrics, request IDs and logs.
    metrics: bool = True
    request_id_header: str = "X-Request-ID"
    access_log: bool = True
    json_logs: bool = True
    log_level: str = "INFO"
    # Rate limits (see prodready.runtime.ratelimit).
    rate_limit: str | None = None
    route_limits: Mapping[str, str] = field(default_factory=dict)
    global_limit: str | None = None
    rate_limit_storage: str = "memory://"
    rate_limit_strategy: str = "fixed-window"
    rate_limit_fail_closed: bool = False
    trusted_proxies: tuple[str, ...] = ()
    # Security headers, CORS, body limits.
    security_headers: bool = True
    content_security_policy: str | None = DEFAULT_CSP
    hsts_max_age: int = 31_536_000
    cors_origins: tuple[str, ...] = ()
    cors_allow_credentials: bool = False
    max_body_size: int | None = MIB
    route_body_limits: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Any = None, **overrides: Any) -> Options:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise UserError(
                f"Production() got unknown option(s): {', '.join(unknown)}",
                hint=f"known options: {', '.join(sorted(known))}",
            )
        values: dict[str, Any] = {}
        if settings is not None:
            redis_url = getattr(settings, "redis_url", None)
            if redis_url:
                values["rate_limit_storage"] = str(redis_url)
            for name in known:
                value = getattr(settings, name, None)
                if value is not None:
                    values[name] = value
        values.update(overrides)
        for name in ("cors_origins", "trusted_proxies"):
            if isinstance(values.get(name), str):
                values[name] = tuple(p.strip() for p in values[name].split(",") if p.strip())
            elif name in values:
                values[name] = tuple(values[name])
        options = cls(**values)
        _check(options)
        return options

    def endpoint_paths(self) -> list[str]:
        paths = (self.live_path, self.ready_path, self.health_path, self.metrics_path)
        return [path for path in paths if path]


RATE_LIMIT_STRATEGIES = ("fixed-window", "moving-window", "sliding-window-counter")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
PATH_OPTIONS = ("live_path", "ready_path", "health_path", "metrics_path")
BOOL_OPTIONS = (
    "metrics",
    "access_log",
    "json_logs",
    "rate_limit_fail_closed",
    "security_headers",
    "cors_allow_credentials",
)


def _bad(option: str, value: Any, expected: str, example: str) -> UserError:
    return UserError(f"Production() option {option}={value!r}: {expected}", hint=example)


def _check(options: Options) -> None:
    """Raises a one-line UserError for the first option of the wrong type or out of range, so
    a typo fails at start-up instead of as a 500 on the first request that meets it."""
    for name in PATH_OPTIONS:
        path = getattr(options, name)
        if path is not None and (not isinstance(path, str) or not path.startswith("/")):
            raise _bad(name, path, "expected a path starting with /", f"e.g. {name}='/health'")
    for name in BOOL_OPTIONS:
        if not isinstance(getattr(options, name), bool):
            raise _bad(name, getattr(options, name), "expected True or False", f"{name}=True")
    if options.rate_limit_strategy not in RATE_LIMIT_STRATEGIES:
        raise _bad(
            "rate_limit_strategy", options.rate_limit_strategy, "unknown strategy",
            "use one of: " + ", ".join(RATE_LIMIT_STRATEGIES),
        )  # fmt: skip
    if not _is_number(options.check_ttl) or options.check_ttl < 0:
        raise _bad("check_ttl", options.check_ttl, "expected seconds (a number >= 0)", "2.0")
    if not isinstance(options.log_level, str) or options.log_level.upper() not in LOG_LEVELS:
        raise _bad("log_level", options.log_level, "unknown level", ", ".join(LOG_LEVELS))
    if not isinstance(options.request_id_header, str) or not options.request_id_header.strip():
        raise _bad("request_id_header", options.request_id_header, "empty", "'X-Request-ID'")
    if not _is_count(options.hsts_max_age):
        raise _bad("hsts_max_age", options.hsts_max_age, "expected seconds (int >= 0)", "31536000")
    if options.max_body_size is not None and not _is_count(options.max_body_size):
        raise _bad(
            "max_body_size", options.max_body_size, "expected bytes (int >= 0) or None",
            "e.g. max_body_size=1_048_576 for 1 MiB",
        )  # fmt: skip
    _check_route_mapping("route_body_limits", options.route_body_limits, _is_count, "bytes")
    _check_route_mapping(
        "route_limits", options.route_limits, lambda v: isinstance(v, str), "a limit string"
    )
    for proxy in options.trusted_proxies:
        try:
            ipaddress.ip_network(str(proxy), strict=False)
        except ValueError:
            raise _bad(
                "trusted_proxies", proxy, "not an IP address or network",
                "e.g. trusted_proxies='127.0.0.1,10.0.0.0/8'",
            ) from None  # fmt: skip
    for origin in options.cors_origins:
        if origin != "*" and not str(origin).startswith(("http://", "https://")):
            raise _bad(
                "cors_origins", origin, "an origin is scheme://host[:port]",
                "e.g. cors_origins=['https://app.example.com']",
            )  # fmt: skip


def _check_route_mapping(name: str, value: Any, valid: Any, expected: str) -> None:
    example = "{'/upload': 10_000_000}" if name == "route_body_limits" else "{'/login': '5/minute'}"
    if not isinstance(value, Mapping):
        raise _bad(name, value, "expected a mapping of path prefix to " + expected, example)
    for prefix, limit in value.items():
        if not isinstance(prefix, str) or not prefix.startswith("/"):
            raise _bad(name, prefix, "a path prefix starts with /", example)
        if not valid(limit):
            raise _bad(name, {prefix: limit}, "expected " + expected, example)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0

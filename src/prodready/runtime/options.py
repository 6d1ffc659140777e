"""Every option of `Production(app, **options)`, with its default, checked at start-up.

Options may also come from a settings object (`Production(app, settings=ProdSettings())`):
any attribute named like an option is used, and `redis_url` becomes the rate-limit storage.
Keyword arguments win over settings.
"""

from __future__ import annotations

import dataclasses
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
        return cls(**values)

    def endpoint_paths(self) -> list[str]:
        paths = (self.live_path, self.ready_path, self.health_path, self.metrics_path)
        return [path for path in paths if path]

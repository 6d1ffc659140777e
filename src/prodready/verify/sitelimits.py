"""The limits the running nginx site sets, read from its file (crossplane): the request rate
and burst of its `limit_req` zone, and `client_max_body_size`. What limits verify expects."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import crossplane

DEFAULT_BODY_LIMIT = 1024 * 1024
"""nginx's own client_max_body_size when the site sets none: 1m."""
_SIZE = re.compile(r"(\d+)([kKmMgG]?)")
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


@dataclass(frozen=True)
class SiteLimits:
    rate_per_s: float | None
    """The limit_req zone's rate used by the site's `location /`, None without one."""
    burst: int
    body_limit: int
    """client_max_body_size of the HTTPS server, in bytes (0: unlimited)."""


def read_site_limits(site: Path) -> SiteLimits:
    parsed = crossplane.parse(str(site), single=True, check_ctx=False, comments=False)
    directives = _flat(parsed["config"][0]["parsed"])
    rates: dict[str, float] = {}
    zone, burst, body = None, 0, None
    for directive in directives:
        name, args = directive["directive"], directive["args"]
        if name == "limit_req_zone":
            options = dict(arg.split("=", 1) for arg in args if "=" in arg)
            rate = options.get("rate", "")
            number = float(re.sub(r"r/[sm]$", "", rate) or 0)
            rates[options.get("zone", "").split(":")[0]] = (
                number / 60 if rate.endswith("r/m") else number
            )
        elif name == "limit_req" and zone is None:
            options = dict(arg.split("=", 1) for arg in args if "=" in arg)
            zone, burst = options.get("zone"), int(options.get("burst", 0))
        elif name == "client_max_body_size" and body is None:
            body = _bytes(args[0])
    return SiteLimits(
        rates.get(zone) if zone else None,
        burst,
        DEFAULT_BODY_LIMIT if body is None else body,
    )


def _flat(block: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for directive in block:
        out.append(directive)
        out += _flat(directive.get("block", []))
    return out


def _bytes(value: str) -> int:
    match = _SIZE.fullmatch(value)
    if not match:
        return DEFAULT_BODY_LIMIT
    return int(match.group(1)) * _UNITS[match.group(2).lower()]

"""HTTP(S): status, latency, body regex, a JSONPath value, and `application/health+json`."""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from prodready.monitor.checks import ProbeResult
from prodready.monitor.checks.jsonpath import find

if TYPE_CHECKING:
    import aiohttp

    from prodready.monitor.config import Endpoint

HEALTH_JSON = "application/health+json"
MAX_BODY = 1 << 20
"""Bodies are read up to 1 MiB: enough for any health document, bounded for a huge page."""


async def check_http(endpoint: Endpoint, session: aiohttp.ClientSession) -> ProbeResult:
    started = time.perf_counter()
    async with session.get(endpoint.url, allow_redirects=True) as response:
        latency = time.perf_counter() - started
        needs_body = endpoint.body_regex or endpoint.json_path or _is_health(response, endpoint)
        body = await response.content.read(MAX_BODY) if needs_body else b""
    cert_days = await certificate_days(endpoint.url) if endpoint.url.startswith("https") else None
    warning = ""
    if _is_health(response, endpoint):
        status = _health_status(body)
        if status == "fail":
            return ProbeResult(False, latency, "health: fail", cert_days)
        if status == "warn":
            warning = "health: warn"
    if response.status not in endpoint.expect_status:
        return ProbeResult(False, latency, f"HTTP {response.status}", cert_days)
    if endpoint.max_latency is not None and latency > endpoint.max_latency:
        return ProbeResult(
            False,
            latency,
            f"slow: {latency * 1000:.0f}ms > {endpoint.max_latency * 1000:.0f}ms",
            cert_days,
        )
    if endpoint.body_regex and not re.search(endpoint.body_regex, body.decode("utf-8", "replace")):
        return ProbeResult(
            False, latency, f"body does not match {endpoint.body_regex!r}", cert_days
        )
    if endpoint.json_path:
        failure = _json_failure(body, endpoint)
        if failure:
            return ProbeResult(False, latency, failure, cert_days)
    if (
        cert_days is not None
        and endpoint.min_cert_days is not None
        and cert_days < endpoint.min_cert_days
    ):
        return ProbeResult(
            False, latency, f"certificate expires in {cert_days:.1f} days", cert_days
        )
    return ProbeResult(True, latency, warning, cert_days)


def _is_health(response: aiohttp.ClientResponse, endpoint: Endpoint) -> bool:
    return endpoint.health_json and response.content_type == HEALTH_JSON


def _health_status(body: bytes) -> str:
    """`pass`, `warn` or `fail` (RFC draft inadarei-api-health-check; `ok`/`up` read as pass,
    `error`/`down` as fail); a body that is not such a document is `fail`."""
    try:
        status = str(json.loads(body).get("status", "")).lower()
    except (ValueError, AttributeError):
        return "fail"
    if status in ("pass", "ok", "up"):
        return "pass"
    if status == "warn":
        return "warn"
    return "fail"


def _json_failure(body: bytes, endpoint: Endpoint) -> str:
    assert endpoint.json_path is not None
    try:
        value = find(json.loads(body), endpoint.json_path)
    except ValueError:
        return "body is not JSON"
    except KeyError as error:
        return f"JSONPath {error.args[0]}"
    if endpoint.json_equals is not None and value != endpoint.json_equals:
        return f"{endpoint.json_path} is {value!r}, expected {endpoint.json_equals!r}"
    return ""


CERT_RECHECK_S = 3600.0
"""How long an HTTPS endpoint's certificate expiry is reused before it is read again."""
_certificates: dict[tuple[str, int], tuple[float, float | None]] = {}


async def certificate_days(url: str) -> float | None:
    """Days until the HTTPS server's certificate expires, read by a TLS handshake of its own
    at most once an hour per host and port (aiohttp releases a connection whose body it has
    read before the check could ask it for the certificate)."""
    from prodready.monitor.checks.tcp import host_port
    from prodready.monitor.checks.tls import peer_days

    parts = urlsplit(url)
    key = host_port(f"tls://{parts.hostname}:{parts.port or 443}")
    now = time.monotonic()
    cached = _certificates.get(key)
    if cached is None or now - cached[0] > CERT_RECHECK_S:
        _certificates[key] = cached = (now, await peer_days(*key))
    return cached[1]

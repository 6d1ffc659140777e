"""TLS: the handshake verifies the chain and the host name, and the certificate has at least
`min_cert_days` (default 14) days left."""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import TYPE_CHECKING, Any

from prodready.monitor.checks import ProbeResult
from prodready.monitor.checks.tcp import host_port

if TYPE_CHECKING:
    from prodready.monitor.config import Endpoint

DEFAULT_MIN_DAYS = 14.0


def days_left(certificate: dict[str, Any]) -> float | None:
    """Days from now until the certificate's notAfter."""
    not_after = certificate.get("notAfter")
    if not not_after:
        return None
    return (ssl.cert_time_to_seconds(not_after) - time.time()) / 86400


def client_context() -> ssl.SSLContext:
    """The system trust store, plus the bundle in $SSL_CERT_FILE when set (as OpenSSL does)."""
    return ssl.create_default_context()


async def peer_days(host: str, port: int) -> float | None:
    """Days left on the certificate a verified handshake with host:port presents."""
    _, writer = await asyncio.open_connection(
        host, port, ssl=client_context(), server_hostname=host
    )
    ssl_object = writer.get_extra_info("ssl_object")
    days = days_left(ssl_object.getpeercert()) if ssl_object is not None else None
    writer.close()
    await writer.wait_closed()
    return days


async def check_tls(endpoint: Endpoint) -> ProbeResult:
    host, port = host_port(endpoint.url)
    started = time.perf_counter()
    try:
        days = await peer_days(host, port)
    except ssl.SSLCertVerificationError as error:
        return ProbeResult(
            False, time.perf_counter() - started, f"certificate: {error.verify_message}"
        )
    latency = time.perf_counter() - started
    minimum = endpoint.min_cert_days if endpoint.min_cert_days is not None else DEFAULT_MIN_DAYS
    if days is None:
        return ProbeResult(False, latency, "no certificate expiry date")
    if days < minimum:
        return ProbeResult(False, latency, f"certificate expires in {days:.1f} days", days)
    return ProbeResult(True, latency, "", days)

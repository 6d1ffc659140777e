"""One HTTP request to the app, straight or through the nginx front (TLS with the throwaway
certificate), with the Host nginx expects. Items use it for single requests; load goes
through prodready.load."""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    """Lower-case names; repeated headers joined with ", "."""
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def request(
    port: int,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    tls_ca: Path | None = None,
    host: str | None = None,
    timeout: float = 10.0,
) -> Reply:
    """Sends one request to 127.0.0.1:port; `tls_ca` set means HTTPS trusting that CA only,
    with `host` as SNI and the name the certificate must hold (as a client that resolves it
    to this machine sees it). Raises OSError (refused, reset, timeout, a certificate that
    does not verify) like the socket does."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    if tls_ca is not None:
        conn.sock = _tls_socket(port, tls_ca, host or "localhost", timeout)
    sent = dict(headers or {})
    if host:
        sent.setdefault("Host", host)
    try:
        conn.request(method, path, body=body or None, headers=sent)
        response = conn.getresponse()
        data = response.read()
        got: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            got[key] = f"{got[key]}, {value}" if key in got else value
        return Reply(response.status, got, data)
    except http.client.HTTPException as error:
        raise OSError(f"bad HTTP answer: {error!r}") from error
    finally:
        conn.close()


def _tls_socket(port: int, tls_ca: Path, host: str, timeout: float) -> ssl.SSLSocket:
    """A TLS connection to 127.0.0.1:port that sends `host` as SNI and verifies the
    certificate against it: nginx picks the server block by SNI, so dialling the address
    alone would meet the default site."""
    context = ssl.create_default_context(cafile=str(tls_ca))
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        return context.wrap_socket(raw, server_hostname=host)
    except BaseException:
        raw.close()
        raise

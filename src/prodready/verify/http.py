"""One HTTP request to the app, straight or through the nginx front (TLS with the throwaway
certificate), with the Host nginx expects. Items use it for single requests; load goes
through prodready.load."""

from __future__ import annotations

import http.client
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
    """Sends one request to 127.0.0.1:port; `tls_ca` set means HTTPS trusting that CA only.
    Raises OSError (refused, reset, timeout) like the socket does."""
    if tls_ca is not None:
        context = ssl.create_default_context(cafile=str(tls_ca))
        context.check_hostname = False  # the certificate names `host`, we dial 127.0.0.1
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=timeout, context=context
        )
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
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

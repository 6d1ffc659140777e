"""The current request's ID: read from X-Request-ID when well formed, otherwise generated.

Kept in a ContextVar so log lines written while handling the request carry it, including in
sync handlers that frameworks run in thread pools (they copy the context). Stdlib only: the
middleware imports this on every request path.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

MAX_LENGTH = 128
_WELL_FORMED = re.compile(rf"[A-Za-z0-9._:+/=@-]{{1,{MAX_LENGTH}}}")

request_id_var: ContextVar[str | None] = ContextVar("prodready_request_id", default=None)


def current_request_id() -> str | None:
    """The ID of the request being handled in this context, or None outside a request."""
    return request_id_var.get()


def accept_or_generate(incoming: str | None) -> str:
    """Keeps a client's or proxy's ID when it is short and plain, so traces join up; a
    malformed one (too long, spaces, control characters: log injection) is replaced."""
    if incoming and _WELL_FORMED.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex

"""The current request's ID: read from X-Request-ID when well formed, otherwise generated.

Kept in a ContextVar so log lines written while handling the request carry it, including in
sync handlers that frameworks run in thread pools (they copy the context). Stdlib only: the
middleware imports this on every request path.
"""

from __future__ import annotations

import itertools
import os
import re
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
    return new_request_id()


def new_request_id() -> str:
    """32 hex characters: a random 64-bit prefix per process, then a counter.

    Unique across processes and hosts like a UUID4, at a fraction of its cost (uuid4 reads
    the kernel's random source on every call). Request IDs correlate log lines; they are not
    secrets, so being sequential within a process is fine. Prefix and counter are one
    integer counter whose leading 1 marks the width: `hex` of it, less "0x1", is the ID (half
    the cost of formatting the two parts).
    """
    if _counter is None:
        _reseed()
    return hex(next(_counter))[3:]  # type: ignore[arg-type]


def _reseed() -> None:
    global _counter
    prefix = int.from_bytes(os.urandom(8))
    _counter = itertools.count((1 << 128) | (prefix << 64))


_counter: itertools.count[int] | None = None  # seeded on first use, not at import
os.register_at_fork(after_in_child=_reseed)  # forked workers must not repeat the parent's IDs

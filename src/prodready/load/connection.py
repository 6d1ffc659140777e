"""One keep-alive HTTP/1.1 connection: an asyncio Protocol fed straight into httptools.

This is the hot path: per response it costs one clock read, one list append, one list
increment and one write of pre-encoded bytes. Everything else (timeouts, reconnects,
reporting) happens outside it, in `worker.py`.
"""

from __future__ import annotations

import asyncio
import ssl
from time import monotonic_ns
from typing import TYPE_CHECKING

import httptools

if TYPE_CHECKING:
    from prodready.load.worker import Worker

# Error kinds, as counted in results. HTTP errors are counted as "http_<code>".
CONNECT_REFUSED = "connect_refused"
CONNECT_TIMEOUT = "connect_timeout"
CONNECT_ERROR = "connect_error"
DNS = "dns"
TLS = "tls"
RESET = "reset"
CLOSED = "closed_mid_response"
TIMEOUT = "timeout"
PROTOCOL = "protocol_error"
UNFINISHED = "unfinished"
"""Still in flight when the run ended: a failure like a timeout, never a pass."""


def connect_error_kind(error: BaseException) -> str:
    """The kind of a failed connection attempt."""
    if isinstance(error, ConnectionRefusedError):
        return CONNECT_REFUSED
    if isinstance(error, TimeoutError):
        return CONNECT_TIMEOUT
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return TLS
    if isinstance(error, OSError) and error.__class__.__name__ == "gaierror":
        return DNS
    return CONNECT_ERROR


class Connection(asyncio.Protocol):
    """A connection that sends one request at a time and records each response.

    `sent_at_ns` is when the latency clock started: the actual send in the closed model,
    the intended send in the open model. `written_at_ns` is the actual send, for timeouts.
    """

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        # Shared with the worker, copied here to save lookups on the hot path.
        self.record = worker.recorders[0].record
        self.status_counts = worker.status_lists[0]
        self.next_request = worker.next_request
        # Closed model without -n while sending: the next request goes out inline.
        self.free_running = False
        self.sent = 0
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.busy = False
        self.sent_at_ns = 0
        self.written_at_ns = 0
        self.error_counted = False
        # Delay before the next connection attempt; grows while connecting keeps failing.
        self.backoff_s = 0.0

    # asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.parser = httptools.HttpResponseParser(self)
        self.error_counted = False
        self.worker.on_connected(self)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.fail(PROTOCOL)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.busy:
            if not self.error_counted:
                self.worker.count_error(RESET if exc is not None else CLOSED)
            self.busy = False
            self.worker.in_flight -= 1
        self.transport = None
        self.worker.on_lost(self)

    # httptools callback

    def on_message_complete(self) -> None:
        if not self.busy:
            return  # an answer to no request, e.g. a 408 on an idle connection: not a sample
        now = monotonic_ns()
        self.record((now - self.sent_at_ns) // 1000)
        parser = self.parser
        self.status_counts[parser.get_status_code()] += 1
        if parser.should_keep_alive():
            if self.free_running:
                self.sent += 1
                self.sent_at_ns = self.written_at_ns = now
                self.transport.write(self.next_request())  # type: ignore[union-attr]
                return
            self.busy = False
            self.worker.in_flight -= 1
            self.worker.on_response(self, now)
        else:
            self.busy = False
            self.worker.in_flight -= 1
            self.transport.close()  # type: ignore[union-attr]

    # used by the worker

    def send(self, request: bytes, sent_at_ns: int, now_ns: int) -> None:
        self.busy = True
        self.worker.in_flight += 1
        self.sent += 1
        self.sent_at_ns = sent_at_ns
        self.written_at_ns = now_ns
        self.transport.write(request)  # type: ignore[union-attr]

    def fail(self, kind: str) -> None:
        """Counts an error for the request in flight and drops the connection."""
        if self.busy:
            self.worker.count_error(kind)
            self.error_counted = True
        if self.transport is not None:
            self.transport.abort()


class MixedConnection(Connection):
    """A connection for runs that mix requests (a scenario) or send HEAD.

    Each answer is recorded for the kind of request it answers. The answer to HEAD ends with
    its headers even when it announces a Content-Length, and httptools cannot be told which
    request an answer belongs to; so after a HEAD the message is completed at the end of the
    headers and the parser is replaced by a fresh one for the next answer.
    """

    def __init__(self, worker: Worker) -> None:
        super().__init__(worker)
        self.kind_of = {id(request): kind for kind, request in enumerate(worker.encoded)}
        self.records = [recorder.record for recorder in worker.recorders]
        self.status_lists = worker.status_lists
        self.head_in_flight = False
        self.head_answered = False

    def send(self, request: bytes, sent_at_ns: int, now_ns: int) -> None:
        kind = self.kind_of[id(request)]
        self.record = self.records[kind]
        self.status_counts = self.status_lists[kind]
        self.head_in_flight = request.startswith(b"HEAD ")
        super().send(request, sent_at_ns, now_ns)

    def on_headers_complete(self) -> None:
        self.head_answered = self.head_in_flight

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.head_answered:
            self.head_answered = self.head_in_flight = False
            self.on_message_complete()
            self.parser = httptools.HttpResponseParser(self)

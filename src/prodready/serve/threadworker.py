"""Gunicorn's gthread worker, except that a connection costs no thread until its request head
has arrived whole.

Gunicorn's gthread hands each accepted connection to a thread, which waits up to 5 s for the
first bytes before giving it back to the poller, then reads the request head with a blocking
socket and no time limit. With 4 threads per worker, a dozen sockets that connect and send
nothing hold every thread of a 3-worker server, and a few that send half a head hold theirs
for as long as they like: a slowloris that needs no skill (the load generator's own idle
connections did it during reloads). Here `accept` puts the new connection on the poller, as
gthread already does for kept-alive ones; the poller thread reads what arrives until the head
is complete (or too large to be one, which the parser then refuses) and only then hands the
connection, with the bytes read so far, to a thread; the next request on a kept-alive
connection is read the same way. A connection whose head is not complete
within `keepalive` seconds of connecting is closed; at shutdown it lingers no longer than a
kept-alive one. The request body is still read by the thread: a slow upload holds one, which
is what a buffering proxy in front (the nginx site `prodready init` writes) absorbs.

TLS and HTTP/2 prior-knowledge connections skip the head buffering (their first bytes are not
an HTTP/1 head); they still wait on the poller for their first bytes.

It relies on gthread's internals (`TConn`, `pending_conns`, `poller`, the parser's unreader),
hence the upper bound on gunicorn in pyproject.toml.
"""

from __future__ import annotations

import errno
import selectors
import socket
import time
from functools import partial
from typing import Any

from gunicorn.http2 import negotiation
from gunicorn.workers.gthread import TConn, ThreadWorker

HEAD_END = b"\r\n\r\n"
READ_SIZE = 65536


class _HeadBufferedConn(TConn):
    """A connection whose first bytes were read by the poller thread: its parser gets them
    before anything more from the socket."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.head = bytearray()
        self.buffers_head = not self.cfg.is_ssl and not negotiation.prior_knowledge_allowed(
            self.cfg, self.client
        )

    def init(self) -> None:
        fresh = not self.initialized
        super().init()
        if fresh and self.head:
            self.parser.unreader.unread(bytes(self.head))
            self.head.clear()

    def head_limit(self) -> int:
        """Past this many bytes without a complete head, the parser refuses it (431/400)."""
        cfg = self.cfg
        return cfg.limit_request_line + cfg.limit_request_fields * (
            cfg.limit_request_field_size + 4
        )


class PollingThreadWorker(ThreadWorker):
    def accept(self, listener: socket.socket) -> None:
        try:
            client, address = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = _HeadBufferedConn(self.cfg, client, address, listener.getsockname())
        conn.timeout = time.monotonic() + self.cfg.keepalive  # TConn made it non-blocking
        self.pending_conns.append(conn)
        self.poller.register(
            client, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn)
        )

    def on_pending_socket_readable(self, conn: TConn, client: socket.socket) -> None:
        """Reads a new connection's head on the poller; a thread gets it once complete."""
        if not isinstance(conn, _HeadBufferedConn) or not conn.buffers_head:
            super().on_pending_socket_readable(conn, client)
            return
        data = _read_some(client)
        if data is None:
            return
        if not data:  # the client left before finishing its head
            self.poller.unregister(client)
            self.pending_conns.remove(conn)
            self.nr_conns -= 1
            conn.close()
            return
        conn.head += data
        if HEAD_END in conn.head or len(conn.head) > conn.head_limit():
            super().on_pending_socket_readable(conn, client)

    def on_client_socket_readable(self, conn: TConn, client: socket.socket) -> None:
        """The same for the next request on a kept-alive connection: its parser exists, so the
        bytes go back into it before a thread reads on."""
        if not isinstance(conn, _HeadBufferedConn) or not conn.buffers_head:
            super().on_client_socket_readable(conn, client)
            return
        data = _read_some(client)
        if data is None:
            return
        if not data:  # closed by the client between requests
            self.poller.unregister(client)
            self.keepalived_conns.remove(conn)
            self.nr_conns -= 1
            conn.close()
            return
        conn.head += data
        if HEAD_END in conn.head or len(conn.head) > conn.head_limit():
            conn.parser.unreader.unread(bytes(conn.head))
            conn.head.clear()
            super().on_client_socket_readable(conn, client)

    def _cap_keepalive(self, deadline: float) -> None:
        """On shutdown, connections that never sent a whole request head linger no longer than
        kept-alive ones (the deque stays sorted: every timeout is capped at the same deadline)."""
        super()._cap_keepalive(deadline)
        for conn in self.pending_conns:
            conn.timeout = min(conn.timeout, deadline)


def _read_some(client: socket.socket) -> bytes | None:
    """What the client sent so far: None when nothing is there yet, b"" when it left."""
    try:
        return client.recv(READ_SIZE)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""

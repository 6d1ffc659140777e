"""Gunicorn's gthread worker, except that a new connection costs no thread until it speaks.

Gunicorn's gthread hands each accepted connection to a thread, which waits up to 5 s for the
first bytes before giving it back to the poller. With 4 threads per worker, a dozen sockets
that connect and send nothing hold every thread of a 3-worker server, and a real request
waits seconds behind them: a slowloris that needs no skill, and the load generator's own idle
connections during a reload do the same. Here `accept` puts the new connection straight on
the poller, as gthread already does for kept-alive ones; a thread takes it once bytes arrive.
A connection that says nothing is closed after `keepalive` seconds, and at shutdown after the
same short linger as kept-alive ones.

It relies on gthread's internals (`pending_conns`, `poller`, `on_pending_socket_readable`),
hence the upper bound on gunicorn in pyproject.toml.
"""

from __future__ import annotations

import errno
import selectors
import socket
import time
from functools import partial

from gunicorn.workers.gthread import TConn, ThreadWorker


class PollingThreadWorker(ThreadWorker):
    def accept(self, listener: socket.socket) -> None:
        try:
            client, address = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, client, address, listener.getsockname())  # non-blocking
        conn.timeout = time.monotonic() + self.cfg.keepalive
        self.pending_conns.append(conn)
        self.poller.register(
            client, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn)
        )

    def _cap_keepalive(self, deadline: float) -> None:
        """On shutdown, connections that never sent a request linger no longer than kept-alive
        ones (the deque stays sorted: every timeout is capped at the same deadline)."""
        super()._cap_keepalive(deadline)
        for conn in self.pending_conns:
            conn.timeout = min(conn.timeout, deadline)

"""Hostile HTTP servers on 127.0.0.1 for the load fault tests: each misbehaves in one way.

A thread accepts connections and gives each to a handler thread; `stop()` closes everything.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable

Handler = Callable[[socket.socket, threading.Event], None]


def _read_request(conn: socket.socket) -> bool:
    """Reads until the end of a request's headers; False if the client went away."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return False
        data += chunk
    return True


def never_answers(conn: socket.socket, stop: threading.Event) -> None:
    """Accepts, reads the request, and says nothing until the end."""
    _read_request(conn)
    stop.wait()


def junk(conn: socket.socket, stop: threading.Event) -> None:
    """Answers every request with bytes that are not HTTP, and keeps the connection open."""
    while _read_request(conn):
        conn.sendall(b"\x16\x03\x01 this is not HTTP at all\r\n\r\n")
    stop.wait()


def resets(conn: socket.socket, stop: threading.Event) -> None:
    """Reads the request, then resets the connection (RST, no answer)."""
    _read_request(conn)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def slow_drip(conn: socket.socket, stop: threading.Event) -> None:
    """Announces 1,000 bytes and sends one every half second."""
    if not _read_request(conn):
        return
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    while not stop.wait(0.5):
        conn.sendall(b"x")


def short_body(conn: socket.socket, stop: threading.Event) -> None:
    """Announces 100 bytes of body, sends 10 and waits."""
    if _read_request(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
    stop.wait()


def plain_ok(conn: socket.socket, stop: threading.Event) -> None:
    """A well-behaved plain HTTP server (the target of a TLS client)."""
    while _read_request(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


class HostileServer:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.stop_event = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=512)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.connections: list[socket.socket] = []
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop_event.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            self.connections.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            self.handler(conn, self.stop_event)

    def stop(self) -> None:
        self.stop_event.set()
        self.listener.close()
        for conn in self.connections:
            with contextlib.suppress(OSError):
                conn.close()

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


class FaultyLink:
    """A TCP proxy on 127.0.0.1 in front of a real service that can be frozen (bytes stop
    flowing, connections stay open: a hung host) or cut (every connection reset, new ones
    reset at once: a dead host), and healed again. The service itself is never touched."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.state = "up"  # up | frozen | cut
        self.flowing = threading.Event()
        self.flowing.set()
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> None:
        self.state = "frozen"
        self.flowing.clear()

    def cut(self) -> None:
        self.state = "cut"
        self.flowing.set()
        with self.lock:
            for sock in self.sockets:
                _reset(sock)
            self.sockets.clear()

    def heal(self) -> None:
        self.state = "up"
        self.flowing.set()

    def close(self) -> None:
        self.listener.close()
        self.cut()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.state == "cut":
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                _reset(client)
                continue
            with self.lock:
                self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while True:
                data = source.recv(65536)
                self.flowing.wait()
                if not data or self.state == "cut":
                    break
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

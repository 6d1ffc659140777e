"""Slowloris through the front: sockets that send a request's headers a line at a time, never
finishing them, for a bounded time, while ordinary requests keep being sent. A proxy that
buffers whole requests keeps them away from the app's workers; one that passes them on lets a
handful of clients hold every worker."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from prodready.verify.http import Reply


@dataclass(frozen=True)
class SlowRun:
    slow_sockets: int
    slow_held: int
    """Slow sockets still open when the window closed (the front may cut them earlier)."""
    ordinary_sent: int
    ordinary_answered: int
    """Answered by the app: any status but none, 502 or 504 (what nginx says when the app does
    not take the request); the app's own errors are answers."""
    statuses: list[int]


def slowloris(
    port: int,
    ca: Path,
    server_name: str,
    ordinary: Callable[[], Reply],
    *,
    sockets: int = 24,
    seconds: float = 6.0,
    interval_s: float = 1.0,
) -> SlowRun:
    """Holds `sockets` slow TLS connections to 127.0.0.1:port for `seconds` and sends an
    ordinary request every `interval_s / 2` meanwhile."""
    stop = threading.Event()
    opened: list[ssl.SSLSocket] = []
    holder = threading.Thread(
        target=_hold, args=(port, ca, server_name, sockets, interval_s, stop, opened), daemon=True
    )
    holder.start()
    time.sleep(interval_s)  # the slow clients are connected before the ordinary ones come
    statuses = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            statuses.append(ordinary().status)
        except OSError:
            statuses.append(0)
        time.sleep(interval_s / 2)
    stop.set()
    holder.join(timeout=10)
    answered = sum(1 for status in statuses if status not in (0, 502, 504))
    return SlowRun(sockets, len(opened), len(statuses), answered, statuses)


def _hold(
    port: int,
    ca: Path,
    server_name: str,
    count: int,
    interval_s: float,
    stop: threading.Event,
    opened: list[ssl.SSLSocket],
) -> None:
    context = ssl.create_default_context(cafile=str(ca))
    try:
        for _ in range(count):
            raw = socket.create_connection(("127.0.0.1", port), timeout=5)
            try:
                conn = context.wrap_socket(raw, server_hostname=server_name)
            except OSError:
                raw.close()
                continue
            conn.sendall(f"GET / HTTP/1.1\r\nHost: {server_name}\r\n".encode())
            opened.append(conn)
        line = 0
        while not stop.wait(interval_s):
            line += 1
            for conn in list(opened):
                try:
                    conn.sendall(f"X-Slow-{line}: 1\r\n".encode())
                except OSError:
                    opened.remove(conn)  # the front cut it off: what it should do, in time
    finally:
        for conn in opened:
            conn.close()

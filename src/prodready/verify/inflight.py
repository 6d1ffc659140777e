"""Requests held in flight on purpose, to see what a server does with them when it stops.

Two ways to keep a request in the server's hands for a while:
- a slow route: a GET that takes long enough by itself;
- a slow upload: the headers and half of a JSON body sent, the rest held back; a handler that
  reads its body (a POST/PUT/PATCH route) waits for it, so the request is accepted, parsed and
  running in the app, not waiting in a queue, until the rest is sent.

Each request ends `completed` (a whole HTTP answer, any status), `reset` (the connection was
reset or closed before the answer was whole) or `errored` (anything else: a timeout)."""

from __future__ import annotations

import http.client
import select
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field

from prodready.verify.http import request

BODY_BYTES = 4096
ANSWER_TIMEOUT_S = 60.0


@dataclass
class Outcomes:
    results: list[str] = field(default_factory=list)
    """"completed", "reset" or "errored", one per request."""
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, result: str) -> int:
        return self.results.count(result)

    def add(self, result: str, status: int | None = None, error: str = "") -> None:
        with self.lock:
            self.results.append(result)
            if status is not None:
                self.statuses[status] += 1
            if error:
                self.errors.append(error)


@dataclass
class SlowUpload:
    """One request whose body is half sent."""

    sock: socket.socket
    rest: bytes


def start_upload(port: int, method: str, path: str) -> SlowUpload:
    body = b"{" + b" " * (BODY_BYTES - 2) + b"}"
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT_S)
    half = len(body) // 2
    sock.sendall(head + body[:half])
    return SlowUpload(sock, body[half:])


def answered_early(upload: SlowUpload, wait_s: float) -> bool:
    """True when the server answered (or closed) before the body was whole: the route does
    not wait for its body, so a slow upload does not hold a request in it."""
    readable, _, _ = select.select([upload.sock], [], [], wait_s)
    return bool(readable)


def finish_upload(upload: SlowUpload, outcomes: Outcomes) -> None:
    try:
        with upload.sock:
            upload.sock.sendall(upload.rest)
            response = http.client.HTTPResponse(upload.sock)
            response.begin()
            response.read()
            outcomes.add("completed", response.status)
    except (ConnectionError, http.client.IncompleteRead, http.client.BadStatusLine) as error:
        outcomes.add("reset", error=repr(error))
    except OSError as error:
        outcomes.add("errored", error=repr(error))


def slow_get(port: int, path: str, outcomes: Outcomes) -> None:
    try:
        reply = request(port, path, timeout=ANSWER_TIMEOUT_S)
    except OSError as error:
        reset = isinstance(error, ConnectionError) or "bad HTTP answer" in str(error)
        outcomes.add("reset" if reset else "errored", error=repr(error))
    else:
        outcomes.add("completed", reply.status)

"""A test client for SSE: reads the raw text/event-stream over a real HTTP connection (httpx)
and parses it per the WHATWG rules, keeping comments and retry hints so tests can see them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Received:
    """What one connection delivered, in order."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    events: list[dict[str, str]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    retries: list[int] = field(default_factory=list)
    last_id: str | None = None
    """The id a browser would send as Last-Event-ID now (set by any frame with an id)."""
    ended: bool = False
    """The server ended the stream (as opposed to the client stopping)."""

    def numbers(self) -> list[int]:
        return [json.loads(event["data"])["n"] for event in self.events]


def parse(lines: Iterator[str], received: Received) -> Iterator[None]:
    """Feeds `received` from the lines; yields after each event, comment or retry.
    As browsers do, a frame's id becomes the last id even when it has no data (no event)."""
    event: dict[str, str] = {}
    data: list[str] = []
    for line in lines:
        if line == "":
            if "id" in event:
                received.last_id = event["id"]
            if data:
                event["data"] = "\n".join(data)
                event.setdefault("event", "message")
                event.setdefault("id", received.last_id or "")
                received.events.append(event)
                yield
            event, data = {}, []
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "":
            received.comments.append(value)
            yield
        elif name == "data":
            data.append(value)
        elif name == "retry":
            received.retries.append(int(value))
            yield
        elif name in ("id", "event"):
            event[name] = value


def read(
    url: str,
    until: Callable[[Received], bool],
    last_event_id: str | None = None,
    timeout: float = 10.0,
    on_open: Callable[[], Any] | None = None,
    received: Received | None = None,
    give_up_after: float = 20.0,
) -> Received:
    """Reads one connection until `until(received)` is true, the server ends the stream, or
    `give_up_after` seconds pass (heartbeats keep a stream alive: a test waiting for an
    event that never comes must still end); `received` (filled as frames arrive) lets
    another thread watch."""
    received = received or Received()
    deadline = time.monotonic() + give_up_after
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    with httpx.stream("GET", url, headers=headers, timeout=timeout) as response:
        received.status = response.status_code
        received.headers = dict(response.headers)
        if on_open is not None:
            on_open()
        for _ in parse(response.iter_lines(), received):
            if until(received) or time.monotonic() > deadline:
                return received
        received.ended = True
    return received


class Reconnecting(threading.Thread):
    """Reads a stream like a browser: reconnects with Last-Event-ID whenever it ends, until
    `stop()`; keeps every event in arrival order."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.done: list[dict[str, str]] = []
        self.current = Received()
        self.connections = 0
        self.failed_connects = 0
        self.connected = threading.Event()
        self._stopping = threading.Event()

    def run(self) -> None:
        last_id = None
        while not self._stopping.is_set():
            received = self.current = Received()
            try:
                read(
                    self.url,
                    lambda _: self._stopping.is_set(),
                    last_event_id=last_id,
                    on_open=self.connected.set,
                    received=received,
                )
            except httpx.HTTPError:
                self.failed_connects += 1
                self._stopping.wait(0.1)
            if received.status:
                self.connections += 1
            self.done.extend(received.events)
            self.current = Received()
            last_id = received.last_id or last_id

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=20)

    @property
    def events(self) -> list[dict[str, str]]:
        return self.done + self.current.events

    def numbers(self) -> list[int]:
        return [json.loads(event["data"])["n"] for event in self.events]

"""`prodready load --sse N URL`: N Server-Sent Event streams held open against one URL.

Each stream reconnects like a browser (with Last-Event-ID, after the server's `retry:` delay)
whenever the server ends it, and every event is checked:

- delivery latency, publish to receive, from a `sent_at` (Unix seconds) in the event's JSON
  data, stamped by the publisher (same clock: run the publisher on the same host);
- gaps and duplicates across reconnects: by the `n` sequence number in the data when the
  publisher numbers its events per key, else duplicates by event id (ids must grow);
- capacity: how many streams were open at once, and how many never got a 200.

HTTP/1.1 is spoken by h11 (framing, chunked decoding) over asyncio streams: one process holds
thousands of idle streams, which is what a capacity test needs.
"""

from __future__ import annotations

import asyncio
import json
import resource
import ssl
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from prodready.errors import UsageError
from prodready.load.histogram import LatencyRecorder, latency_summary_ms, new_histogram

RECONNECT_DELAY_S = 0.2
"""Used until the server sends its own `retry:` hint (browsers default to ~3 s; shorter here
so a test run sees its reconnects)."""


@dataclass
class SSELoadResult:
    url: str
    streams: int
    duration_s: float = 0.0
    max_open: int = 0
    never_opened: int = 0
    connections: int = 0
    reconnects: int = 0
    connect_errors: Counter[str] = field(default_factory=Counter)
    events: int = 0
    gaps: int = 0
    missing_events: int = 0
    duplicates: int = 0
    stamped_events: int = 0
    latency: Any = field(default_factory=new_histogram)

    @property
    def clean(self) -> bool:
        return self.gaps == 0 and self.duplicates == 0 and self.never_opened == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "streams": self.streams,
            "duration_s": round(self.duration_s, 3),
            "max_open": self.max_open,
            "never_opened": self.never_opened,
            "connections": self.connections,
            "reconnects": self.reconnects,
            "connect_errors": dict(self.connect_errors),
            "events": self.events,
            "gaps": self.gaps,
            "missing_events": self.missing_events,
            "duplicates": self.duplicates,
            "stamped_events": self.stamped_events,
            "latency_ms": latency_summary_ms(self.latency) if self.stamped_events else {},
        }


@dataclass
class _StreamState:
    last_id: str | None = None
    last_order: tuple[int, ...] | None = None
    last_n: int | None = None
    opened: bool = False


class _Run:
    def __init__(self, url: str, streams: int) -> None:
        self.result = SSELoadResult(url, streams)
        self.open_now = 0
        self.recorder = LatencyRecorder()

    def opened(self, state: _StreamState) -> None:
        self.open_now += 1
        self.result.connections += 1
        if state.opened:
            self.result.reconnects += 1
        state.opened = True
        self.result.max_open = max(self.result.max_open, self.open_now)

    def received(self, state: _StreamState, event_id: str | None, data: str) -> None:
        result = self.result
        result.events += 1
        payload = _json_object(data)
        sent_at = payload.get("sent_at")
        if isinstance(sent_at, int | float):
            result.stamped_events += 1
            self.recorder.record(max(1, int((time.time() - sent_at) * 1_000_000)))
        number = payload.get("n")
        if isinstance(number, int):
            if state.last_n is not None:
                if number <= state.last_n:
                    result.duplicates += 1
                elif number > state.last_n + 1:
                    result.gaps += 1
                    result.missing_events += number - state.last_n - 1
            if state.last_n is None or number > state.last_n:
                state.last_n = number
        elif event_id is not None:
            order = _order(event_id)
            if state.last_order is not None and order <= state.last_order:
                result.duplicates += 1
            state.last_order = max(order, state.last_order or order)


def _json_object(data: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _order(event_id: str) -> tuple[int, ...]:
    """Ids like 1712-3 (Redis Streams, prodready) or 42 compare as numbers."""
    parts = event_id.split("-")
    if all(part.isdigit() for part in parts):
        return tuple(int(part) for part in parts)
    return tuple(event_id.encode())


class SSEParser:
    """Splits a text/event-stream into (id, event, data) as the WHATWG rules say; a frame's
    id is kept as the last id even when it carries no data."""

    def __init__(self) -> None:
        self.buffer = b""
        self.last_id: str | None = None
        self.retry_ms: int | None = None
        self._data: list[str] = []
        self._event = "message"

    def feed(self, chunk: bytes) -> Iterator[tuple[str | None, str, str]]:
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        for raw in lines:
            line = raw.rstrip(b"\r").decode("utf-8", "replace")
            if not line:
                if self._data:
                    yield self.last_id, self._event, "\n".join(self._data)
                self._data, self._event = [], "message"
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                self._data.append(value)
            elif name == "id":
                self.last_id = value
            elif name == "event":
                self._event = value
            elif name == "retry" and value.isdigit():
                self.retry_ms = int(value)


async def _hold_stream(target: _Target, run: _Run, state: _StreamState, timeout_s: float) -> None:
    import h11

    delay = RECONNECT_DELAY_S
    while True:
        writer = None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(target.host, target.port, ssl=target.ssl), timeout_s
            )
            connection = h11.Connection(h11.CLIENT)
            headers = [
                ("Host", target.host_header),
                ("Accept", "text/event-stream"),
                ("Cache-Control", "no-cache"),
                ("User-Agent", "prodready-load"),
            ]
            if state.last_id:
                headers.append(("Last-Event-ID", state.last_id))
            writer.write(
                connection.send(h11.Request(method="GET", target=target.path, headers=headers))
            )
            writer.write(connection.send(h11.EndOfMessage()))
            parser = SSEParser()
            parser.last_id = state.last_id
            is_open = False
            try:
                while True:
                    event = connection.next_event()
                    if event is h11.NEED_DATA:
                        connection.receive_data(await reader.read(65536))
                    elif isinstance(event, h11.Response):
                        if event.status_code != 200:
                            run.result.connect_errors[f"http_{event.status_code}"] += 1
                            break
                        is_open = True
                        run.opened(state)
                    elif isinstance(event, h11.Data):
                        for event_id, _name, data in parser.feed(bytes(event.data)):
                            run.received(state, event_id, data)
                        state.last_id = parser.last_id
                    elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                        break
            finally:
                if is_open:
                    run.open_now -= 1
            if parser.retry_ms is not None:
                delay = parser.retry_ms / 1000
        except (OSError, TimeoutError, h11.RemoteProtocolError) as error:
            run.result.connect_errors[type(error).__name__] += 1
        finally:
            if writer is not None:
                writer.close()
        await asyncio.sleep(delay)


@dataclass(frozen=True)
class _Target:
    host: str
    port: int
    path: str
    host_header: str
    ssl: ssl.SSLContext | None


def _target(url: str, insecure: bool) -> _Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"bad URL {url!r}", "give a full URL such as http://127.0.0.1:8000/events")
    context = None
    if parts.scheme == "https":
        context = ssl.create_default_context()
        if insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(parts.hostname, port, path, parts.netloc, context)


def _raise_open_file_limit(streams: int) -> None:
    """Each stream is a file descriptor: raise the soft limit toward the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = streams + 256
    if soft < wanted:
        new_soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))


async def _run(
    target: _Target,
    run: _Run,
    duration_s: float,
    timeout_s: float,
    on_progress: Callable[[SSELoadResult, int], None] | None,
) -> None:
    states = [_StreamState() for _ in range(run.result.streams)]
    tasks = [asyncio.ensure_future(_hold_stream(target, run, s, timeout_s)) for s in states]
    started = time.monotonic()
    try:
        while (left := duration_s - (time.monotonic() - started)) > 0:
            await asyncio.sleep(min(1.0, left))
            if on_progress is not None:
                on_progress(run.result, run.open_now)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    run.result.duration_s = time.monotonic() - started
    run.result.never_opened = sum(1 for state in states if not state.opened)


def run_sse(
    url: str,
    streams: int,
    duration_s: float,
    timeout_s: float = 10.0,
    insecure: bool = False,
    on_progress: Callable[[SSELoadResult, int], None] | None = None,
) -> SSELoadResult:
    """Holds `streams` streams open on `url` for `duration_s` seconds; see the module doc."""
    if streams < 1:
        raise UsageError(f"--sse needs at least 1 stream, got {streams}", "e.g. --sse 100")
    target = _target(url, insecure)
    _raise_open_file_limit(streams)
    run = _Run(url, streams)
    asyncio.run(_run(target, run, duration_s, timeout_s, on_progress))
    run.result.latency = run.recorder.take_interval()
    return run.result

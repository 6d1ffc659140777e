"""The text/event-stream wire format (WHATWG HTML, "Server-sent events"), as bytes."""

from __future__ import annotations

HEADERS: list[tuple[str, str]] = [
    ("content-type", "text/event-stream; charset=utf-8"),
    ("cache-control", "no-cache"),
    # nginx reads this from the upstream and stops buffering this one response.
    ("x-accel-buffering", "no"),
]


def event_frame(event_id: str, event: str, data: str) -> bytes:
    """One event: its id (what the browser sends back as Last-Event-ID), its type and its
    data, one `data:` line per line of `data` (a bare newline would end the event)."""
    lines = [f"id: {event_id}"]
    if event != "message":
        lines.append(f"event: {event}")
    lines.extend(f"data: {line}" for line in data.splitlines() or [""])
    return ("\n".join(lines) + "\n\n").encode()


def retry_frame(milliseconds: int) -> bytes:
    """Tells the browser how long to wait before reconnecting once the stream ends."""
    return f"retry: {milliseconds}\n\n".encode()


def opening_frame(milliseconds: int, cursor: str) -> bytes:
    """The first frame: the retry hint, and the id the stream starts after. A frame without
    data dispatches no event, but the browser keeps its id as its Last-Event-ID (WHATWG
    "dispatch the event", step 1), so a client dropped before its first event still replays
    everything published since it connected."""
    return f"retry: {milliseconds}\nid: {cursor}\n\n".encode()


HEARTBEAT = b": ping\n\n"
"""A comment line: browsers ignore it, proxies and servers see traffic on an idle stream, and
writing it is how a WSGI server finds out the client has gone."""

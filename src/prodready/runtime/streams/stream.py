"""`Stream`: one channel family; `publish` from any process, `response(key)` in a route."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

from prodready.errors import UserError
from prodready.runtime.health import is_draining, on_drain
from prodready.runtime.streams import ids, sse
from prodready.runtime.streams.brokers import Broker, Event, MemoryBroker, RedisBroker, Wake
from prodready.runtime.streams.metrics import NoStreamMetrics, stream_metrics

SlowClientPolicy = Literal["drop", "keep"]

SYNC_TICK = 1.0
"""How long a WSGI stream waits at most before it looks at the drain state again."""

_open_async_streams: set[tuple[asyncio.AbstractEventLoop, Wake]] = set()
_drain_hooked = False


class Stream:
    """A family of SSE channels, one per key (a task id, a user id ...).

    `heartbeat` (seconds) is how often an idle stream gets a comment line; keep it below every
    idle timeout between the client and the app (nginx proxy_read_timeout, load balancers),
    which is what `prodready check` verifies. `retry_ms` is the browser's reconnect delay.
    `max_events` and `ttl` bound what a channel keeps for replay. A client more than
    `max_lag` events behind the newest is dropped with a `retry:` (`slow_client="drop"`): it
    reconnects and replays from its Last-Event-ID while the events are kept; with "keep" it
    stays and catches up at its own pace. Either way the publisher never waits.
    """

    def __init__(
        self,
        name: str,
        *,
        broker: Broker | str | None = None,
        heartbeat: float = 15.0,
        retry_ms: int = 2000,
        max_events: int = 1000,
        ttl: float = 3600.0,
        max_lag: int = 500,
        slow_client: SlowClientPolicy = "drop",
        key_prefix: str = "prodready:sse:",
        metrics: bool = True,
        framework: str | None = None,
    ) -> None:
        if heartbeat <= 0:
            raise UserError(
                f"stream {name!r}: heartbeat must be above 0 s, got {heartbeat}",
                hint="the default is 15 s; keep it below your proxy's read timeout",
            )
        if slow_client not in ("drop", "keep"):
            raise UserError(
                f"stream {name!r}: slow_client must be 'drop' or 'keep', got {slow_client!r}",
                hint="'drop' tells a client that fell behind to reconnect and replay",
            )
        self.name = name
        self.heartbeat = heartbeat
        self.retry_ms = retry_ms
        self.max_lag = max_lag
        self.slow_client = slow_client
        self.key_prefix = key_prefix
        self.framework = framework
        self.broker = _broker(broker, max_events, ttl)
        self._metrics_on = metrics
        self._metrics: Any = None

    def channel(self, key: Any) -> str:
        return f"{self.key_prefix}{self.name}:{key}"

    def publish(self, key: Any, data: Any, event: str = "message") -> str:
        """Appends an event to the key's channel and returns its id. `data` that is not a str
        is sent as JSON. Never waits for subscribers."""
        text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
        return self.broker.publish(self.channel(key), event, text)

    def response(self, key: Any, request: Any = None) -> Any:
        """The framework's streaming response for this key's channel. Django needs `request`
        (for its Last-Event-ID header); Flask and Starlette/FastAPI find it themselves."""
        from prodready.runtime.streams import responses

        return responses.build(self, key, request)

    # The two loops below are the whole protocol: retry hint, replay then live events from the
    # client's cursor, heartbeats when idle, and an end with a retry hint on drain or when slow.

    def frames(self, key: Any, last_event_id: str | None) -> Iterator[bytes]:
        """The byte frames of one client's stream, for WSGI servers (one thread per stream).

        A client that has gone is noticed when a write fails (the server closes this
        generator), so at the latest at the next heartbeat."""
        channel = self.channel(key)
        cursor, replay_until = self._start(last_event_id, self.broker.head(channel))
        counters = self._counters()
        self.broker.retain(channel, cursor)
        counters.open.labels(self.name).inc()
        try:
            yield sse.opening_frame(self.retry_ms, cursor)
            written_at = time.monotonic()
            while not is_draining():
                idle = time.monotonic() - written_at
                wait = max(0.0, min(self.heartbeat - idle, SYNC_TICK))
                events = self.broker.read(channel, cursor, wait)
                if events:
                    if self._too_slow(events, replay_until):
                        counters.dropped.labels(self.name).inc()
                        break
                    yield self._encode(events, replay_until, counters)
                    cursor = events[-1].id
                    written_at = time.monotonic()
                elif time.monotonic() - written_at >= self.heartbeat:
                    yield sse.HEARTBEAT
                    written_at = time.monotonic()
            yield sse.retry_frame(self.retry_ms)
        finally:
            counters.open.labels(self.name).dec()
            self.broker.release(channel)

    async def aframes(
        self,
        key: Any,
        last_event_id: str | None,
        wake: Wake | None = None,
        head: str | None = None,
    ) -> AsyncIterator[bytes]:
        """The byte frames of one client's stream, for ASGI servers. Ends with a retry hint
        when `wake.stop()` is called (the client disconnected) or the process drains.

        The stream starts after `head` (the channel's newest id, read before the response
        headers went out), else after the newest id when the first frame is asked for: send
        the headers only after that, so a client that sees them misses nothing."""
        wake = wake or Wake()
        registration = (asyncio.get_running_loop(), wake)
        _register_async_stream(registration)
        channel = self.channel(key)
        if head is None:
            head = await self.broker.ahead(channel)
        cursor, replay_until = self._start(last_event_id, head)
        counters = self._counters()
        self.broker.retain(channel, cursor)
        counters.open.labels(self.name).inc()
        try:
            yield sse.opening_frame(self.retry_ms, cursor)
            written_at = time.monotonic()
            while not wake.stopped and not is_draining():
                wait = max(0.0, self.heartbeat - (time.monotonic() - written_at))
                events = await self.broker.aread(channel, cursor, wait, wake)
                if wake.stopped:
                    break
                if events:
                    if self._too_slow(events, replay_until):
                        counters.dropped.labels(self.name).inc()
                        break
                    yield self._encode(events, replay_until, counters)
                    cursor = events[-1].id
                    written_at = time.monotonic()
                elif time.monotonic() - written_at >= self.heartbeat:
                    yield sse.HEARTBEAT
                    written_at = time.monotonic()
            yield sse.retry_frame(self.retry_ms)
        finally:
            _open_async_streams.discard(registration)
            counters.open.labels(self.name).dec()
            self.broker.release(channel)

    def _start(self, last_event_id: str | None, head: str) -> tuple[str, tuple[int, int] | None]:
        """The cursor to read after, and (on a reconnect) the newest id at reconnect: events
        up to it are replayed ones."""
        resumed = ids.parse(last_event_id)
        if resumed is None:
            return head, None
        return ids.render(resumed), ids.parse(head)

    def _too_slow(self, events: list[Event], replay_until: tuple[int, int] | None) -> bool:
        if self.slow_client == "keep" or len(events) <= self.max_lag:
            return False
        live = events if replay_until is None else [e for e in events if e.order > replay_until]
        return len(live) > self.max_lag

    def _encode(
        self, events: list[Event], replay_until: tuple[int, int] | None, counters: Any
    ) -> bytes:
        counters.sent.labels(self.name).inc(len(events))
        if replay_until is not None:
            replayed = sum(1 for event in events if event.order <= replay_until)
            if replayed:
                counters.replayed.labels(self.name).inc(replayed)
        return b"".join(sse.event_frame(e.id, e.event, e.data) for e in events)

    def _counters(self) -> Any:
        if self._metrics is None:
            self._metrics = stream_metrics() if self._metrics_on else NoStreamMetrics()
        return self._metrics


def _broker(broker: Broker | str | None, max_events: int, ttl: float) -> Broker:
    if broker is None or broker == "memory":
        return MemoryBroker(max_events, ttl)
    if isinstance(broker, str):
        if broker.startswith(("redis://", "rediss://", "unix://")):
            return RedisBroker(broker, max_events, ttl)
        raise UserError(
            f"unknown stream broker {broker!r}",
            hint="pass broker='memory' or a Redis URL such as redis://127.0.0.1:6379/0",
        )
    return broker


def _register_async_stream(registration: tuple[asyncio.AbstractEventLoop, Wake]) -> None:
    global _drain_hooked
    if not _drain_hooked:
        _drain_hooked = True
        on_drain(_stop_async_streams)
    _open_async_streams.add(registration)


def _stop_async_streams() -> None:
    """On drain (SIGTERM, reload): every open ASGI stream ends now, with its retry hint."""
    for loop, wake in list(_open_async_streams):
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(wake.stop)

"""Where events live between `publish` and the clients: a bounded log per key, read by cursor.

Every subscriber reads the log after its own cursor (the last id it sent), so replay after a
Last-Event-ID and live delivery are the same read: no gap and no duplicate by construction,
and a publisher never waits for a subscriber (it appends to a bounded log and returns).

- `MemoryBroker`: one process only. Events live in that process's memory, so publishers in
  other processes (other Gunicorn workers, a Celery task, a script) are not seen, and a
  restart forgets them. For a single-process app or for development.
- `RedisBroker`: one Redis Stream per key (XADD with MAXLEN ~ N, and a TTL refreshed on each
  publish); subscribers use blocking XREAD. Any process that can reach Redis publishes, and
  every worker of every generation serves replay.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from prodready.runtime.streams import ids


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    event: str
    data: str
    order: tuple[int, int] = field(compare=False, repr=False, default=(0, 0))


class Broker(Protocol):
    def publish(self, channel: str, event: str, data: str) -> str: ...
    def head(self, channel: str) -> str: ...
    def read(self, channel: str, after: str, timeout: float) -> list[Event]: ...
    async def aread(self, channel: str, after: str, timeout: float) -> list[Event]: ...
    async def ahead(self, channel: str) -> str: ...


class MemoryBroker:
    """A bounded deque of events per channel in this process; see the module docstring."""

    def __init__(self, max_events: int = 1000, ttl: float = 3600.0) -> None:
        self.max_events = max_events
        self.ttl = ttl
        self._changed = threading.Condition()
        self._logs: dict[str, deque[Event]] = {}
        self._published_at: dict[str, float] = {}
        self._last = (0, 0)
        self._swept_at = time.monotonic()
        self._async_waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def publish(self, channel: str, event: str, data: str) -> str:
        with self._changed:
            now_ms = time.time_ns() // 1_000_000
            self._last = (
                (now_ms, 0) if now_ms > self._last[0] else (self._last[0], self._last[1] + 1)
            )
            item = Event(ids.render(self._last), event, data, self._last)
            log = self._logs.get(channel)
            if log is None:
                log = self._logs[channel] = deque(maxlen=self.max_events)
            log.append(item)
            self._published_at[channel] = time.monotonic()
            self._sweep_expired()
            self._changed.notify_all()
            waiters = list(self._async_waiters.get(channel, ()))
        for loop, woken in waiters:
            _wake(loop, woken)
        return item.id

    def head(self, channel: str) -> str:
        with self._changed:
            log = self._logs.get(channel)
            return log[-1].id if log else "0-0"

    async def ahead(self, channel: str) -> str:
        return self.head(channel)

    def read(self, channel: str, after: str, timeout: float) -> list[Event]:
        cursor = ids.parse(after) or (0, 0)
        with self._changed:
            events = self._after(channel, cursor)
            if not events and timeout > 0:
                self._changed.wait(timeout)
                events = self._after(channel, cursor)
            return events

    async def aread(self, channel: str, after: str, timeout: float) -> list[Event]:
        cursor = ids.parse(after) or (0, 0)
        with self._changed:
            events = self._after(channel, cursor)
            if events or timeout <= 0:
                return events
            waiter = (asyncio.get_running_loop(), asyncio.Event())
            self._async_waiters.setdefault(channel, set()).add(waiter)
        try:
            await asyncio.wait_for(waiter[1].wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._changed:
                self._async_waiters.get(channel, set()).discard(waiter)
        with self._changed:
            return self._after(channel, cursor)

    def _after(self, channel: str, cursor: tuple[int, int]) -> list[Event]:
        newer: list[Event] = []
        for item in reversed(self._logs.get(channel, ())):
            if item.order <= cursor:
                break
            newer.append(item)
        newer.reverse()
        return newer

    def _sweep_expired(self) -> None:
        now = time.monotonic()
        if now - self._swept_at < min(60.0, self.ttl):
            return
        self._swept_at = now
        for channel, published_at in list(self._published_at.items()):
            if now - published_at > self.ttl:
                del self._published_at[channel]
                self._logs.pop(channel, None)


def _wake(loop: asyncio.AbstractEventLoop, woken: asyncio.Event) -> None:
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
        loop.call_soon_threadsafe(woken.set)


class RedisBroker:
    """One Redis Stream per channel; see the module docstring.

    Each waiting subscriber holds one connection in a blocking XREAD (Redis answers as soon as
    an event arrives), from a pool per process (sync) or per event loop (async).
    """

    BATCH = 500

    def __init__(self, url: str, max_events: int = 1000, ttl: float = 3600.0) -> None:
        self.url = url
        self.max_events = max_events
        self.ttl = ttl
        self._client: Any = None
        self._async_clients: dict[int, Any] = {}
        self._lock = threading.Lock()

    def publish(self, channel: str, event: str, data: str) -> str:
        pipe = self._sync().pipeline(transaction=False)
        pipe.xadd(channel, {"e": event, "d": data}, maxlen=self.max_events, approximate=True)
        pipe.expire(channel, int(self.ttl))
        event_id, _ = pipe.execute()
        return event_id.decode()

    def head(self, channel: str) -> str:
        newest = self._sync().xrevrange(channel, count=1)
        return newest[0][0].decode() if newest else "0-0"

    async def ahead(self, channel: str) -> str:
        newest = await self._async().xrevrange(channel, count=1)
        return newest[0][0].decode() if newest else "0-0"

    def read(self, channel: str, after: str, timeout: float) -> list[Event]:
        block = int(timeout * 1000) if timeout > 0 else None
        return _events(self._sync().xread({channel: after}, count=self.BATCH, block=block))

    async def aread(self, channel: str, after: str, timeout: float) -> list[Event]:
        block = int(timeout * 1000) if timeout > 0 else None
        reply = await self._async().xread({channel: after}, count=self.BATCH, block=block)
        return _events(reply)

    def _sync(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import redis

                    self._client = redis.Redis.from_url(self.url)
        return self._client

    def _async(self) -> Any:
        loop_id = id(asyncio.get_running_loop())
        client = self._async_clients.get(loop_id)
        if client is None:
            import redis.asyncio

            client = self._async_clients[loop_id] = redis.asyncio.Redis.from_url(self.url)
        return client


def _events(reply: Any) -> list[Event]:
    if not reply:
        return []
    entries = reply[0][1]  # [[channel, [(id, fields), ...]]]: one channel per read
    events = []
    for raw_id, fields in entries:
        event_id = raw_id.decode()
        events.append(
            Event(
                event_id,
                fields[b"e"].decode(),
                fields[b"d"].decode(),
                ids.parse(event_id) or (0, 0),
            )
        )
    return events

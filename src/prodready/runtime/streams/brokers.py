"""Where events live between `publish` and the clients: a bounded log per key, read by cursor.

Every subscriber reads the log after its own cursor (the last id it sent), so replay after a
Last-Event-ID and live delivery are the same read: no gap and no duplicate by construction,
and a publisher never waits for a subscriber (it appends to a bounded log and returns).

- `MemoryBroker`: one process only. Events live in that process's memory, so publishers in
  other processes (other Gunicorn workers, a Celery task, a script) are not seen, and a
  restart forgets them. For a single-process app or for development.
- `RedisBroker`: one Redis Stream per key (XADD with MAXLEN ~ N, and a TTL refreshed on each
  publish). Any process that can reach Redis publishes, and every worker of every generation
  serves replay. Per process, one feed thread reads every watched key with one blocking XREAD
  into a local log, which that process's subscribers read like the memory broker's: a
  thousand subscribers of a key cost one Redis read per event, not a thousand. Replay from
  before the local log started is read from Redis itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
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


class Wake:
    """What wakes one waiting ASGI stream: an event for its channel, its heartbeat timer, or
    a stop (the client left, or the process drains). Setting an asyncio.Event costs no task,
    so an idle stream costs one timer per heartbeat."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True
        self.event.set()


class Broker(Protocol):
    def publish(self, channel: str, event: str, data: str) -> str: ...
    def head(self, channel: str) -> str: ...
    async def ahead(self, channel: str) -> str: ...
    def retain(self, channel: str, cursor: str) -> None: ...
    def release(self, channel: str) -> None: ...
    def read(self, channel: str, after: str, timeout: float) -> list[Event]: ...
    async def aread(self, channel: str, after: str, timeout: float, wake: Wake) -> list[Event]: ...


class MemoryBroker:
    """A bounded deque of events per channel in this process; see the module docstring."""

    def __init__(self, max_events: int = 1000, ttl: float = 3600.0) -> None:
        self.max_events = max_events
        self.ttl = ttl
        self._changed = threading.Condition()
        self._logs: dict[str, deque[Event]] = {}
        self._touched_at: dict[str, float] = {}
        self._last = (0, 0)
        self._swept_at = time.monotonic()
        self._async_waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, Wake]]] = {}

    def publish(self, channel: str, event: str, data: str) -> str:
        with self._changed:
            now_ms = time.time_ns() // 1_000_000
            last = self._last
            self._last = (now_ms, 0) if now_ms > last[0] else (last[0], last[1] + 1)
            item = Event(ids.render(self._last), event, data, self._last)
        self.append(channel, [item])
        return item.id

    def append(self, channel: str, events: list[Event]) -> None:
        """Adds events that already have ids (read from Redis) and wakes the channel's
        readers."""
        with self._changed:
            log = self._logs.get(channel)
            if log is None:
                log = self._logs[channel] = deque(maxlen=self.max_events)
            log.extend(events)
            self._touched_at[channel] = time.monotonic()
            self._sweep_expired()
            self._changed.notify_all()
            waiters = list(self._async_waiters.get(channel, ()))
        for loop, wake in waiters:
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(wake.event.set)

    def forget(self, channel: str) -> None:
        with self._changed:
            self._logs.pop(channel, None)
            self._touched_at.pop(channel, None)

    def covers(self, channel: str, after: tuple[int, int]) -> bool:
        """Whether every event after `after` that this log ever got is still in it."""
        with self._changed:
            log = self._logs.get(channel)
            return not log or len(log) < self.max_events or log[0].order <= after

    def head(self, channel: str) -> str:
        with self._changed:
            log = self._logs.get(channel)
            return log[-1].id if log else "0-0"

    async def ahead(self, channel: str) -> str:
        return self.head(channel)

    def retain(self, channel: str, cursor: str) -> None:
        """Nothing to start: publishers write here directly."""

    def release(self, channel: str) -> None:
        """Nothing to stop."""

    def read(self, channel: str, after: str, timeout: float) -> list[Event]:
        cursor = ids.parse(after) or (0, 0)
        with self._changed:
            events = self._after(channel, cursor)
            if not events and timeout > 0:
                self._changed.wait(timeout)
                events = self._after(channel, cursor)
            return events

    async def aread(self, channel: str, after: str, timeout: float, wake: Wake) -> list[Event]:
        cursor = ids.parse(after) or (0, 0)
        loop = asyncio.get_running_loop()
        waiter = (loop, wake)
        with self._changed:
            events = self._after(channel, cursor)
            if events or timeout <= 0 or wake.stopped:
                return events
            self._async_waiters.setdefault(channel, set()).add(waiter)
        timer = loop.call_later(timeout, wake.event.set)
        try:
            await wake.event.wait()
        finally:
            timer.cancel()
            wake.event.clear()
            with self._changed:
                self._async_waiters.get(channel, set()).discard(waiter)
        if wake.stopped:
            return []
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
        for channel, touched_at in list(self._touched_at.items()):
            if now - touched_at > self.ttl and not self._async_waiters.get(channel):
                del self._touched_at[channel]
                self._logs.pop(channel, None)


@dataclass
class _Watched:
    """A channel the feed thread reads: from `start` on, its local log is complete."""

    start: tuple[int, int]
    cursor: str
    subscribers: int = 0


class RedisBroker:
    """One Redis Stream per channel, read per process by one feed thread; see the module
    docstring."""

    BATCH = 500
    FEED_BLOCK_MS = 250
    """How long the feed's XREAD blocks: also how soon it starts reading a newly watched key
    (its first events are not lost meanwhile: they wait in Redis)."""

    def __init__(self, url: str, max_events: int = 1000, ttl: float = 3600.0) -> None:
        self.url = url
        self.max_events = max_events
        self.ttl = ttl
        self._client: Any = None
        self._async_clients: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._local = MemoryBroker(max_events, ttl)
        self._watched: dict[str, _Watched] = {}
        self._feed_pid: int | None = None

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

    def retain(self, channel: str, cursor: str) -> None:
        """A subscriber starts reading `channel` after `cursor`: the feed watches it."""
        with self._lock:
            watched = self._watched.get(channel)
            if watched is None:
                start = ids.parse(cursor) or (0, 0)
                watched = self._watched[channel] = _Watched(start, ids.render(start))
            watched.subscribers += 1
            if self._feed_pid != os.getpid():  # none running, or inherited through a fork
                self._feed_pid = os.getpid()
                threading.Thread(target=self._feed, name="prodready-sse-feed", daemon=True).start()

    def release(self, channel: str) -> None:
        with self._lock:
            watched = self._watched.get(channel)
            if watched is not None:
                watched.subscribers -= 1
                if watched.subscribers <= 0:
                    del self._watched[channel]
                    self._local.forget(channel)

    def read(self, channel: str, after: str, timeout: float) -> list[Event]:
        if not self._covered(channel, after):
            replayed = _events(self._sync().xread({channel: after}, count=self.BATCH))
            if replayed:
                return replayed
            # Nothing in Redis after `after`: whatever comes next comes through the feed.
        return self._local.read(channel, after, timeout)

    async def aread(self, channel: str, after: str, timeout: float, wake: Wake) -> list[Event]:
        if not self._covered(channel, after):
            reply = await self._async().xread({channel: after}, count=self.BATCH)
            if reply:
                return _events(reply)
        return await self._local.aread(channel, after, timeout, wake)

    def _covered(self, channel: str, after: str) -> bool:
        """Whether the local log holds every event after `after` (else: replay from Redis)."""
        cursor = ids.parse(after) or (0, 0)
        with self._lock:
            watched = self._watched.get(channel)
            if watched is None or cursor < watched.start:
                return False
        return self._local.covers(channel, cursor)

    def _feed(self) -> None:
        """The feed thread: every watched channel in one blocking XREAD, into the local log.
        It ends when no channel is watched any more."""
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            while self._feed_pid == os.getpid():
                with self._lock:
                    watched = dict(self._watched)
                    if not watched:  # nobody listens: the next retain() starts a new feed
                        self._feed_pid = None
                        return
                cursors = {channel: w.cursor for channel, w in watched.items()}
                try:
                    reply = client.xread(cursors, count=self.BATCH, block=self.FEED_BLOCK_MS)
                except redis.RedisError:
                    time.sleep(1)  # Redis away: subscribers get heartbeats, then what they missed
                    continue
                for raw_channel, entries in reply or ():
                    channel = raw_channel.decode()
                    events = [_event(i, f) for i, f in entries]
                    self._deliver(channel, watched[channel], events)
        finally:
            client.close()

    def _deliver(self, channel: str, read_for: _Watched, events: list[Event]) -> None:
        """Appends what one XREAD gave, unless the channel stopped being watched meanwhile
        (its last subscriber left; maybe a new one came, whose log starts elsewhere)."""
        with self._lock:
            if self._watched.get(channel) is not read_for:
                return
            read_for.cursor = events[-1].id
            self._local.append(channel, events)

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


def _event(raw_id: bytes, fields: dict[bytes, bytes]) -> Event:
    event_id = raw_id.decode()
    order = ids.parse(event_id) or (0, 0)
    return Event(event_id, fields[b"e"].decode(), fields[b"d"].decode(), order)


def _events(reply: Any) -> list[Event]:
    """Events of a one-channel XREAD reply: [[channel, [(id, fields), ...]]]."""
    return [_event(raw_id, fields) for raw_id, fields in reply[0][1]] if reply else []

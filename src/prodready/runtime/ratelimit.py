"""Rate limits on the `limits` library: per client, per route and global.

    Production(app, rate_limit="100/minute",                  # each client, every route
               route_limits={"/login": "5/minute"},           # each client, by path prefix
               global_limit="5000/second",                    # all clients together
               rate_limit_storage=settings.redis_url)         # shared by workers and hosts

Memory storage (the default) limits each worker process on its own; Redis makes several
workers or hosts share one limit. The client is the peer address, or the right-most untrusted
X-Forwarded-For address when the peer is in `trusted_proxies` (never trust the header from
anyone else: clients can write anything in it).

When the storage fails (Redis down, or frozen: a timeout), requests are let through (fail
open) or refused with 503 (`rate_limit_fail_closed=True`), behind a circuit breaker: the first
failure opens it, one warning is logged, and no request touches the storage until a background
thread finds it answering again (checked after BACKOFF_FIRST_S, then backing off to
BACKOFF_MAX_S); then one info line, and requests use it again. A frozen Redis thus costs only
the requests already waiting on it when it froze, not one timeout per request every second.
ASGI apps talk to Redis through the async client, so the event loop never blocks on it.
"""

from __future__ import annotations

import ipaddress
import itertools
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from limits.util import WindowStats

from prodready.errors import UserError
from prodready.runtime.options import RATE_LIMIT_STRATEGIES as STRATEGIES

REDIS_TIMEOUT = 0.25
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 10.0


@dataclass(frozen=True)
class Refusal:
    """A request over its limit: answered 429 (or 503 when the storage is down, fail closed)."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class _Rule(NamedTuple):
    """A tuple, unpacked per request at C speed."""

    item: Any
    shared: tuple[str, str] | None
    """The identifiers of a global rule, the same for every client; None for per-client ones."""
    prefix: str


class RateLimits:
    def __init__(
        self,
        per_client: str | None = None,
        route_limits: Mapping[str, str] | None = None,
        global_limit: str | None = None,
        storage: str = "memory://",
        strategy: str = "fixed-window",
        fail_closed: bool = False,
        trusted_proxies: Iterable[str] = (),
        asynchronous: bool = False,
    ) -> None:
        from limits import parse

        if strategy not in STRATEGIES:
            raise UserError(
                f"unknown rate-limit strategy {strategy!r}",
                hint=f"use one of: {', '.join(STRATEGIES)}",
            )
        rules: list[_Rule] = []
        for text, scope, prefix in (
            (global_limit, "global", ""),
            (per_client, "client", ""),
            *((limit, "client", prefix) for prefix, limit in (route_limits or {}).items()),
        ):
            if text:
                try:
                    shared = ("global", prefix) if scope == "global" else None
                    rules.append(_Rule(parse(text), shared, prefix))
                except ValueError:
                    raise UserError(
                        f"cannot read rate limit {text!r}",
                        hint="write it like '100/minute', '10 per second' or '1000/hour'",
                    ) from None
        self._rules = rules
        self._route_rules = [rule for rule in rules if rule.prefix]
        self._base_rules = [rule for rule in rules if not rule.prefix]
        self.fail_closed = fail_closed
        self._trusted = [ipaddress.ip_network(net, strict=False) for net in trusted_proxies]
        self.asynchronous = asynchronous and not storage.startswith("memory")
        self._limiter = _build_limiter(storage, strategy, self.asynchronous)
        self.breaker = StorageBreaker(lambda: _storage_answers(storage), fail_closed)
        self.storage_uri = storage

    def client_of(self, peer: str | None, forwarded_for: str | None) -> str:
        """The client address: the peer, unless the peer is a trusted proxy."""
        if not forwarded_for or not self._trusted or not peer or not self._is_trusted(peer):
            return peer or "unknown"
        for hop in reversed(forwarded_for.split(",")):
            hop = hop.strip()
            if hop and not self._is_trusted(hop):
                return hop
        return peer

    def hit(self, client: str, path: str) -> Refusal | None:
        """Counts the request against every rule that applies; a Refusal when one is over."""
        if self.breaker.open:
            return self._storage_down()
        limiter = self._limiter
        try:
            for item, shared, prefix in self._applicable(path):
                identifiers = shared or (client, prefix)
                if not limiter.hit(item, *identifiers):
                    stats = limiter.get_window_stats(item, *identifiers)
                    return self._refusal(item, stats)
        except Exception as error:  # the storage failed: fail open or closed, never a 500
            return self._storage_failed(error)
        return None

    async def ahit(self, client: str, path: str) -> Refusal | None:
        """`hit` for ASGI apps with a network storage: awaits the async client."""
        if self.breaker.open:
            return self._storage_down()
        try:
            for item, shared, prefix in self._applicable(path):
                identifiers = shared or (client, prefix)
                if not await self._limiter.hit(item, *identifiers):
                    stats = await self._limiter.get_window_stats(item, *identifiers)
                    return self._refusal(item, stats)
        except Exception as error:
            return self._storage_failed(error)
        return None

    def _applicable(self, path: str) -> list[_Rule]:
        if not self._route_rules:
            return self._base_rules
        return [*self._base_rules, *(r for r in self._route_rules if path.startswith(r.prefix))]

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._trusted)

    @staticmethod
    def _refusal(item: Any, stats: Any) -> Refusal:
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        headers = [
            (b"retry-after", str(max(reset, 1)).encode()),
            (b"ratelimit-limit", str(item.amount).encode()),
            (b"ratelimit-remaining", str(max(stats.remaining, 0)).encode()),
            (b"ratelimit-reset", str(reset).encode()),
            (b"content-type", b"application/json"),
        ]
        return Refusal(429, headers, b'{"error":"too many requests"}')

    def _storage_failed(self, error: Exception) -> Refusal | None:
        self.breaker.trip(error)
        return self._storage_down()

    def _storage_down(self) -> Refusal | None:
        if not self.fail_closed:
            return None
        return Refusal(
            503,
            [(b"retry-after", b"1"), (b"content-type", b"application/json")],
            b'{"error":"rate limit storage unavailable"}',
        )


class StorageBreaker:
    """A circuit breaker around the rate-limit storage: `open` while it is down.

    `trip` (a request's storage call failed) opens it once, logs one warning and starts one
    background thread that calls `answers` with growing pauses until the storage answers, then
    closes it and logs one info line. Requests only read `open`: no lock on the hot path.
    """

    def __init__(self, answers: Callable[[], bool], fail_closed: bool) -> None:
        self.open = False
        self._answers = answers
        self._fail_closed = fail_closed
        self._lock = threading.Lock()

    def trip(self, error: Exception) -> None:
        with self._lock:
            if self.open:
                return
            self.open = True
        from prodready.runtime.logs import get_logger

        get_logger().warning(
            "rate_limit_storage_down",
            error=f"{type(error).__name__}: {error}",
            action="refusing requests" if self._fail_closed else "letting requests through",
            retry_in_seconds=BACKOFF_FIRST_S,
        )
        threading.Thread(
            target=self._recover, name="prodready-ratelimit-check", daemon=True
        ).start()

    def _recover(self) -> None:
        from prodready.runtime.logs import get_logger

        pause = BACKOFF_FIRST_S
        started = time.monotonic()
        while True:
            time.sleep(pause)
            if self._answers():
                break
            pause = min(pause * 2, BACKOFF_MAX_S)
        self.open = False
        get_logger().info(
            "rate_limit_storage_back", down_seconds=round(time.monotonic() - started, 1)
        )


def _storage_answers(storage: str) -> bool:
    """True when the storage answers a health check within REDIS_TIMEOUT (a sync client, in
    the breaker's own thread, also for ASGI apps)."""
    from limits.storage import storage_from_string

    options: dict[str, Any] = {}
    if storage.startswith(("redis", "rediss")):
        options = {"socket_timeout": REDIS_TIMEOUT, "socket_connect_timeout": REDIS_TIMEOUT}
    try:
        return bool(storage_from_string(storage, **options).check())
    except Exception:  # any failure to answer is "not yet"
        return False


class LocalFixedWindow:
    """Fixed-window counters in this process: the limiter for the default memory:// storage.

    Same semantics and interface (`hit`, `get_window_stats`) as limits' fixed-window limiter
    on its memory storage: a window opens at a client's first hit and lasts the limit's period.
    limits' MemoryStorage spends ~10 us per hit (a key string per call, per-key locks, an expiry
    timer thread), more than all the rest of the kit; here a hit is a dict lookup and a
    counter step.

    A window's count is an `itertools.count`, whose `next` is atomic under the GIL: hits of
    threads (Gunicorn gthread) add up without a lock; only opening a window takes one. Windows
    are keyed by the item's id, not the item: RateLimitItem hashes and compares in Python. The
    items are the RateLimits' own rules, alive as long as this limiter.
    """

    PRUNE_ABOVE = 10_000

    def __init__(self) -> None:
        self._windows: dict[tuple[int, tuple[str, ...]], _Window] = {}
        self._lock = threading.Lock()

    def hit(self, item: Any, *identifiers: str) -> bool:
        key = (id(item), identifiers)
        window = self._windows.get(key)
        if window is None or window.expiry <= time.time():
            window = self._open(key, item)
        hits = window.hits = next(window.counter)
        return hits <= item.amount

    def _open(self, key: tuple[int, tuple[str, ...]], item: Any) -> _Window:
        with self._lock:  # another thread may have opened it meanwhile: count in that one
            now = time.time()
            window = self._windows.get(key)
            if window is None or window.expiry <= now:
                if window is None and len(self._windows) > self.PRUNE_ABOVE:
                    self._prune(now)
                window = self._windows[key] = _Window(now + item.get_expiry())
            return window

    def get_window_stats(self, item: Any, *identifiers: str) -> WindowStats:
        window = self._windows.get((id(item), identifiers))
        now = time.time()
        if window is None or window.expiry <= now:
            return WindowStats(now, item.amount)
        return WindowStats(window.expiry, max(0, item.amount - window.hits))

    def _prune(self, now: float) -> None:
        for key in [key for key, window in self._windows.items() if window.expiry <= now]:
            del self._windows[key]


class _Window:
    __slots__ = ("counter", "expiry", "hits")

    def __init__(self, expiry: float) -> None:
        self.expiry = expiry
        self.counter = itertools.count(1)
        self.hits = 0
        """The count after the latest hit (for `get_window_stats`)."""


def _build_limiter(storage: str, strategy: str, asynchronous: bool) -> Any:
    if storage.rstrip("/") == "memory:" and strategy == "fixed-window":
        return LocalFixedWindow()
    options: dict[str, Any] = {}
    if storage.startswith(("redis", "rediss")):
        options = {"socket_timeout": REDIS_TIMEOUT, "socket_connect_timeout": REDIS_TIMEOUT}
    try:
        if asynchronous:
            from limits.aio import strategies as async_strategies
            from limits.storage import storage_from_string

            if storage.startswith(("redis", "rediss")):
                options["implementation"] = "redispy"
            backend = storage_from_string(f"async+{storage}", **options)
            return async_strategies.STRATEGIES[strategy](backend)
        from limits import strategies
        from limits.storage import storage_from_string

        return strategies.STRATEGIES[strategy](storage_from_string(storage, **options))
    except Exception as error:  # ConfigurationError, unknown scheme, missing driver
        raise UserError(
            f"cannot use rate-limit storage {_redact(storage)!r}: {error}",
            hint="use memory:// or redis://host:6379/0 (REDIS_URL)",
        ) from None


def _redact(uri: str) -> str:
    if "@" not in uri:
        return uri
    scheme, _, rest = uri.partition("://")
    return f"{scheme}://***@{rest.split('@', 1)[1]}"

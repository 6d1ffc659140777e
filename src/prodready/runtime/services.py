"""Lazy services: expensive things (ML models, clients, pools) built once, on first use.

    risk_model = prod.service("risk_model", load_model)
    risk_model.get().predict(x)          # or simply risk_model.predict(x)
    await client.aget()                  # async factories, or to build off the event loop

Never built at import time, and never shared across fork: a service built in another process
(the Gunicorn master with preload_app) is built again in the worker that uses it, so no
socket or thread is inherited half-alive. Building is serialised (one thread or task builds,
the others wait for it). A failing factory makes the service fail readiness, and is retried
with exponential backoff rather than on every request; meanwhile `get()` raises
`ServiceUnavailable` at once.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from prodready.runtime.health import Check, CheckResult

T = TypeVar("T")

FIRST_BACKOFF = 0.5
MAX_BACKOFF = 60.0


class ServiceUnavailable(RuntimeError):
    """The service's factory failed and is waiting for its next retry."""


class LazyService(Generic[T]):
    def __init__(
        self,
        name: str,
        factory: Callable[[], Any],
        first_backoff: float = FIRST_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
    ) -> None:
        self.name = name
        self._factory = factory
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._value: Any = None
        self._built_in: int | None = None  # pid of the process that built the value
        self._failures = 0
        self._retry_at = 0.0
        self._last_error = ""
        self._lock = threading.Lock()
        self._async_lock: Any = None

    @property
    def state(self) -> str:
        if self._built_in == os.getpid():
            return "ready"
        return "failed" if self._failures else "not built"

    def get(self) -> T:
        """The service, built now if this process has not built it yet."""
        if self._built_in == os.getpid():
            return self._value
        with self._lock:
            if self._built_in == os.getpid():
                return self._value
            self._raise_if_backing_off()
            try:
                value = self._factory()
                if hasattr(value, "__await__"):
                    value.close()  # never awaited: close it so Python does not warn
                    raise TypeError(f"service {self.name!r} has an async factory: use aget()")
            except Exception as error:
                self._failed(error)
                raise self._unavailable(error) from error
            return self._built(value)

    async def aget(self) -> T:
        """`get()` for async code: awaits async factories, runs sync ones in a thread."""
        if self._built_in == os.getpid():
            return self._value
        import asyncio

        if self._async_lock is None:
            self._async_lock = asyncio.Lock()
        async with self._async_lock:
            if self._built_in == os.getpid():
                return self._value
            self._raise_if_backing_off()
            try:
                if _is_async(self._factory):
                    value = await self._factory()
                else:
                    # A sync factory may block for seconds (loading a model): not on the loop.
                    value = await asyncio.to_thread(self._factory)
            except Exception as error:
                self._failed(error)
                raise self._unavailable(error) from error
            return self._built(value)

    def health_check(self) -> Check:
        """Readiness check: builds the service if needed; fails while it cannot be built.
        A slow build outlives the check's timeout in its thread, so probes answer at once."""

        def run() -> CheckResult:
            if _is_async(self._factory):
                # Its value belongs to the app's event loop: report, do not build, from here.
                if self.state == "failed":
                    return CheckResult("fail", output=self._last_error)
                return CheckResult("pass", output="" if self.state == "ready" else "not built yet")
            self.get()
            return CheckResult("pass")

        return Check(self.name, run, "component", "ready", critical=True)

    def __getattr__(self, attribute: str) -> Any:
        # Lets the service be used as if it were the built object: risk_model.predict(x).
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return getattr(self.get(), attribute)

    def _raise_if_backing_off(self) -> None:
        wait = self._retry_at - time.monotonic()
        if wait > 0:
            raise ServiceUnavailable(
                f"service {self.name!r} failed {self._failures} time(s), last: "
                f"{self._last_error}; next try in {wait:.1f}s"
            )

    def _unavailable(self, error: Exception) -> ServiceUnavailable:
        return ServiceUnavailable(f"service {self.name!r} failed to build: {error}")

    def _failed(self, error: Exception) -> None:
        self._failures += 1
        backoff = min(self._first_backoff * 2 ** (self._failures - 1), self._max_backoff)
        self._retry_at = time.monotonic() + backoff
        self._last_error = f"{type(error).__name__}: {error}"

    def _built(self, value: Any) -> Any:
        self._value = value
        self._built_in = os.getpid()
        self._failures = 0
        self._retry_at = 0.0
        return value


def _is_async(factory: Callable[[], Any]) -> bool:
    import inspect

    return inspect.iscoroutinefunction(factory)

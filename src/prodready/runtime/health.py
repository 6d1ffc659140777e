"""Liveness, readiness and deep health, in the draft-inadarei-api-health-check format.

- live: the process answers. Never runs checks, so a slow database never gets a pod killed.
- ready: critical checks (and lazy services) pass and the process is not draining.
- deep: every check with its observed value.

Checks run concurrently, each in its own daemon thread with its own timeout. A result is cached
for `ttl` seconds and a check already running is joined rather than started again, so a storm
of probes reaches a dependency at most once per TTL and a hanging dependency costs one thread,
never a hanging probe. Async checks run on the app's own event loop when the app is served by
an ASGI server (the ASGI core hands it over with `use_event_loop`), so they may use clients
bound to it (an async database pool made at startup); a WSGI app's async checks run on a loop
of their own. Either way a hanging async check is cancelled at its timeout.

`begin_draining()` turns readiness to 503 for the rest of the process's life; SIGTERM calls it
in Gunicorn and uvicorn workers (see `install_drain_on_sigterm`). To drain every worker at once
(before stopping them), a supervisor sets PRODREADY_DRAIN_FILE in their environment and creates
that file; readiness is 503 while it exists.

PRODREADY_NOT_READY_FILE is the same switch for maintenance rather than shutdown (`prodready
restore` swapping the database under the app): readiness is 503 while that file exists, with
the file's first line as the reason, and turns back to 200 when it goes. It is a separate
variable because `prodready serve` sets PRODREADY_DRAIN_FILE itself.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import asyncio

Status = Literal["pass", "warn", "fail"]
CONTENT_TYPE = "application/health+json"

DRAIN_FILE_ENV = "PRODREADY_DRAIN_FILE"
NOT_READY_FILE_ENV = "PRODREADY_NOT_READY_FILE"
NOT_READY_REASON_CHARS = 200

_not_yet_draining = [True]
"""Emptied by the first `begin_draining()`. Not a `threading.Event`: its `set()` takes a lock,
and a second SIGTERM arriving while the first one's handler held it deadlocked the worker
(Gunicorn sends SIGTERM again on every arbiter loop until a removed worker has exited).
`list.pop()` is one C call, so a signal handler cannot run in the middle of it."""
_drain_callbacks: list[Callable[[], None]] = []


def begin_draining() -> None:
    """Readiness answers 503 from now on, in this process. Idempotent, and safe in a signal
    handler that interrupts itself: it takes no lock.

    Load balancers stop sending new requests while in-flight ones finish. Called on SIGTERM in
    the worker, on ASGI lifespan shutdown, and by `prodready serve` before it stops a worker.
    """
    try:
        _not_yet_draining.pop()
    except IndexError:
        return
    for callback in list(_drain_callbacks):
        callback()


def on_drain(callback: Callable[[], None]) -> None:
    """Calls `callback` once when the process begins draining (open SSE streams end then).
    It may run in a signal handler: it must not take locks."""
    _drain_callbacks.append(callback)


def is_draining() -> bool:
    """True after `begin_draining()` in this process, or while the file named by
    PRODREADY_DRAIN_FILE exists (how a supervisor drains every worker at once)."""
    if not _not_yet_draining:
        return True
    drain_file = os.environ.get(DRAIN_FILE_ENV)
    return bool(drain_file) and os.path.exists(drain_file)


def not_ready_reason() -> str | None:
    """While the file named by PRODREADY_NOT_READY_FILE exists: its first line (or a default
    reason when it is empty or unreadable). None when there is no such file."""
    path = os.environ.get(NOT_READY_FILE_ENV)
    if not path:
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as flag:
            first_line = flag.readline(NOT_READY_REASON_CHARS).strip()
    except FileNotFoundError:
        return None
    except OSError:
        first_line = ""
    return first_line or f"{path} exists"


def install_drain_on_sigterm() -> None:
    """Makes SIGTERM begin draining before the server's own handling of it.

    Gunicorn and uvicorn install their handlers as bound methods (`Worker.handle_exit`,
    `Server.handle_exit`); wrapping the class attribute catches workers whose handlers are set
    up after the app is imported (preload, uvicorn workers). A handler already installed in
    the main thread is chained as well. Idempotent.
    """
    for module_name, class_name in (
        ("gunicorn.workers.base", "Worker"),
        ("uvicorn.server", "Server"),
    ):
        module = sys.modules.get(module_name)
        server_class = getattr(module, class_name, None) if module else None
        if server_class is not None:
            _wrap_handle_exit(server_class)
    if threading.current_thread() is threading.main_thread():
        previous = signal.getsignal(signal.SIGTERM)
        if callable(previous) and not getattr(previous, "_prodready_drains", False):

            def drain_then_previous(signum: int, frame: Any) -> None:
                begin_draining()
                previous(signum, frame)

            drain_then_previous._prodready_drains = True  # type: ignore[attr-defined]
            signal.signal(signal.SIGTERM, drain_then_previous)


def _wrap_handle_exit(server_class: type) -> None:
    original = getattr(server_class, "handle_exit", None)
    if original is None or getattr(original, "_prodready_drains", False):
        return

    def handle_exit(self: Any, *args: Any, **kwargs: Any) -> Any:
        begin_draining()
        return original(self, *args, **kwargs)

    handle_exit._prodready_drains = True  # type: ignore[attr-defined]
    server_class.handle_exit = handle_exit  # type: ignore[attr-defined]


@dataclass(frozen=True)
class CheckResult:
    """What a check observed. A check function may also return None/True (pass), False
    (fail) or a bare value (pass, reported as observedValue)."""

    status: Status = "pass"
    observed_value: Any = None
    observed_unit: str | None = None
    output: str = ""


@dataclass(frozen=True)
class Check:
    """A named probe of one dependency. `run` may be sync or async and raises on failure."""

    name: str
    run: Callable[[], Any]
    component_type: str = "component"
    measurement: str = "responseTime"
    critical: bool = True
    timeout: float = 2.0

    def named(self, name: str) -> Check:
        return replace(self, name=name)


@dataclass
class _Slot:
    result: CheckResult | None = None
    finished_at: float = 0.0
    time: str = ""
    running: Future[CheckResult] | None = None


@dataclass(frozen=True)
class Report:
    status: Status
    checks: dict[str, tuple[Check, CheckResult, str]] = field(default_factory=dict)

    @property
    def http_status(self) -> int:
        return 503 if self.status == "fail" else 200

    def to_json(self, with_observations: bool = True) -> bytes:
        body: dict[str, Any] = {"status": self.status}
        if self.checks:
            body["checks"] = {
                f"{check.name}:{check.measurement}": [
                    _describe(check, result, checked_at, with_observations)
                ]
                for check, result, checked_at in self.checks.values()
            }
        return json.dumps(body, separators=(",", ":")).encode()


def _describe(check: Check, result: CheckResult, checked_at: str, full: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"componentType": check.component_type, "status": result.status}
    if full and result.observed_value is not None:
        entry["observedValue"] = result.observed_value
        if result.observed_unit:
            entry["observedUnit"] = result.observed_unit
    entry["time"] = checked_at
    if result.output:
        entry["output"] = result.output
    return entry


class HealthRegistry:
    """The checks of one app, their cached results and the drain state."""

    def __init__(self, ttl: float = 2.0) -> None:
        self.ttl = ttl
        self._checks: dict[str, Check] = {}
        self._slots: dict[str, _Slot] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        """The app's event loop; asyncio is imported only by ASGI apps, never here."""

    def use_event_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Async checks run on `loop` (the app's) from now on."""
        self._loop = loop

    def add(self, check: Check) -> None:
        with self._lock:
            self._checks[check.name] = check
            self._slots[check.name] = _Slot()

    def live(self) -> Report:
        return Report("pass")

    def ready(self) -> Report:
        report = self.evaluate(critical_only=True)
        if is_draining():
            draining = Check("process", lambda: None, "system", "draining")
            result = CheckResult("fail", output="draining: shutting down, not taking new requests")
            return Report("fail", {**report.checks, "draining": (draining, result, _now_iso())})
        reason = not_ready_reason()
        if reason is not None:
            maintenance = Check("process", lambda: None, "system", "maintenance")
            result = CheckResult("fail", output=f"maintenance: {reason}")
            return Report(
                "fail", {**report.checks, "maintenance": (maintenance, result, _now_iso())}
            )
        return report

    def deep(self) -> Report:
        return self.evaluate(critical_only=False)

    def evaluate(self, critical_only: bool) -> Report:
        started = time.monotonic()
        selected = [c for c in self._checks.values() if c.critical or not critical_only]
        done: dict[str, tuple[Check, CheckResult, str]] = {}
        waiting: list[tuple[Check, Future[CheckResult]]] = []
        with self._lock:
            for check in selected:
                slot = self._slots[check.name]
                if slot.result is not None and started - slot.finished_at < self.ttl:
                    done[check.name] = (check, slot.result, slot.time)
                    continue
                if slot.running is None:
                    slot.running = self._start(check, slot)
                waiting.append((check, slot.running))
        for check, running in waiting:
            remaining = check.timeout - (time.monotonic() - started)
            try:
                result = running.result(timeout=max(remaining, 0.0))
            except FutureTimeout:
                result = CheckResult("fail", output=f"timed out after {check.timeout:g}s")
                self._remember(check.name, result, running, still_running=True)
            done[check.name] = (check, result, self._slots[check.name].time or _now_iso())
        ordered = {name: done[name] for name in (c.name for c in selected)}
        return Report(_overall(ordered.values()), ordered)

    def _start(self, check: Check, slot: _Slot) -> Future[CheckResult]:
        future: Future[CheckResult] = Future()

        def finish(result: CheckResult) -> None:
            self._remember(check.name, result, future, still_running=False)
            future.set_result(result)

        loop = self._loop
        if loop is not None and loop.is_running() and _is_async(check.run):
            import asyncio

            on_loop = asyncio.run_coroutine_threadsafe(_run_async_check(check), loop)
            on_loop.add_done_callback(lambda done: finish(done.result()))
            return future
        thread = threading.Thread(
            target=lambda: finish(_run_check(check)),
            name=f"prodready-check-{check.name}",
            daemon=True,
        )
        thread.start()
        return future

    def _remember(
        self, name: str, result: CheckResult, run: Future[CheckResult], still_running: bool
    ) -> None:
        """Caches a result. A timeout is cached too, so the next probes within the TTL answer
        at once; the hung run stays the slot's running one, so no second thread piles up."""
        with self._lock:
            slot = self._slots.get(name)
            if slot is None or slot.running is not run:
                return
            slot.result, slot.finished_at, slot.time = result, time.monotonic(), _now_iso()
            if not still_running:
                slot.running = None


def _is_async(run: Callable[[], Any]) -> bool:
    import inspect

    return inspect.iscoroutinefunction(run) or inspect.iscoroutinefunction(
        getattr(run, "__call__", None)  # noqa: B004 - an object with an async __call__
    )


async def _run_async_check(check: Check) -> CheckResult:
    """Runs an async check on the current loop, cancelled at its timeout."""
    import asyncio

    started = time.perf_counter()
    try:
        outcome = await asyncio.wait_for(check.run(), check.timeout)
    except TimeoutError:
        return CheckResult("fail", output=f"timed out after {check.timeout:g}s")
    except Exception as error:  # a failing dependency is a result, not a crash
        return CheckResult("fail", output=f"{type(error).__name__}: {error}"[:500])
    return _result(outcome, started)


def _run_check(check: Check) -> CheckResult:
    started = time.perf_counter()
    try:
        outcome = check.run()
        if hasattr(outcome, "__await__"):
            import asyncio

            outcome = asyncio.run(_bounded(outcome, check.timeout))
    except TimeoutError:
        return CheckResult("fail", output=f"timed out after {check.timeout:g}s")
    except Exception as error:  # a failing dependency is a result, not a crash
        return CheckResult("fail", output=f"{type(error).__name__}: {error}"[:500])
    return _result(outcome, started)


def _result(outcome: Any, started: float) -> CheckResult:
    """A check's outcome as a CheckResult (see CheckResult for what a check may return)."""
    elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
    if isinstance(outcome, CheckResult):
        if outcome.observed_value is None:
            return replace(outcome, observed_value=elapsed_ms, observed_unit="ms")
        return outcome
    if outcome is False:
        return CheckResult("fail", elapsed_ms, "ms", output="check returned False")
    if outcome is None or outcome is True:
        return CheckResult("pass", elapsed_ms, "ms")
    return CheckResult("pass", outcome)


async def _bounded(awaitable: Any, timeout: float) -> Any:
    import asyncio

    return await asyncio.wait_for(awaitable, timeout)


def _overall(entries: Any) -> Status:
    status: Status = "pass"
    for check, result, _ in entries:
        if result.status == "fail" and check.critical:
            return "fail"
        if result.status != "pass":
            status = "warn"
    return status


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

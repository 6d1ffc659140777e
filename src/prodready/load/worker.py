"""One worker process: a uvloop event loop driving its share of the connections.

The parent (`engine.py`) sends `("go", start_ns)` and may later send `("stop",)`; the worker
answers with one `("tick", index, WorkerInterval)` per report interval and a last
`("final", index, WorkerFinal)`. A closed pipe (the parent died) stops the worker too.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import resource
import signal
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from time import monotonic_ns
from typing import Any

import uvloop

from prodready.load.config import LoadConfig
from prodready.load.connection import (
    CONNECT_TIMEOUT,
    TIMEOUT,
    UNFINISHED,
    Connection,
    MixedConnection,
    connect_error_kind,
)
from prodready.load.histogram import LatencyRecorder
from prodready.load.runqueue import run_queue_wait_s
from prodready.load.schedule import NS_PER_S, OpenSchedule, WorkerShare

LAG_PROBE_S = 0.02
TIMEOUT_SWEEP_S = 0.1
MAX_RECONNECT_BACKOFF_S = 1.0
STALLED_CONNECT_NS = 500_000_000
"""A connection attempt still open this long at the end means the server did not accept it.

Younger attempts are reconnects after a `Connection: close` that the run no longer needed:
on 127.0.0.1 a connect takes well under a millisecond, and a dropped SYN is retried at 1 s.
"""
STATUS_CODES = 1000  # httptools reports three-digit codes


@dataclass
class WorkerInterval:
    """What one worker did during one report interval."""

    tick: int
    start_ns: int
    end_ns: int
    # One encoded histogram and one {status: count} per kind of request (scenario entry).
    histograms: list[bytes]
    responses: int
    sent: int
    status_counts: list[dict[int, int]]
    errors: dict[str, int]
    cpu_s: float
    # Time spent ready to run but waiting for a CPU (None: the kernel does not say).
    wait_s: float | None
    lag_mean_ms: float
    lag_max_ms: float


@dataclass
class WorkerFinal:
    """A worker's totals, sent once at the end after its last interval."""

    responses: int
    sent: int
    dropped: int
    unfinished: int
    waited: int
    cpu_s: float
    wall_s: float
    # Open model: how late requests went out on a free connection (the generator's own delay).
    late_mean_ms: float


def tls_context(insecure: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    return context


def weighted_cycle(requests: list[bytes], weights: list[int]) -> Iterator[bytes]:
    """Endless requests in proportion to their weights, interleaved (smooth round robin)."""
    total = sum(weights)
    current = [0] * len(weights)
    order: list[bytes] = []
    for _ in range(total):
        for i, weight in enumerate(weights):
            current[i] += weight
        best = max(range(len(weights)), key=current.__getitem__)
        current[best] -= total
        order.append(requests[best])
    return itertools.cycle(order)


class WorkerFailure(Exception):
    """An unexpected error inside the worker's event loop, in one line."""


class Worker:
    def __init__(self, config: LoadConfig, share: WorkerShare, pipe: Pipe) -> None:
        self.config = config
        self.share = share
        self.pipe = pipe
        self.loop = asyncio.get_event_loop()
        self.loop.set_exception_handler(self.on_loop_error)
        # Latencies and statuses are kept per kind of request, for the per-request report.
        kinds = range(len(config.requests))
        self.recorders = [LatencyRecorder() for _ in kinds]
        self.status_lists = [[0] * STATUS_CODES for _ in kinds]
        self.reported_status = [[0] * STATUS_CODES for _ in kinds]
        self.errors: dict[str, int] = {}
        self.encoded = [spec.encode(config.target) for spec in config.requests]
        self.next_request = weighted_cycle(
            self.encoded, [spec.weight for spec in config.requests]
        ).__next__
        self.ssl = tls_context(config.insecure) if config.target.tls else None
        # One plain request takes the fast path; a mix needs to know what is in flight.
        self.mixed = len(config.requests) > 1 or config.requests[0].method == "HEAD"
        connection_class = MixedConnection if self.mixed else Connection
        self.connections = [connection_class(self) for _ in range(share.connections)]
        # Connections with nothing to do (open model); a set: one leaves in O(1) when lost.
        self.idle: set[Connection] = set()
        # Connections with a request in flight, kept by the connections as they change, so
        # ending a run with many connections costs O(1) per event, not a scan of them all.
        self.in_flight = 0
        # Connection attempts under way, with the time each began.
        self.connecting: dict[asyncio.Task[None], int] = {}
        self.sending = False
        self.remaining = share.budget if share.budget is not None else -1
        self.sent_reported = 0
        self.responses = 0
        self.next_k = 0
        # Open model: requests below this index found no free connection when they were due.
        self.stuck_below_k = 0
        self.waited = 0
        self.dropped = 0
        self.unfinished = 0
        self.stopped_early = False
        self.schedule: OpenSchedule | None = None
        self.start_ns = 0
        self.tick = 0
        self.tick_start_ns = 0
        self.cpu_start_s = self.cpu_mark_s = _cpu_seconds()
        self.wait_mark_s = run_queue_wait_s()
        self.lag_due_ns = 0
        self.lag_sum_ns = 0
        self.lag_count = 0
        self.lag_max_ns = 0
        self.late_sum_ns = 0
        self.late_count = 0
        self.finished: asyncio.Future[None] = self.loop.create_future()
        self.closing_handle: asyncio.TimerHandle | None = None

    def on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """A callback raised (a bug): end the run and report it instead of printing a trace."""
        error = context.get("exception")
        message = f"{type(error).__name__}: {error}" if error else str(context.get("message"))
        if not self.finished.done():
            self.finished.set_exception(WorkerFailure(message))

    # lifecycle

    async def run(self, start_ns: int) -> None:
        config = self.config
        self.start_ns = self.tick_start_ns = start_ns
        await asyncio.sleep(max(0.0, (start_ns - monotonic_ns()) / NS_PER_S))
        self.loop.add_reader(self.pipe.fileno(), self.on_control)
        self.sending = True
        self.set_free_running(
            not config.open_model and self.share.budget is None and not self.mixed
        )
        planned = config.planned_duration_s
        end_ns = start_ns + int(planned * NS_PER_S) if planned is not None else None
        if config.open_model:
            assert self.share.rate is not None and end_ns is not None
            self.schedule = OpenSchedule(
                start_ns, self.share.rate, self.share.phase_ns, self.share.budget, end_ns
            )
        for conn in self.connections:
            self.connect(conn)
        if end_ns is not None:
            self.call_at_ns(end_ns, self.stop_sending)
        if self.schedule is not None:
            self.dispatch()
        self.call_at_ns(start_ns + self.interval_ns, self.report_tick)
        self.loop.call_later(TIMEOUT_SWEEP_S, self.sweep_timeouts)
        self.lag_due_ns = monotonic_ns() + int(LAG_PROBE_S * NS_PER_S)
        self.loop.call_later(LAG_PROBE_S, self.probe_lag)
        await self.finished
        # Connection attempts still under way were cancelled: let them wind down cleanly.
        await asyncio.gather(*self.connecting, return_exceptions=True)
        self.loop.remove_reader(self.pipe.fileno())
        self.send_interval()
        self.pipe.send(
            (
                "final",
                self.share.index,
                WorkerFinal(
                    responses=self.responses,
                    sent=self.sent,
                    dropped=self.dropped,
                    unfinished=self.unfinished,
                    waited=self.waited,
                    cpu_s=_cpu_seconds() - self.cpu_start_s,
                    wall_s=(monotonic_ns() - start_ns) / NS_PER_S,
                    late_mean_ms=self.late_sum_ns / max(self.late_count, 1) / 1e6,
                ),
            )
        )

    @property
    def sent(self) -> int:
        return sum(conn.sent for conn in self.connections)

    def set_free_running(self, value: bool) -> None:
        """Closed model without -n while sending: connections send again inline."""
        for conn in self.connections:
            conn.free_running = value

    @property
    def interval_ns(self) -> int:
        return int(self.config.report_interval_s * NS_PER_S)

    def call_at_ns(self, when_ns: int, callback: Callable[[], object]) -> asyncio.TimerHandle:
        """Schedules on the monotonic clock shared by all workers (loop.time() is coarser)."""
        return self.loop.call_later(max(0.0, (when_ns - monotonic_ns()) / NS_PER_S), callback)

    def on_control(self) -> None:
        try:
            message = self.pipe.recv()
        except (EOFError, OSError):
            message = ("stop",)
        if message[0] == "stop":
            self.stopped_early = True
            self.stop_sending()

    def stop_sending(self) -> None:
        """No new requests from now on; in-flight ones get the grace period."""
        if not self.sending:
            return
        if self.schedule is not None:
            if self.stopped_early:
                # Ctrl-C cuts the schedule short: only what was due by now counts as dropped.
                due = self.schedule.due_by(monotonic_ns())
            else:
                self.dispatch()  # requests due just before the end still go out
                due = self.schedule.total
            self.dropped = due - self.next_k
        self.sending = False
        self.set_free_running(False)
        self.closing_handle = self.loop.call_later(self.config.grace_s, self.finish)
        self.finish_if_idle()

    def finish_if_idle(self) -> None:
        if not self.sending and self.in_flight == 0:
            self.finish()

    def finish(self) -> None:
        if self.finished.done():
            return
        if self.closing_handle is not None:
            self.closing_handle.cancel()
        now_ns = monotonic_ns()
        for task, began_ns in self.connecting.items():
            if now_ns - began_ns >= STALLED_CONNECT_NS:
                # Not accepted by the end of the run: a dead or saturated server, not a pass.
                self.count_error(CONNECT_TIMEOUT)
            task.cancel()
        self.unfinished = sum(conn.busy for conn in self.connections)
        if self.unfinished:
            self.count_error(UNFINISHED, self.unfinished)
        self.in_flight = 0
        for conn in self.connections:
            conn.busy = False
            if conn.transport is not None:
                conn.transport.abort()
        self.finished.set_result(None)

    # connections

    def connect(self, conn: Connection) -> None:
        task = self.loop.create_task(self.open_connection(conn))
        self.connecting[task] = monotonic_ns()
        task.add_done_callback(self.forget_attempt)

    def forget_attempt(self, task: asyncio.Task[None]) -> None:
        self.connecting.pop(task, None)

    async def open_connection(self, conn: Connection) -> None:
        target = self.config.target
        try:
            await asyncio.wait_for(
                self.loop.create_connection(
                    lambda: conn,
                    target.host,
                    target.port,
                    ssl=self.ssl,
                    server_hostname=target.host if self.ssl else None,
                ),
                self.config.timeout_s,
            )
        except (OSError, TimeoutError, ssl.SSLError) as error:
            if not self.sending:
                self.finish_if_idle()
                return
            self.count_error(connect_error_kind(error))
            if self.schedule is None:
                self.use_budget()
            conn.backoff_s = min(max(conn.backoff_s * 2, 0.01), MAX_RECONNECT_BACKOFF_S)
            self.loop.call_later(conn.backoff_s, self.reconnect, conn)
        else:
            conn.backoff_s = 0.0

    def reconnect(self, conn: Connection) -> None:
        if self.sending:
            self.connect(conn)
        else:
            self.finish_if_idle()

    def on_connected(self, conn: Connection) -> None:
        self.on_response(conn, monotonic_ns())

    def on_lost(self, conn: Connection) -> None:
        self.idle.discard(conn)
        if self.sending:
            self.connect(conn)
        else:
            self.finish_if_idle()

    def count_error(self, kind: str, count: int = 1) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + count

    def use_budget(self) -> bool:
        """Takes one request from this worker's -n share; False once it is spent."""
        if self.remaining == 0:
            return False
        if self.remaining > 0:
            self.remaining -= 1
            if self.remaining == 0:
                self.sending = False
                self.closing_handle = self.loop.call_later(
                    self.config.timeout_s + self.config.grace_s, self.finish
                )
        return True

    # sending

    def on_response(self, conn: Connection, now_ns: int) -> None:
        """A connection is free: the closed model sends again, the open model checks its backlog."""
        schedule = self.schedule
        if schedule is None:
            if self.sending and self.use_budget():
                conn.send(self.next_request(), now_ns, now_ns)
                return
        elif self.sending and self.next_k < schedule.due_by(now_ns):
            k = self.next_k
            self.next_k = k + 1
            if k < self.stuck_below_k:
                self.waited += 1
            conn.send(self.next_request(), schedule.intended_ns(k), now_ns)
            return
        else:
            self.idle.add(conn)
        if not self.sending:
            self.finish_if_idle()

    def dispatch(self) -> None:
        """Open model: sends every request that is due on an idle connection, then sleeps."""
        schedule = self.schedule
        if not self.sending or schedule is None:
            return
        now = monotonic_ns()
        due = schedule.due_by(now)
        while self.next_k < due and self.idle:
            conn = self.idle.pop()
            k = self.next_k
            self.next_k = k + 1
            intended = schedule.intended_ns(k)
            # A free connection was waiting: any delay is the generator's, not the server's.
            self.late_sum_ns += now - intended
            self.late_count += 1
            conn.send(self.next_request(), intended, now)
        # Due but every connection busy: these wait for the next free one.
        self.stuck_below_k = max(self.stuck_below_k, due)
        if due >= schedule.total:
            return
        wait_s = (schedule.intended_ns(due) - now) / NS_PER_S
        # uvloop timers tick in milliseconds; shorter sleeps would spin the loop.
        self.loop.call_later(max(wait_s, 0.001), self.dispatch)

    # housekeeping

    def sweep_timeouts(self) -> None:
        limit = monotonic_ns() - int(self.config.timeout_s * NS_PER_S)
        for conn in self.connections:
            if conn.busy and conn.written_at_ns < limit:
                conn.fail(TIMEOUT)
        if not self.finished.done():
            self.loop.call_later(TIMEOUT_SWEEP_S, self.sweep_timeouts)

    def probe_lag(self) -> None:
        """Event-loop lag: how late a timer fires. High lag means the generator is saturated."""
        now = monotonic_ns()
        lag = max(0, now - self.lag_due_ns)
        self.lag_sum_ns += lag
        self.lag_count += 1
        self.lag_max_ns = max(self.lag_max_ns, lag)
        self.lag_due_ns = now + int(LAG_PROBE_S * NS_PER_S)
        if not self.finished.done():
            self.loop.call_later(LAG_PROBE_S, self.probe_lag)

    def report_tick(self) -> None:
        if self.finished.done():
            return
        self.send_interval()
        self.call_at_ns(self.start_ns + (self.tick + 1) * self.interval_ns, self.report_tick)

    def send_interval(self) -> None:
        now = monotonic_ns()
        histograms = [recorder.take_interval() for recorder in self.recorders]
        responses = sum(histogram.get_total_count() for histogram in histograms)
        self.responses += responses
        status = [
            {
                code: count - reported[code]
                for code, count in enumerate(counts)
                if count != reported[code]
            }
            for counts, reported in zip(self.status_lists, self.reported_status, strict=True)
        ]
        self.reported_status = [list(counts) for counts in self.status_lists]
        errors, self.errors = self.errors, {}
        cpu = _cpu_seconds()
        wait = run_queue_wait_s()
        sent = self.sent
        interval = WorkerInterval(
            tick=self.tick,
            start_ns=self.tick_start_ns,
            end_ns=now,
            histograms=[histogram.encode() for histogram in histograms],
            responses=responses,
            sent=sent - self.sent_reported,
            status_counts=status,
            errors=errors,
            cpu_s=cpu - self.cpu_mark_s,
            wait_s=None if wait is None or self.wait_mark_s is None else wait - self.wait_mark_s,
            lag_mean_ms=self.lag_sum_ns / max(self.lag_count, 1) / 1e6,
            lag_max_ms=self.lag_max_ns / 1e6,
        )
        self.pipe.send(("tick", self.share.index, interval))
        self.sent_reported = sent
        self.cpu_mark_s = cpu
        self.wait_mark_s = wait
        self.lag_sum_ns = self.lag_count = self.lag_max_ns = 0
        self.tick += 1
        self.tick_start_ns = now


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _allow_open_files(needed: int) -> None:
    """Raises the soft limit on open files (often 1024) toward the hard one if -c needs it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def worker_main(config: LoadConfig, share: WorkerShare, pipe: Pipe) -> None:
    """Entry point of a worker process."""
    # The parent handles Ctrl-C and tells the workers to stop; SIGINT was blocked at fork.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _allow_open_files(share.connections + 64)
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        worker = Worker(config, share, pipe)
        pipe.send(("ready", share.index, None))
        message = pipe.recv()
        if message[0] == "go":
            loop.run_until_complete(worker.run(message[1]))
    except (EOFError, BrokenPipeError):
        pass  # the parent is gone
    except Exception as error:  # a bug: tell the parent in one line instead of a traceback
        message = (
            str(error) if isinstance(error, WorkerFailure) else f"{type(error).__name__}: {error}"
        )
        with contextlib.suppress(OSError):
            pipe.send(("error", share.index, message))
    finally:
        loop.close()
        pipe.close()

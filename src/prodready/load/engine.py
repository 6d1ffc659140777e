"""The parent side of a run: starts the worker processes, merges what they report, stops them.

Workers are forked (cheap: they inherit the imported modules) with SIGINT blocked, so Ctrl-C
reaches only the parent, which asks every worker to stop and still collects their last
reports: an interrupted run returns its partial result. A worker that does not finish by the
end of the run plus the grace period plus a margin is killed and counted as lost; the run
never hangs.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection as Pipe
from multiprocessing.connection import wait
from time import monotonic_ns
from typing import Any

from hdrh.histogram import HdrHistogram

from prodready.errors import ToolError
from prodready.load.config import LoadConfig
from prodready.load.histogram import decode, new_histogram, percentile_ms
from prodready.load.result import Generator, Interval, LoadResult, RequestStats
from prodready.load.schedule import NS_PER_S, plan_workers
from prodready.load.worker import WorkerFinal, WorkerInterval, worker_main
from prodready.project.cpus import (
    CpuThrottling,
    cgroup_cpu_quota,
    cgroup_cpu_throttling,
    read_cpu_throttling,
)

READY_TIMEOUT_S = 15.0
START_DELAY_S = 0.05
STOP_MARGIN_S = 3.0
POLL_S = 0.1


@dataclass
class Progress:
    """A live view of a running load test, handed to `on_progress` once per interval."""

    elapsed_s: float
    planned_s: float | None
    responses: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float


@dataclass
class _Tick:
    """One report interval being merged from the workers' reports."""

    histogram: HdrHistogram = field(default_factory=new_histogram)
    start_ns: int = 0
    end_ns: int = 0
    responses: int = 0
    errors: int = 0


class LoadRun:
    """One run, started by `execute()`; `request_stop()` (any thread) ends it early."""

    def __init__(self, config: LoadConfig, on_progress: Callable[[Progress], None] | None):
        self.config = config
        self.on_progress = on_progress
        self.result = LoadResult(
            config=config.describe(),
            by_request=[
                RequestStats(spec.name, spec.method, spec.path) for spec in config.requests
            ],
        )
        self.ticks: dict[int, _Tick] = {}
        self.last_tick: dict[int, int] = {}
        self.finals: dict[int, WorkerFinal] = {}
        self.start_ns = 0
        self.stop_requested = False
        self.lag_mean_ms_max = 0.0
        self.lag_max_ms = 0.0
        # Per worker: seconds it used or waited for a CPU, over seconds of its intervals.
        self.demand_s: dict[int, float] = {}
        self.measured_s: dict[int, float] = {}
        self.throttling_at_start: CpuThrottling | None = None
        self.throttling_at_end: CpuThrottling | None = None

    # orchestration

    def execute(self) -> LoadResult:
        shares = plan_workers(self.config)
        context = multiprocessing.get_context("fork")
        pipes: dict[int, Pipe] = {}
        processes: dict[int, multiprocessing.process.BaseProcess] = {}
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            for share in shares:
                parent_end, child_end = context.Pipe()
                process = context.Process(
                    target=worker_main, args=(self.config, share, child_end), daemon=True
                )
                process.start()
                child_end.close()
                pipes[share.index] = parent_end
                processes[share.index] = process
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        try:
            self.wait_ready(pipes)
            with _SigintGuard(self):
                self.start_ns = monotonic_ns() + int(START_DELAY_S * NS_PER_S)
                self.throttling_at_start = cgroup_cpu_throttling()
                started = datetime.now(UTC) + timedelta(seconds=START_DELAY_S)
                self.result.started_at = started.isoformat(timespec="seconds")
                for pipe in pipes.values():
                    pipe.send(("go", self.start_ns))
                self.collect(pipes, processes)
                # Before the workers' teardown, which a tight quota throttles too.
                if self.throttling_at_start is not None:
                    self.throttling_at_end = read_cpu_throttling(self.throttling_at_start.directory)
        finally:
            for process in processes.values():
                process.join(timeout=1.0)
                if process.is_alive():
                    process.kill()
                    process.join()
            for pipe in pipes.values():
                pipe.close()
        return self.finish_result()

    def request_stop(self) -> None:
        """Asks the workers to stop sending; the run then returns its partial result."""
        self.stop_requested = True

    def wait_ready(self, pipes: dict[int, Pipe]) -> None:
        waiting = set(pipes)
        deadline = monotonic_ns() + int(READY_TIMEOUT_S * NS_PER_S)
        while waiting and monotonic_ns() < deadline:
            for pipe in wait([pipes[i] for i in waiting], timeout=POLL_S):
                index = next(i for i, p in pipes.items() if p is pipe)
                try:
                    kind, _, detail = pipe.recv()
                except EOFError:
                    kind, detail = "error", "exited"
                if kind == "error":
                    raise ToolError(
                        f"load worker {index} failed before starting: {detail}",
                        "run again; if it persists, try --workers 1",
                    )
                waiting.discard(index)
        if waiting:
            raise ToolError("load workers did not start in time", "the machine may be overloaded")

    def collect(self, pipes: dict[int, Pipe], processes: dict[int, Any]) -> None:
        planned = self.config.planned_duration_s
        limit_s = (
            planned + self.config.grace_s + STOP_MARGIN_S
            if planned is not None
            else None  # -n in the closed model: timeouts bound each request
        )
        deadline = self.start_ns + int(limit_s * NS_PER_S) if limit_s is not None else None
        pending = set(pipes)
        stop_sent = False
        while pending:
            if self.stop_requested and not stop_sent:
                stop_sent = True
                self.result.interrupted = True
                for index in pending:
                    pipes[index].send(("stop",))
                stop_deadline = monotonic_ns() + int(
                    (self.config.grace_s + STOP_MARGIN_S) * NS_PER_S
                )
                deadline = min(deadline, stop_deadline) if deadline else stop_deadline
            if deadline is not None and monotonic_ns() > deadline:
                for index in pending:
                    processes[index].kill()
                self.result.lost_workers += len(pending)
                return
            for pipe in wait([pipes[i] for i in pending], timeout=POLL_S):
                index = next(i for i, p in pipes.items() if p is pipe)
                try:
                    kind, _, payload = pipe.recv()
                except (EOFError, OSError):
                    pending.discard(index)
                    self.result.lost_workers += 1
                    continue
                if kind == "tick":
                    self.add_interval(index, payload)
                elif kind == "final":
                    self.finals[index] = payload
                    pending.discard(index)
                elif kind == "error":
                    pending.discard(index)
                    self.result.lost_workers += 1
                    self.result.worker_errors.append(payload)
            self.close_ticks(pending)

    # merging

    def add_interval(self, index: int, interval: WorkerInterval) -> None:
        tick = self.ticks.setdefault(interval.tick, _Tick(start_ns=interval.start_ns))
        result = self.result
        for stats, encoded, statuses in zip(
            result.by_request, interval.histograms, interval.status_counts, strict=True
        ):
            histogram = decode(encoded)
            # hdrh's add() takes an empty histogram's minimum as 0: merge only real values.
            if histogram.get_total_count():
                tick.histogram.add(histogram)
                result.histogram.add(histogram)
                stats.histogram.add(histogram)
            for code, count in statuses.items():
                stats.status_counts[code] = stats.status_counts.get(code, 0) + count
                result.status_counts[code] = result.status_counts.get(code, 0) + count
                if code >= 400:
                    tick.errors += count
        tick.start_ns = min(tick.start_ns, interval.start_ns)
        tick.end_ns = max(tick.end_ns, interval.end_ns)
        tick.responses += interval.responses
        tick.errors += sum(interval.errors.values())
        result.sent += interval.sent
        for kind, count in interval.errors.items():
            result.transport_errors[kind] = result.transport_errors.get(kind, 0) + count
        self.lag_mean_ms_max = max(self.lag_mean_ms_max, interval.lag_mean_ms)
        if interval.wait_s is not None:
            self.demand_s[index] = self.demand_s.get(index, 0.0) + interval.cpu_s + interval.wait_s
            self.measured_s[index] = self.measured_s.get(index, 0.0) + (
                (interval.end_ns - interval.start_ns) / NS_PER_S
            )
        self.lag_max_ms = max(self.lag_max_ms, interval.lag_max_ms)
        self.last_tick[index] = interval.tick

    def close_ticks(self, pending: set[int]) -> None:
        """Moves every interval all running workers have reported into the timeline."""
        reported = [self.last_tick.get(i, -1) for i in pending]
        complete_up_to = min(reported) if reported else max(self.ticks, default=-1)
        for number in sorted(t for t in self.ticks if t <= complete_up_to):
            tick = self.ticks.pop(number)
            interval = Interval(
                t_s=(tick.start_ns - self.start_ns) / NS_PER_S,
                duration_s=(tick.end_ns - tick.start_ns) / NS_PER_S,
                responses=tick.responses,
                errors=tick.errors,
                p50_ms=percentile_ms(tick.histogram, 50),
                p90_ms=percentile_ms(tick.histogram, 90),
                p99_ms=percentile_ms(tick.histogram, 99),
                max_ms=tick.histogram.get_max_value() / 1000.0,
            )
            self.result.timeline.append(interval)
            if self.on_progress is not None:
                self.on_progress(self.progress(interval))

    def progress(self, interval: Interval) -> Progress:
        result = self.result
        return Progress(
            elapsed_s=(monotonic_ns() - self.start_ns) / NS_PER_S,
            planned_s=self.config.planned_duration_s,
            responses=result.responses,
            errors=result.error_count,
            rps=interval.rps,
            p50_ms=result.latency_ms(50),
            p99_ms=result.latency_ms(99),
        )

    def finish_result(self) -> LoadResult:
        result = self.result
        finals = [self.finals[i] for i in sorted(self.finals)]
        result.worker_responses = [final.responses for final in finals]
        result.dropped = sum(final.dropped for final in finals)
        result.unfinished = sum(final.unfinished for final in finals)
        result.waited_for_connection = sum(final.waited for final in finals)
        sending_s = [final.wall_s for final in finals]
        planned = self.config.planned_duration_s
        # Requests were sent for the planned duration unless the run ended sooner.
        longest = max(sending_s, default=0.0)
        result.duration_s = min(longest, planned) if planned else longest
        result.generator = Generator(
            cpu_fraction_max=max((f.cpu_s / f.wall_s for f in finals if f.wall_s > 0), default=0),
            cpu_seconds=sum(final.cpu_s for final in finals),
            lag_mean_ms_max=self.lag_mean_ms_max,
            lag_max_ms=self.lag_max_ms,
            demand_fraction_max=max(
                (self.demand_s[i] / wall for i, wall in self.measured_s.items() if wall > 0),
                default=None,
            ),
            workers=len(finals),
            cpu_total_fraction=sum(f.cpu_s for f in finals) / longest if longest > 0 else 0.0,
            quota_cpus=cgroup_cpu_quota(),
            quota_throttled_fraction=self.throttled_fraction(),
            schedule_late_mean_ms_max=max((f.late_mean_ms for f in finals), default=0.0),
        )
        return result

    def throttled_fraction(self) -> float | None:
        """The share of the run's quota periods that ended with the generator's cgroup
        throttled; None without a quota or enough periods to tell."""
        start, end = self.throttling_at_start, self.throttling_at_end
        if start is None or end is None:
            return None
        return end.throttled_fraction_since(start)


class _SigintGuard:
    """While the run is collecting, the first Ctrl-C asks the workers to stop; a second one
    aborts. Only the main thread can own signal handlers; elsewhere Ctrl-C keeps its default.
    """

    def __init__(self, run: LoadRun) -> None:
        self.run = run
        self.previous: Any = None
        self.installed = threading.current_thread() is threading.main_thread()

    def __enter__(self) -> None:
        if self.installed:
            self.previous = signal.signal(signal.SIGINT, self.handle)

    def __exit__(self, *exc: object) -> None:
        if self.installed:
            signal.signal(signal.SIGINT, self.previous)

    def handle(self, signum: int, frame: object) -> None:
        if self.run.stop_requested:
            raise KeyboardInterrupt
        self.run.stop_requested = True


def run_load(
    config: LoadConfig, on_progress: Callable[[Progress], None] | None = None
) -> LoadResult:
    """Runs one load test as configured and returns its merged result."""
    return LoadRun(config, on_progress).execute()


class BackgroundLoad:
    """A run in a background thread, for loading a server while doing something else to it
    (a reload, a restart, a failover). Use as a context manager or call `wait()`."""

    def __init__(
        self, config: LoadConfig, on_progress: Callable[[Progress], None] | None = None
    ) -> None:
        self.run = LoadRun(config, on_progress)
        self._result: LoadResult | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._execute, name="prodready-load", daemon=True)
        self._thread.start()

    def _execute(self) -> None:
        try:
            self._result = self.run.execute()
        except BaseException as error:  # handed to the caller of wait()
            self._error = error

    def stop(self) -> None:
        """Ends the run early (the result is marked interrupted)."""
        self.run.request_stop()

    def wait(self, timeout: float | None = None) -> LoadResult:
        """Waits for the run to end and returns its result (raises what the run raised)."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError("the load run is still going")
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def __enter__(self) -> BackgroundLoad:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:
            self.stop()  # the caller's work failed: do not keep loading for nothing
        self.wait()

"""HTTP metrics in Prometheus format that stay right under many Gunicorn workers.

Multiprocess mode (prometheus-client) is on when PROMETHEUS_MULTIPROC_DIR is set before
prometheus_client is first imported. `prodready serve` does that with
`prepare_multiprocess_dir(path)` before the app is loaded, and calls `mark_worker_dead(pid)`
from Gunicorn's `child_exit` hook. Outside `prodready serve`, put both in your gunicorn.conf.py:

    from prodready.runtime.metrics import prepare_multiprocess_dir, mark_worker_dead
    prepare_multiprocess_dir("/tmp/prodready-metrics")      # top of the file, not in a hook

    def child_exit(server, worker):
        mark_worker_dead(worker.pid)

Why merge dead workers' files: prometheus-client keeps one file per metric type per process,
forever, and reads them all on every scrape; after thousands of worker recycles a scrape takes
tens of seconds (prometheus/client_python#367). `mark_worker_dead` folds a dead worker's
counters and histograms into one archive file per type, so the number of files stays at
(live workers + 1) per type and the totals stay exact.
"""

from __future__ import annotations

import fcntl
import glob
import os
import threading
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED_ROUTE = "<unmatched>"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}
)

_ARCHIVE = "archive"
_LOCK_FILE = ".prodready.lock"
# Files whose samples simply add up across processes, and how gauges of each mode combine.
_SUMMED_PREFIXES = ("counter", "histogram", "summary", "gauge_sum")
_COMBINE: dict[str, Callable[[float, float], float]] = {"gauge_max": max, "gauge_min": min}


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV)


def prepare_multiprocess_dir(path: str | os.PathLike[str]) -> None:
    """Creates `path`, empties it of metric files and sets PROMETHEUS_MULTIPROC_DIR to it.

    Call it once at server start, in the master, before the app (and prometheus_client) is
    imported: prometheus_client picks its storage when first imported. Files left by a
    previous run would otherwise be added to this run's counters.
    """
    directory = Path(path).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    with _locked(directory, exclusive=True):
        for stale in directory.glob("*.db"):
            stale.unlink(missing_ok=True)
    os.environ[MULTIPROC_ENV] = str(directory)


def mark_worker_dead(pid: int, path: str | os.PathLike[str] | None = None) -> None:
    """Folds a dead worker's metric files into the archive and removes them.

    For Gunicorn's `child_exit(server, worker)` hook, in the master: `mark_worker_dead(worker.pid)`.
    Counters, histograms, summaries and sum/max/min gauges are merged into one
    `<type>_archive.db` per type; live* gauges of the worker are dropped (it is no longer live);
    `all` and `mostrecent` gauges keep their per-process files. Safe to call for a pid that
    left no files, and a no-op when multiprocess mode is off.
    """
    directory = Path(path) if path is not None else None
    if directory is None:
        configured = multiprocess_dir()
        if configured is None:
            return
        directory = Path(configured)
    if not directory.is_dir():
        return
    with _locked(directory, exclusive=True):
        for dead_file in directory.glob(f"*_{pid}.db"):
            prefix = dead_file.name[: -len(f"_{pid}.db")]
            if prefix.startswith("gauge_live"):
                dead_file.unlink(missing_ok=True)
            elif prefix in _SUMMED_PREFIXES or prefix in _COMBINE:
                _fold_into_archive(directory, prefix, dead_file)


def _fold_into_archive(directory: Path, prefix: str, dead_file: Path) -> None:
    from prometheus_client.mmap_dict import MmapedDict

    archive = directory / f"{prefix}_{_ARCHIVE}.db"
    combine = _COMBINE.get(prefix)
    merged: dict[str, float] = {}
    for source in (archive, dead_file):
        if not source.exists():
            continue
        for key, value, _timestamp, _pos in MmapedDict.read_all_values_from_file(str(source)):
            if key in merged:
                merged[key] = combine(merged[key], value) if combine else merged[key] + value
            else:
                merged[key] = value
    # Written beside the archive under a name scrapes do not glob, then swapped in atomically.
    staging = directory / f"{prefix}_{_ARCHIVE}.staging"
    staging.unlink(missing_ok=True)
    target = MmapedDict(str(staging))
    try:
        for key, value in merged.items():
            target.write_value(key, value, 0.0)
    finally:
        target.close()
    os.replace(staging, archive)
    dead_file.unlink()


@contextmanager
def _locked(directory: Path, exclusive: bool) -> Iterator[None]:
    """Scrapes take the lock shared and merges take it exclusive, so a scrape never sees a
    dead worker's values twice (archive and own file) or not at all."""
    with open(directory / _LOCK_FILE, "a+b") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


class HttpMetrics:
    """The HTTP metrics of this process. One instance per process: see `http_metrics()`.

    `observe` caches, per label combination, the value cells the public API would update
    (the counter's, the histogram's sum and its buckets), so recording a request is a dict
    lookup, a bisection and three increments. The public `inc`/`observe` add a validity check
    and a bucket scan per call for the same three increments; the cells are the same objects,
    so the values are exactly those the public API would write.

    In one process (no multiprocess directory) the three increments are made under one lock of
    this object instead of each cell's own: a lock costs as much as the rest of `observe`.
    Only this object writes these cells, and a scrape reads each value in one step, so it
    sees what it would have seen. In multiprocess mode each increment also writes the
    process's file, through the cell's `inc`.
    """

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.requests = Counter(
            "http_requests_total", "HTTP requests answered.", ("method", "route", "status")
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, until the app returned.",
            ("method", "route"),
        )
        self.in_progress = Gauge(
            "http_requests_in_progress",
            "HTTP requests being answered.",
            multiprocess_mode="livesum",
        )
        self._bounds: list[float] = self.duration._upper_bounds
        self._cells: dict[tuple[str, str, int], _Cells] = {}
        self._lock = threading.Lock()
        self.in_flight = InFlight(self.in_progress)
        if multiprocess_dir():
            self.observe = self._observe_through_files  # type: ignore[method-assign]

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        cells = self._cells.get(key)
        if cells is None:
            cells = self._cells[key] = self._cells_for(method, route, status)
        count, total, buckets = cells
        # Buckets are not cumulative in storage: the first bound >= seconds gets the count.
        bucket = buckets[bisect_left(self._bounds, seconds)]
        with self._lock:
            count._value += 1
            total._value += seconds
            bucket._value += 1

    def _observe_through_files(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        cells = self._cells.get(key)
        if cells is None:
            cells = self._cells[key] = self._cells_for(method, route, status)
        count, total, buckets = cells
        count.inc(1)
        total.inc(seconds)
        buckets[bisect_left(self._bounds, seconds)].inc(1)

    def _cells_for(self, method: str, route: str, status: int) -> _Cells:
        label_method = method if method in KNOWN_METHODS else "OTHER"
        counter = self.requests.labels(label_method, route, str(status))
        histogram = self.duration.labels(label_method, route)
        return counter._value, histogram._sum, histogram._buckets


_Cells = tuple[Any, Any, list[Any]]
"""A label combination's value cells: the counter's, the histogram's sum, its buckets."""


class InFlight:
    """Feeds http_requests_in_progress.

    In one process the gauge reads the length of a deque when scraped: appending and popping
    are atomic, so no lock is taken per request. In multiprocess mode each process's value
    must be in its file, so the gauge's value cell is updated.
    """

    def __init__(self, gauge: Any) -> None:
        self.enter: Callable[[], Any]
        self.leave: Callable[[], Any]
        if multiprocess_dir():
            value = gauge._value
            self.enter, self.leave = partial(value.inc, 1), partial(value.inc, -1)
        else:
            requests: deque[None] = deque()
            self.enter, self.leave = partial(requests.append, None), requests.pop
            gauge.set_function(lambda: len(requests))


class NoInFlight:
    """Stands in for InFlight when metrics are off."""

    def enter(self) -> None:
        pass

    def leave(self) -> None:
        pass


_http_metrics: HttpMetrics | None = None


def http_metrics() -> HttpMetrics:
    """This process's HttpMetrics, created on first use (never at import)."""
    global _http_metrics
    if _http_metrics is None:
        _warn_if_multiprocess_too_late()
        _http_metrics = HttpMetrics()
    return _http_metrics


def _warn_if_multiprocess_too_late() -> None:
    from prometheus_client import values

    if multiprocess_dir() and not getattr(values.ValueClass, "_multiprocess", False):
        from prodready.runtime.logs import get_logger

        get_logger().warning(
            "metrics_not_multiprocess",
            reason=f"{MULTIPROC_ENV} was set after prometheus_client was imported",
            hint="call prepare_multiprocess_dir() before importing the app",
        )


def render_latest() -> bytes:
    """The text exposition: all processes' metrics in multiprocess mode, else this process's
    (with process_* and python_* metrics)."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

    directory = multiprocess_dir()
    if directory is None:
        return generate_latest(REGISTRY)
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    registry.register(WorkerProcessCollector(directory))
    with _locked(Path(directory), exclusive=False):
        return generate_latest(registry)


class WorkerProcessCollector:
    """process_* metrics (CPU, RSS, open fds, start time) of every live worker, with a `pid`
    label, read from /proc at scrape time.

    In multiprocess mode one scrape is answered by one worker; its own process_* values would
    describe a random worker each time, and summing RSS or start times is meaningless. The
    workers are the processes that own metric files in the directory; prometheus-client's
    ProcessCollector reads each one's /proc entry.
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import Metric
        from prometheus_client.process_collector import ProcessCollector

        merged: dict[str, Metric] = {}
        for pid in live_worker_pids(self.directory):
            collector = ProcessCollector(pid=lambda pid=pid: pid, registry=None)
            for family in collector.collect():
                target = merged.get(family.name)
                if target is None:
                    target = merged[family.name] = Metric(
                        family.name, family.documentation + " Per worker.", family.type
                    )
                for sample in family.samples:
                    labels = {**sample.labels, "pid": str(pid)}
                    target.add_sample(sample.name, labels, sample.value)
        yield from merged.values()


def live_worker_pids(directory: str) -> list[int]:
    """Pids that own a metric file in `directory` and are still running."""
    pids = set()
    for path in glob.glob(os.path.join(directory, "*_*.db")):
        suffix = path[:-3].rsplit("_", 1)[1]
        if suffix.isdigit() and os.path.exists(f"/proc/{suffix}"):
            pids.add(int(suffix))
    return sorted(pids)


def metric_files(path: str | os.PathLike[str] | None = None) -> list[str]:
    """Metric files in the multiprocess directory (for diagnostics and tests)."""
    directory = path or multiprocess_dir()
    return sorted(glob.glob(os.path.join(directory, "*.db"))) if directory else []

"""Stream metrics, in the kit's Prometheus registry (and its multiprocess files under Gunicorn).

sse_streams_open (gauge, summed over live workers), sse_events_sent_total,
sse_events_replayed_total, sse_slow_clients_dropped_total (counters), each by stream name.
"""

from __future__ import annotations

import threading
from typing import Any


class StreamMetrics:
    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge

        self.open = Gauge(
            "sse_streams_open", "Open SSE streams.", ("stream",), multiprocess_mode="livesum"
        )
        self.sent = Counter("sse_events_sent", "SSE events written to clients.", ("stream",))
        self.replayed = Counter(
            "sse_events_replayed",
            "SSE events sent again after a reconnect with Last-Event-ID.",
            ("stream",),
        )
        self.dropped = Counter(
            "sse_slow_clients_dropped",
            "SSE clients dropped (told to reconnect) for falling too far behind.",
            ("stream",),
        )


class NoMetrics:
    """Stands in when the kit's metrics are off."""

    def labels(self, *_: Any) -> NoMetrics:
        return self

    def inc(self, _amount: float = 1) -> None:
        pass

    def dec(self, _amount: float = 1) -> None:
        pass


class NoStreamMetrics:
    """StreamMetrics' shape, recording nothing."""

    def __init__(self) -> None:
        self.open = self.sent = self.replayed = self.dropped = NoMetrics()


_metrics: StreamMetrics | None = None
_lock = threading.Lock()


def stream_metrics() -> StreamMetrics:
    """This process's stream metrics, created on first use."""
    global _metrics
    with _lock:
        if _metrics is None:
            _metrics = StreamMetrics()
    return _metrics

"""How a run is shared between worker processes and when the open model sends each request.

Closed model: each connection sends its next request as soon as the previous response is in.
Open model: requests arrive at a constant rate whatever the server does. Request k of a worker
is *intended* at `start + phase + k * interval`; its latency is measured from that intended
time, not from when a free connection finally sent it, so a stalled server shows up in the
percentiles instead of silently slowing the generator down (coordinated omission).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from prodready.load.config import LoadConfig

NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class WorkerShare:
    """One worker's part of a run."""

    index: int
    connections: int
    # Requests per second for this worker (open model) or None (closed model).
    rate: float | None
    # This worker's part of -n, or None when only the duration limits the run.
    budget: int | None
    # Offset of this worker's first intended send, so workers interleave evenly.
    phase_ns: int


def split_evenly(total: int, parts: int) -> list[int]:
    """`total` as `parts` integers that differ by at most one and sum to `total`."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def plan_workers(config: LoadConfig) -> list[WorkerShare]:
    workers = config.workers
    connections = split_evenly(config.connections, workers)
    budgets = (
        split_evenly(config.total_requests, workers)
        if config.total_requests is not None
        else [None] * workers
    )
    rate = config.rate / workers if config.rate else None
    interval_ns = int(NS_PER_S / config.rate) if config.rate else 0
    return [
        WorkerShare(
            index=i,
            connections=connections[i],
            rate=rate,
            budget=budgets[i],
            phase_ns=i * interval_ns,
        )
        for i in range(workers)
    ]


class OpenSchedule:
    """Intended send times of one worker's requests in the open model."""

    def __init__(
        self, start_ns: int, rate: float, phase_ns: int, budget: int | None, end_ns: int
    ) -> None:
        self.start_ns = start_ns + phase_ns
        self.interval_ns = NS_PER_S / rate
        # Requests intended before the end of the run, within this worker's -n share.
        self.total = max(0, math.ceil((end_ns - self.start_ns) / self.interval_ns))
        if budget is not None:
            self.total = min(self.total, budget)

    def intended_ns(self, k: int) -> int:
        return self.start_ns + int(k * self.interval_ns)

    def due_by(self, now_ns: int) -> int:
        """How many requests should have been sent by `now_ns`."""
        if now_ns < self.start_ns:
            return 0
        return min(int((now_ns - self.start_ns) / self.interval_ns) + 1, self.total)

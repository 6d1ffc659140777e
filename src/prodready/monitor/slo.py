"""SLO burn-rate alerts on the error budget, from the monitor's own probes (the SRE workbook's
multi-window, multi-burn-rate rule): page when the error ratio burns the budget 14.4 times
too fast over both 1 h and 5 m, open a ticket at 6 times over both 6 h and 30 m.

The error ratio is failed scheduled probes over scheduled probes, in 1-minute buckets kept for
6 h. A monitor samples, it does not see every request: at a 60 s interval a single blip is
1/60 of an hour, above 14.4 x a 0.1 % budget, so an alert also needs at least
`MIN_FAILURES` failed probes in its long window."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

MIN_FAILURES = 2
RULES = (("page", 14.4, 3600, 300), ("ticket", 6.0, 6 * 3600, 1800))
"""(severity, burn-rate factor, long window s, short window s)."""
KEEP_S = 6 * 3600
SUFFIX = " error budget"
"""An endpoint's burn-rate incident is recorded under `<endpoint> error budget`."""


@dataclass(frozen=True)
class Burn:
    severity: str
    factor: float
    long_ratio: float
    short_ratio: float

    def describe(self, budget: float) -> str:
        return (
            f"{self.severity}: error ratio {self.long_ratio:.2%} over "
            f"{_window(self.severity, 2)} and {self.short_ratio:.2%} over "
            f"{_window(self.severity, 3)}, {self.long_ratio / budget:.0f}x the budget "
            f"(alerts at {self.factor:g}x)"
        )


def _window(severity: str, index: int) -> str:
    seconds = next(rule[index] for rule in RULES if rule[0] == severity)
    return f"{seconds // 3600}h" if seconds >= 3600 else f"{seconds // 60}m"


class BurnRate:
    """One endpoint's probe outcomes in minute buckets, and the burn-rate verdict."""

    def __init__(self, objective_percent: float) -> None:
        self.budget = 1 - objective_percent / 100
        self.buckets: deque[list[int]] = deque()
        """[minute, probes, failures], oldest first."""

    def add(self, at: float, ok: bool, count: int = 1, failures: int | None = None) -> None:
        minute = int(at // 60)
        failed = (0 if ok else count) if failures is None else failures
        if self.buckets and self.buckets[-1][0] == minute:
            self.buckets[-1][1] += count
            self.buckets[-1][2] += failed
        else:
            self.buckets.append([minute, count, failed])
        while self.buckets and self.buckets[0][0] < minute - KEEP_S // 60:
            self.buckets.popleft()

    def window(self, now: float, seconds: int) -> tuple[int, int]:
        """(probes, failures) in the last `seconds`."""
        first = int(now // 60) - seconds // 60 + 1
        probes = failures = 0
        for minute, count, failed in reversed(self.buckets):
            if minute < first:
                break
            probes += count
            failures += failed
        return probes, failures

    def evaluate(self, now: float) -> Burn | None:
        """The most severe rule both of whose windows burn too fast, or None."""
        for severity, factor, long_s, short_s in RULES:
            long_probes, long_failures = self.window(now, long_s)
            short_probes, short_failures = self.window(now, short_s)
            if not long_probes or not short_probes or long_failures < MIN_FAILURES:
                continue
            long_ratio = long_failures / long_probes
            short_ratio = short_failures / short_probes
            threshold = factor * self.budget
            if long_ratio >= threshold and short_ratio >= threshold:
                return Burn(severity, factor, long_ratio, short_ratio)
        return None

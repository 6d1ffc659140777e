"""The outcome of a load run, merged from every worker, and its JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from prodready.load.histogram import (
    latency_summary_ms,
    new_histogram,
    percentile_curve_ms,
    percentile_ms,
)

# The generator is suspect (it, not the server, may have been the bottleneck) when a worker
# wanted a CPU nearly all the time: it used one, or was ready to run and waited for one.
# Measured on a 2-core machine at load 13-14: 33-70 % for ordinary runs (200 to 1000 req/s,
# a closed model against a Python server), 87 % loading nginx flat out (nginx, as starved,
# shared the limit), 100 % for a loop that always has work.
SUSPECT_DEMAND_FRACTION = 0.90
# A cgroup CPU quota (container --cpus, systemd CPUQuota=) stops a process that used its share
# without always counting the stop as a run-queue wait: used CPU near the quota is the evidence
# then. A generator held to 5 % of a CPU at 500-3000 req/s used 90-99 % of it; with a 20 %
# quota at 500 req/s, 25 %.
SUSPECT_QUOTA_FRACTION = 0.80
# The generator's own CPU misses what the quota charged the rest of its cgroup (the parent
# that coordinates the workers, other processes), so it can read under 80 % of a quota that
# held it back (74 % of a 5 % quota in one such run). The cgroup's throttled periods cannot:
# 72-100 % of them for a generator held to 5 % at 500-3000 req/s, 100 % at 10 % and 3000
# req/s, 3-10 % for one with a 20 % quota at 200-500 req/s, none at 50 %.
SUSPECT_THROTTLED_FRACTION = 0.50
# Open model: a request due while a connection was free goes out late only when the generator
# was busy or not running. Measured on a 2-core machine: 0.5-1.2 ms on ordinary runs (also with
# both cores busy with other work), 53 ms for 3000 req/s from a generator held to 5 % of a CPU.
SUSPECT_SCHEDULE_LATE_MS = 10.0


@dataclass
class Interval:
    """One report interval of the whole run (all workers merged)."""

    t_s: float
    duration_s: float
    responses: int
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.responses / self.duration_s if self.duration_s > 0 else 0.0


@dataclass
class Generator:
    """How the load generator itself fared: its CPU per worker, how much of the time a worker
    wanted a CPU (used one or waited for one), and its event-loop lag.

    Loop lag alone is no evidence: on a busy machine the operating system runs a mostly idle
    generator a few milliseconds late. A worker that wanted a CPU nearly all the time is: it
    had more work than CPU, so the server may have been faster than the result says."""

    cpu_fraction_max: float = 0.0
    cpu_seconds: float = 0.0
    lag_mean_ms_max: float = 0.0
    lag_max_ms: float = 0.0
    demand_fraction_max: float | None = None
    """None where the kernel does not report run-queue waits; CPU alone decides then."""
    workers: int = 1
    cpu_total_fraction: float = 0.0
    """CPU of all workers together, in CPUs."""
    quota_cpus: float | None = None
    """CPUs the generator's cgroup quota allows; None when there is no quota."""
    quota_throttled_fraction: float | None = None
    """Share of the run's quota periods in which the kernel stopped the generator's cgroup for
    having used its quota; None without a quota or its counters."""
    schedule_late_mean_ms_max: float = 0.0
    """Open model: the worst worker's mean delay sending a request due on a free connection."""

    @property
    def suspect_reasons(self) -> list[str]:
        return [
            reason
            for reason in (self._demand_reason(), self._quota_reason(), self._schedule_reason())
            if reason
        ]

    def _demand_reason(self) -> str | None:
        threshold = f"{SUSPECT_DEMAND_FRACTION:.0%}"
        if self.demand_fraction_max is None:
            if self.cpu_fraction_max >= SUSPECT_DEMAND_FRACTION:
                return f"a worker used {self.cpu_fraction_max:.0%} of a CPU (over {threshold})"
            return None
        if self.demand_fraction_max >= SUSPECT_DEMAND_FRACTION:
            return (
                f"a worker wanted a CPU {self.demand_fraction_max:.0%} of the time "
                f"(CPU {self.cpu_fraction_max:.0%}, the rest waiting for one; over {threshold})"
            )
        return None

    @property
    def quota_bound(self) -> bool:
        """The cgroup quota allows less than a CPU per worker and held the generator back: the
        kernel throttled it in most periods, or the workers used the quota up."""
        if self.quota_cpus is None or self.quota_cpus >= self.workers:
            return False
        throttled = self.quota_throttled_fraction or 0.0
        return (
            throttled >= SUSPECT_THROTTLED_FRACTION
            or self.cpu_total_fraction >= SUSPECT_QUOTA_FRACTION * self.quota_cpus
        )

    def _quota_reason(self) -> str | None:
        if not self.quota_bound or self.quota_cpus is None:
            return None
        used = (
            f"the generator used {self.cpu_total_fraction:.0%} of a CPU, "
            f"{self.cpu_total_fraction / self.quota_cpus:.0%} of the {self.quota_cpus:.0%} its "
            "cgroup's CPU quota allows"
        )
        if self.quota_throttled_fraction is None:
            return f"{used} (over {SUSPECT_QUOTA_FRACTION:.0%})"
        return (
            f"{used}, and the kernel throttled it in {self.quota_throttled_fraction:.0%} of the "
            f"quota's periods (suspect over {SUSPECT_QUOTA_FRACTION:.0%} used or "
            f"{SUSPECT_THROTTLED_FRACTION:.0%} throttled)"
        )

    def _schedule_reason(self) -> str | None:
        if self.schedule_late_mean_ms_max < SUSPECT_SCHEDULE_LATE_MS:
            return None
        return (
            f"requests due on a free connection went out {self.schedule_late_mean_ms_max:.1f} "
            f"ms late on average (over {SUSPECT_SCHEDULE_LATE_MS:.0f} ms): the generator fell "
            "behind its schedule"
        )

    @property
    def suspect(self) -> bool:
        return bool(self.suspect_reasons)

    @property
    def advice(self) -> str:
        if self.quota_bound:
            return (
                "raise the generator's CPU quota (docker --cpus, systemd CPUQuota=), lower the "
                "rate or the connections, or run the generator on another machine"
            )
        return (
            f"spread the load over more worker processes (-w {self.workers + 1}) if this "
            "machine has idle cores, use fewer connections or a lower rate, or run the "
            "generator on another machine"
        )


@dataclass
class RequestStats:
    """Latency and statuses of one kind of request (one scenario entry)."""

    name: str
    method: str
    path: str
    histogram: HdrHistogram = field(default_factory=new_histogram)
    status_counts: dict[int, int] = field(default_factory=dict)

    @property
    def responses(self) -> int:
        return self.histogram.get_total_count()

    @property
    def http_errors(self) -> int:
        return sum(count for code, count in self.status_counts.items() if code >= 400)

    @property
    def label(self) -> str:
        return self.name or f"{self.method} {self.path}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.label,
            "method": self.method,
            "path": self.path,
            "responses": self.responses,
            "http_errors": self.http_errors,
            "status_codes": {str(code): n for code, n in sorted(self.status_counts.items())},
            "latency_ms": latency_summary_ms(self.histogram),
        }


@dataclass
class LoadResult:
    """Everything a run measured. Latency is in the HDR `histogram` (microseconds)."""

    config: dict[str, Any]
    started_at: str = ""
    """When the first requests were due, UTC, ISO 8601 to the second."""
    duration_s: float = 0.0
    histogram: HdrHistogram = field(default_factory=new_histogram)
    sent: int = 0
    status_counts: dict[int, int] = field(default_factory=dict)
    transport_errors: dict[str, int] = field(default_factory=dict)
    dropped: int = 0
    unfinished: int = 0
    # Open model: requests that found every connection busy when due (see -c).
    waited_for_connection: int = 0
    timeline: list[Interval] = field(default_factory=list)
    generator: Generator = field(default_factory=Generator)
    worker_responses: list[int] = field(default_factory=list)
    by_request: list[RequestStats] = field(default_factory=list)
    interrupted: bool = False
    lost_workers: int = 0
    worker_errors: list[str] = field(default_factory=list)

    @property
    def responses(self) -> int:
        return self.histogram.get_total_count()

    @property
    def successes(self) -> int:
        """Responses with a status below 400."""
        return sum(count for code, count in self.status_counts.items() if code < 400)

    @property
    def errors(self) -> dict[str, int]:
        """Errors by kind: transport errors and 'http_<code>' for every status of 400 or more."""
        by_kind = dict(self.transport_errors)
        for code, count in sorted(self.status_counts.items()):
            if code >= 400:
                by_kind[f"http_{code}"] = count
        return dict(sorted(by_kind.items(), key=lambda item: -item[1]))

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def attempts(self) -> int:
        """Responses plus requests that ended in a transport error."""
        return self.responses + sum(self.transport_errors.values())

    @property
    def error_rate(self) -> float:
        return self.error_count / self.attempts if self.attempts else 0.0

    @property
    def rps(self) -> float:
        return self.responses / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def status_classes(self) -> dict[str, int]:
        classes: dict[str, int] = {}
        for code, count in self.status_counts.items():
            name = f"{code // 100}xx"
            classes[name] = classes.get(name, 0) + count
        return dict(sorted(classes.items()))

    def latency_ms(self, percentile: float) -> float:
        return percentile_ms(self.histogram, percentile)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (without the SLO verdict, which the caller adds)."""
        return {
            "config": self.config,
            "started_at": self.started_at,
            "summary": {
                "duration_s": round(self.duration_s, 3),
                "sent": self.sent,
                "responses": self.responses,
                "rps": round(self.rps, 1),
                "errors": self.error_count,
                "error_rate": round(self.error_rate, 6),
                "dropped": self.dropped,
                "unfinished": self.unfinished,
                "waited_for_connection": self.waited_for_connection,
                "interrupted": self.interrupted,
                "lost_workers": self.lost_workers,
                "worker_errors": self.worker_errors,
            },
            "latency_ms": latency_summary_ms(self.histogram),
            "errors_by_kind": self.errors,
            "status_classes": self.status_classes,
            "status_codes": {str(code): n for code, n in sorted(self.status_counts.items())},
            "generator": {
                "cpu_percent_max": round(self.generator.cpu_fraction_max * 100, 1),
                "cpu_seconds": round(self.generator.cpu_seconds, 3),
                "loop_lag_mean_ms_max": round(self.generator.lag_mean_ms_max, 3),
                "loop_lag_max_ms": round(self.generator.lag_max_ms, 3),
                "schedule_late_mean_ms_max": round(self.generator.schedule_late_mean_ms_max, 3),
                "cpu_quota_percent": None
                if self.generator.quota_cpus is None
                else round(self.generator.quota_cpus * 100, 1),
                "cpu_quota_throttled_percent": None
                if self.generator.quota_throttled_fraction is None
                else round(self.generator.quota_throttled_fraction * 100, 1),
                "cpu_demand_percent_max": None
                if self.generator.demand_fraction_max is None
                else round(self.generator.demand_fraction_max * 100, 1),
                "suspect": self.generator.suspect,
                "suspect_reasons": self.generator.suspect_reasons,
                "advice": self.generator.advice if self.generator.suspect else None,
            },
            "timeline": [
                {
                    "t_s": round(i.t_s, 3),
                    "rps": round(i.rps, 1),
                    "responses": i.responses,
                    "errors": i.errors,
                    "p50_ms": i.p50_ms,
                    "p90_ms": i.p90_ms,
                    "p99_ms": i.p99_ms,
                    "max_ms": i.max_ms,
                }
                for i in self.timeline
            ],
            "percentiles": [
                {"percentile": p, "latency_ms": ms} for p, ms in percentile_curve_ms(self.histogram)
            ],
            "by_request": [stats.to_dict() for stats in self.by_request],
            "worker_responses": self.worker_responses,
            "hdr_histogram_us": self.histogram.encode().decode("ascii"),
        }

"""The pure parts: option parsing, SLO expressions, the schedule, HDR recording and merging."""

from __future__ import annotations

import random

import pytest
from hdrh.histogram import HdrHistogram

from prodready.errors import UsageError
from prodready.load.config import (
    RequestSpec,
    build_config,
    parse_duration,
    parse_header,
    parse_rate,
    parse_target,
)
from prodready.load.engine import LoadRun
from prodready.load.histogram import LatencyRecorder, decode, new_histogram
from prodready.load.result import Generator, LoadResult
from prodready.load.schedule import NS_PER_S, OpenSchedule, plan_workers, split_evenly
from prodready.load.slo import default_gate, evaluate, parse_slo
from prodready.load.worker import WorkerInterval


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("2m", 120), ("500ms", 0.5), ("1h", 3600), ("7", 7)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("text", "rate"), [("200", 200), ("200/s", 200), ("600/m", 10)])
def test_rates(text: str, rate: float) -> None:
    assert parse_rate(text) == rate


def test_target_and_host_header() -> None:
    target, path = parse_target("https://example.test/api?x=1")
    assert (target.host, target.port, target.tls, path) == ("example.test", 443, True, "/api?x=1")
    ipv6, _ = parse_target("http://[::1]:8080/")
    assert ipv6.host_header == "[::1]:8080"


def test_request_is_encoded_once_with_host_and_length() -> None:
    target, _ = parse_target("http://127.0.0.1:8000/")
    wire = RequestSpec(path="/x", method="POST", body=b"{}").encode(target)
    assert wire.startswith(b"POST /x HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n")
    assert b"Content-Length: 2\r\n\r\n{}" in wire


def test_config_defaults_and_limits() -> None:
    config = build_config("http://127.0.0.1:1/", total_requests=3, workers=8)
    assert config.connections == 3  # never more connections than requests
    assert config.workers == 3  # never more workers than connections
    assert config.duration_s is None
    with pytest.raises(UsageError):
        build_config("http://127.0.0.1:1/", connections=0)


def test_work_is_split_to_the_request() -> None:
    assert split_evenly(10, 3) == [4, 3, 3]
    config = build_config("http://127.0.0.1:1/", total_requests=1001, connections=7, workers=3)
    shares = plan_workers(config)
    assert sum(share.budget or 0 for share in shares) == 1001
    assert sum(share.connections for share in shares) == 7


def test_open_schedule_counts_intended_sends() -> None:
    start = 1_000 * NS_PER_S
    schedule = OpenSchedule(start, rate=100, phase_ns=0, budget=None, end_ns=start + 2 * NS_PER_S)
    assert schedule.total == 200
    assert schedule.due_by(start - 1) == 0
    assert schedule.due_by(start) == 1
    assert schedule.due_by(start + NS_PER_S // 2) == 51
    assert schedule.due_by(start + 10 * NS_PER_S) == 200
    assert schedule.intended_ns(3) == start + 30_000_000


def test_workers_interleave_in_the_open_model() -> None:
    config = build_config("http://127.0.0.1:1/", rate=1000, workers=2, duration_s=1)
    first, second = plan_workers(config)
    assert first.rate == second.rate == 500
    assert second.phase_ns - first.phase_ns == 1_000_000  # one global interval apart


def test_recorder_fold_equals_direct_recording() -> None:
    values = [random.randint(1, 5_000_000) for _ in range(20_000)]
    recorder = LatencyRecorder()
    direct = new_histogram()
    for value in values:
        recorder.record(value)
        direct.record_value(value)
    folded = recorder.take_interval()
    assert folded.get_total_count() == direct.get_total_count() == 20_000
    for percentile in (50, 90, 99, 99.9, 100):
        assert folded.get_value_at_percentile(percentile) == direct.get_value_at_percentile(
            percentile
        )
    assert recorder.take_interval().get_total_count() == 0


def test_encoded_histograms_merge_without_loss() -> None:
    parts = []
    merged = new_histogram()
    for _ in range(4):
        part = new_histogram()
        for _ in range(5_000):
            part.record_value(random.randint(10, 2_000_000))
        parts.append(part)
        merged.add(decode(part.encode()))
    assert merged.get_total_count() == 20_000
    assert merged.get_max_value() == max(p.get_max_value() for p in parts)


def _result(latencies_us: list[int], status: int = 200, duration_s: float = 1.0) -> LoadResult:
    histogram = HdrHistogram(1, 3_600_000_000, 3)
    for value in latencies_us:
        histogram.record_value(value)
    return LoadResult(
        config={},
        histogram=histogram,
        duration_s=duration_s,
        status_counts={status: len(latencies_us)},
    )


def test_slo_checks_each_metric() -> None:
    result = _result([1_000] * 99 + [900_000])  # p99 1 ms, max 0.9 s
    verdicts = evaluate(
        parse_slo("p99<=1.01ms, p99.9<1s, max<500ms, rps>=100, errors<0.1%, mean<20ms"), result
    )
    assert [v.passed for v in verdicts] == [True, True, False, True, True, True]


def test_slo_counts_http_errors() -> None:
    failing = _result([1_000] * 10, status=503)
    assert not evaluate(parse_slo("errors<1%"), failing)[0].passed
    assert evaluate(parse_slo("errors<=10"), failing)[0].passed


def test_no_response_fails_latency_objectives() -> None:
    assert not evaluate(parse_slo("p99<1s"), _result([]))[0].passed


@pytest.mark.parametrize(
    "text",
    ["p95<300", "latency<1s", "p99", "p99<<1s", "rps>=100ms", "errors<1ms", "p101<1s", ""],
)
def test_bad_slo_expressions_are_rejected(text: str) -> None:
    with pytest.raises(UsageError):
        parse_slo(text)


def test_non_ascii_paths_are_percent_encoded_and_headers_must_be_latin_1() -> None:
    target, path = parse_target("http://127.0.0.1:8000/café?q=ü")
    wire = RequestSpec(path=path).encode(target)
    assert wire.startswith(b"GET /caf%C3%A9?q=%C3%BC HTTP/1.1\r\n")
    assert RequestSpec(path="/a%20b").encode(target).startswith(b"GET /a%20b ")
    with pytest.raises(UsageError):
        parse_header("X-Name: 日本")


def _interval(tick: int, latencies_us: list[int]) -> WorkerInterval:
    histogram = new_histogram()
    for value in latencies_us:
        histogram.record_value(value)
    return WorkerInterval(
        tick=tick,
        start_ns=tick * NS_PER_S,
        end_ns=(tick + 1) * NS_PER_S,
        histograms=[histogram.encode()],
        responses=len(latencies_us),
        sent=len(latencies_us),
        status_counts=[{200: len(latencies_us)}] if latencies_us else [{}],
        errors={},
        cpu_s=0.01,
        wait_s=0.001,
        lag_mean_ms=0.1,
        lag_max_ms=0.2,
    )


def test_an_empty_last_interval_does_not_make_the_minimum_zero() -> None:
    """A worker's last interval often has no response; its empty histogram must not feed 0
    into the merged minimum (hdrh's add() would)."""
    run = LoadRun(build_config("http://127.0.0.1:9/", total_requests=10, workers=1), None)
    run.add_interval(0, _interval(0, [2_500, 3_000, 4_000]))
    run.add_interval(0, _interval(1, []))
    for histogram in (run.result.histogram, run.result.by_request[0].histogram):
        assert histogram.get_min_value() == 2_500 and histogram.get_total_count() == 3
    assert run.result.to_dict()["latency_ms"]["min"] == 2.5


def test_default_gate_fails_when_more_than_half_failed() -> None:
    mixed = LoadResult(config={}, status_counts={200: 40, 500: 60}, duration_s=1.0)
    for _ in range(100):
        mixed.histogram.record_value(1_000)
    assert [v.passed for v in evaluate(default_gate(), mixed)] == [True, False]
    mixed.status_counts = {200: 60, 500: 40}
    assert all(v.passed for v in evaluate(default_gate(), mixed))


@pytest.mark.parametrize(
    ("cpu", "demand", "lag_ms", "suspect"),
    [
        # Measured on a 2-core machine at load 13-14 (one worker, its whole run):
        (0.05, 0.33, 2.0, False),  # open model, 200 req/s
        (0.04, 0.70, 18.6, False),  # open model, 300 req/s: a late loop is no evidence
        (0.10, 0.57, 9.1, False),  # open model, 1000 req/s
        (0.12, 0.66, 28.8, False),  # closed model, 50 connections, a Python server limits
        (0.18, 0.87, 72.9, False),  # closed model against nginx: nginx as starved, shared
        (0.25, 1.00, 0.0, True),  # a uvloop loop always with work: 25 % CPU, 75 % waiting
        (0.95, None, 0.5, True),  # no run-queue figure from the kernel: CPU alone decides
        (0.30, None, 50.0, False),
    ],
)
def test_the_generator_is_suspect_only_when_it_wanted_a_cpu_most_of_the_time(
    cpu: float, demand: float | None, lag_ms: float, suspect: bool
) -> None:
    generator = Generator(
        cpu_fraction_max=cpu, lag_mean_ms_max=lag_ms, demand_fraction_max=demand, workers=1
    )
    assert generator.suspect is suspect
    if suspect:
        assert "-w 2" in generator.advice and "fewer connections" in generator.advice


@pytest.mark.parametrize(
    ("cpu_total", "quota", "throttled", "workers", "late_ms", "reason"),
    [
        # Measured with a cgroup CPU quota (cpu.cfs_quota_us) on the generator, one worker:
        (0.046, 0.05, None, 1, 2.9, "cgroup's CPU quota"),  # 500 req/s held to 5 % of a CPU
        (0.05, 0.20, 0.10, 1, 0.55, None),  # the same run under 20 %: room to spare
        (0.19, 0.20, None, 1, 0.0, "cgroup's CPU quota"),  # 10 connections, closed, 20 %
        (1.9, 2.0, 0.0, 2, 0.0, None),  # a quota of a CPU per worker binds no worker
        (0.048, None, None, 1, 53.5, "behind its schedule"),  # 3000 req/s, 5 %: 53 ms late
        (0.03, None, None, 1, 0.9, None),  # 200 req/s with both cores busy with other work
        # The workers' own CPU read 3.9 % of a 5 % quota (the coordinating parent used the
        # rest), but the kernel throttled the cgroup in every period of the run:
        (0.039, 0.05, 1.0, 1, 2.0, "throttled it in 100%"),
    ],
)
def test_a_generator_is_suspect_when_its_cgroup_quota_or_its_schedule_held_it_back(
    cpu_total: float,
    quota: float | None,
    throttled: float | None,
    workers: int,
    late_ms: float,
    reason: str | None,
) -> None:
    generator = Generator(
        cpu_fraction_max=cpu_total / workers,
        demand_fraction_max=0.3,
        workers=workers,
        cpu_total_fraction=cpu_total,
        quota_cpus=quota,
        quota_throttled_fraction=throttled,
        schedule_late_mean_ms_max=late_ms,
    )
    if reason is None:
        assert generator.suspect_reasons == []
    else:
        assert [r for r in generator.suspect_reasons if reason in r], generator.suspect_reasons
    if quota is not None and reason:
        assert "CPU quota" in generator.advice

"""The runtime kit against bad options and broken backing services.

Bad options: every option of `Production(app, ...)` is checked when it is called, one
`UserError` line with a hint, never a raw Python error and never a 500 on later requests.
Redis behind the rate limits, frozen (SIGSTOP) or killed: requests go on without paying a
timeout each, one warning is logged, and the limits come back when Redis does. PostgreSQL
hung or dead (behind a link the test freezes or cuts) and Redis frozen behind the health
checks: readiness says 503 within the check's timeout, liveness stays 200, both recover.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import structlog

from prodready.errors import UserError
from prodready.runtime import Production, checks
from prodready.runtime.health import HealthRegistry
from prodready.runtime.ratelimit import RateLimits
from tests.faults import hostile


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


BAD_OPTIONS = [
    ({"max_body_size": "1MB"}, "max_body_size"),
    ({"max_body_size": -5}, "max_body_size"),
    ({"route_body_limits": {"/upload": "10MB"}}, "route_body_limits"),
    ({"route_body_limits": {"upload": 10}}, "route_body_limits"),
    ({"trusted_proxies": ["not-an-address"]}, "trusted_proxies"),
    ({"trusted_proxies": "10.0.0.0/33"}, "trusted_proxies"),
    ({"hsts_max_age": "one year"}, "hsts_max_age"),
    ({"hsts_max_age": -1}, "hsts_max_age"),
    ({"route_limits": ["/login", "5/minute"]}, "route_limits"),
    ({"route_limits": {"/login": 5}}, "route_limits"),
    ({"route_limits": {"login": "5/minute"}}, "route_limits"),
    ({"route_limits": {"/login": "five a minute"}}, "rate limit"),
    ({"rate_limit": "lots"}, "rate limit"),
    ({"rate_limit_strategy": "token-bucket"}, "strategy"),
    ({"check_ttl": "2s"}, "check_ttl"),
    ({"log_level": "LOUD"}, "log_level"),
    ({"metrics": "yes"}, "metrics"),
    ({"metrics_path": "metrics"}, "metrics_path"),
    ({"cors_origins": ["example.com"]}, "cors_origins"),
    ({"request_id_header": ""}, "request_id_header"),
    ({"rate_limit": "5/minute", "rate_limit_storage": "ftp://x"}, "storage"),
]


@pytest.mark.parametrize(("options", "named"), BAD_OPTIONS)
def test_a_bad_option_is_one_clear_error_at_start_up(options: dict[str, Any], named: str) -> None:
    with pytest.raises(UserError) as caught:
        Production(wsgi_app, json_logs=False, **options)

    message = caught.value.message
    assert named in message, message
    assert "\n" not in message
    assert caught.value.hint


def test_good_options_of_every_kind_are_accepted() -> None:
    kit = Production(
        wsgi_app,
        json_logs=False,
        max_body_size=2_000_000,
        route_body_limits={"/upload": 50_000_000},
        trusted_proxies="10.0.0.0/8, 127.0.0.1",
        hsts_max_age=0,
        route_limits={"/login": "5/minute"},
        check_ttl=1,
        log_level="warning",
        metrics_path=None,
        cors_origins=["https://example.com"],
    )
    assert kit.options.trusted_proxies == ("10.0.0.0/8", "127.0.0.1")


# --- a frozen or dead Redis behind the rate limits ------------------------------------------


@pytest.fixture
def own_redis() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A private redis-server on a free port, which the test may freeze (SIGSTOP): never the
    machine's shared one."""
    program = shutil.which("redis-server")
    if program is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed (make system-deps)")
        pytest.skip("redis-server is not installed (make system-deps)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0", process
    process.send_signal(signal.SIGCONT)
    process.terminate()
    process.wait(timeout=10)


def _hits(limits: RateLimits, seconds: float, threads: int = 4) -> list[float]:
    """Calls `hit` from `threads` threads (a gthread worker's) for `seconds`; each latency."""
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    def loop() -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            limits.hit("10.1.2.3", "/hello")
            latencies.append(time.perf_counter() - started)
            time.sleep(0.002)

    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(loop) for _ in range(threads)]:
            future.result()
    return latencies


def test_a_frozen_redis_costs_requests_nothing_and_logs_once(own_redis) -> None:
    url, redis_process = own_redis
    limits = RateLimits(per_client="1000000/minute", storage=url)
    assert limits.hit("10.1.2.3", "/hello") is None  # connected and counting

    with structlog.testing.capture_logs() as logs:
        redis_process.send_signal(signal.SIGSTOP)
        frozen = sorted(_hits(limits, 4.0))
        redis_process.send_signal(signal.SIGCONT)
        deadline = time.monotonic() + 30
        while limits.breaker.open and time.monotonic() < deadline:
            time.sleep(0.1)

    p99_ms = frozen[int(len(frozen) * 0.99)] * 1000
    slow = sum(1 for seconds in frozen if seconds > 0.1)
    assert len(frozen) > 500
    assert p99_ms <= 5.0, f"p99 {p99_ms:.1f} ms while Redis is frozen"
    assert slow <= 4, f"{slow} requests waited on the frozen Redis (at most those in flight)"
    down = [entry for entry in logs if entry["event"] == "rate_limit_storage_down"]
    back = [entry for entry in logs if entry["event"] == "rate_limit_storage_back"]
    assert len(down) == 1, logs
    assert len(back) == 1, logs
    assert not limits.breaker.open
    # Counting in Redis again: a tight limit now refuses.
    tight = RateLimits(per_client="2/minute", storage=url)
    assert [tight.hit("10.9.9.9", "/") is None for _ in range(3)] == [True, True, False]


def test_a_redis_killed_outright_fails_open_and_recovers_when_it_returns(own_redis) -> None:
    url, redis_process = own_redis
    limits = RateLimits(per_client="1000000/minute", storage=url)
    assert limits.hit("10.1.2.3", "/hello") is None
    port = url.rsplit(":", 1)[1].split("/")[0]

    redis_process.kill()
    redis_process.wait()
    down = _hits(limits, 1.0)
    assert all(limit_hit < 0.5 for limit_hit in down)
    assert limits.breaker.open

    restarted = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", port, "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while limits.breaker.open and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not limits.breaker.open, "the breaker did not close once Redis was back"
    finally:
        restarted.terminate()
        restarted.wait(timeout=10)


# --- PostgreSQL and Redis behind the health checks: hung and dead -----------------------------


def _need_service(name: str, port: int) -> None:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        message = f"{name} is not running on 127.0.0.1:{port} (make services)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def postgres_link() -> Iterator[hostile.FaultyLink]:
    """The machine's PostgreSQL behind a link this test may freeze or cut."""
    _need_service("PostgreSQL", 5432)
    link = hostile.FaultyLink(5432)
    yield link
    link.close()


def _timed_ready(registry: HealthRegistry) -> tuple[int, float, bytes]:
    started = time.monotonic()
    report = registry.ready()
    return report.http_status, time.monotonic() - started, report.to_json()


@pytest.mark.parametrize("fault", ["freeze", "cut"])
def test_readiness_answers_503_in_time_when_postgres_hangs_or_dies_and_recovers(
    postgres_link: hostile.FaultyLink, fault: str
) -> None:
    url = f"postgresql://postgres@127.0.0.1:{postgres_link.port}/postgres"
    registry = HealthRegistry(ttl=0)
    registry.add(checks.postgres(url, timeout=1.0))
    assert _timed_ready(registry)[0] == 200

    getattr(postgres_link, fault)()
    status, seconds, body = _timed_ready(registry)
    live = registry.live().http_status

    assert status == 503, body
    assert seconds < 3.0  # the check's timeout (1 s), not psycopg's or the kernel's
    assert live == 200  # a hung database is not a reason to restart the app
    postgres_link.heal()
    deadline = time.monotonic() + 15
    while _timed_ready(registry)[0] != 200:
        assert time.monotonic() < deadline, "readiness did not come back with PostgreSQL"
        time.sleep(0.2)


def test_readiness_answers_503_in_time_when_redis_is_frozen(own_redis) -> None:
    url, redis_process = own_redis
    registry = HealthRegistry(ttl=0)
    registry.add(checks.redis(url, timeout=1.0))
    assert _timed_ready(registry)[0] == 200

    redis_process.send_signal(signal.SIGSTOP)
    try:
        status, seconds, body = _timed_ready(registry)
    finally:
        redis_process.send_signal(signal.SIGCONT)

    assert status == 503, body
    assert seconds < 3.0
    deadline = time.monotonic() + 15
    while _timed_ready(registry)[0] != 200:
        assert time.monotonic() < deadline, "readiness did not come back with Redis"
        time.sleep(0.2)

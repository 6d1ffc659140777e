"""Rate limits on real servers, with memory storage and with a real Redis."""

from __future__ import annotations

import random
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from runtime_support import REDIS_URL, closed_port, need_program, need_service, options_env

from prodready.errors import UserError
from prodready.runtime.ratelimit import RateLimits


def unique_client() -> str:
    """An address no other test (or engineer) limits: the limit key is per client."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


@pytest.fixture
def own_redis() -> Iterator[str]:
    """A private Redis we may stop mid-test (the shared one on 6379 stays up)."""
    program = need_program("redis-server")
    port = closed_port()
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
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


def test_429_with_retry_after_and_ratelimit_headers(serve) -> None:
    server = serve("uvicorn", "fastapi_app:app", env=options_env(rate_limit="5/minute"))
    statuses = [server.get("/hello").status_code for _ in range(5)]
    assert statuses == [200] * 5
    refused = server.get("/hello")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit-Limit"] == "5"
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert 0 <= int(refused.headers["RateLimit-Reset"]) <= 60
    assert refused.headers["X-Request-ID"] and refused.headers["X-Content-Type-Options"]
    # Health probes are never limited.
    assert server.get("/health/ready").status_code == 200


def test_route_limits_apply_by_path_prefix(serve) -> None:
    server = serve(
        "gunicorn", "flask_app:app", env=options_env(route_limits={"/items": "2/minute"})
    )
    assert [server.get(f"/items/{i}").status_code for i in range(3)] == [200, 200, 429]
    assert [server.get("/hello").status_code for _ in range(5)] == [200] * 5


def test_forwarded_for_is_honoured_only_from_trusted_proxies(serve) -> None:
    untrusted = serve("gunicorn", "flask_app:app", env=options_env(rate_limit="2/minute"))
    spoofed = [
        untrusted.get("/hello", headers={"X-Forwarded-For": unique_client()}).status_code
        for _ in range(3)
    ]
    assert spoofed == [200, 200, 429], "a client must not dodge its limit with a made-up header"

    trusted = serve(
        "gunicorn",
        "flask_app:app",
        env=options_env(rate_limit="2/minute", trusted_proxies=["127.0.0.0/8"]),
    )
    one, other = unique_client(), unique_client()
    first = [trusted.get("/hello", headers={"X-Forwarded-For": one}).status_code for _ in range(3)]
    assert first == [200, 200, 429]
    chain = f"{other}, 127.0.0.5"
    assert trusted.get("/hello", headers={"X-Forwarded-For": chain}).status_code == 200


def test_two_processes_share_one_limit_in_redis(serve) -> None:
    need_service("Redis", 6379)
    limit = 100
    options = options_env(
        rate_limit=f"{limit}/minute",
        rate_limit_storage=REDIS_URL,
        rate_limit_strategy="moving-window",
        trusted_proxies=["127.0.0.0/8"],
    )
    servers = [serve("uvicorn", "fastapi_app:app", env=options) for _ in range(2)]
    client = unique_client()
    urls = [servers[i % 2] for i in range(4 * limit)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(
            pool.map(
                lambda server: (
                    server.get("/hello", headers={"X-Forwarded-For": client}).status_code
                ),
                urls,
            )
        )
    admitted = statuses.count(200)
    assert set(statuses) == {200, 429}
    assert limit <= admitted <= limit * 1.01, f"{admitted} admitted for a limit of {limit}"


@pytest.mark.parametrize(("target", "kind"), [("fastapi_app:app", "uvicorn"),
                                              ("flask_app:app", "gunicorn")])  # fmt: skip
def test_redis_stopped_mid_test_fails_open(serve, own_redis: str, target: str, kind: str) -> None:
    server = serve(kind, target, env=options_env(rate_limit="1000/minute",
                                                 rate_limit_storage=own_redis))  # fmt: skip
    assert [server.get("/hello").status_code for _ in range(3)] == [200] * 3
    port = int(own_redis.rsplit(":", 1)[1].split("/")[0])
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True)
    started = time.monotonic()
    statuses = [server.get("/hello").status_code for _ in range(20)]
    assert statuses == [200] * 20
    assert time.monotonic() - started < 20, "a dead Redis must not stall every request"
    server.stop()
    warnings = [r for r in server.log_records() if r["event"] == "rate_limit_storage_down"]
    assert warnings and warnings[0]["level"] == "warning"
    assert warnings[0]["action"] == "letting requests through"


def test_redis_down_fails_closed_when_configured(serve) -> None:
    down = f"redis://127.0.0.1:{closed_port()}/0"
    server = serve(
        "uvicorn",
        "fastapi_app:app",
        env=options_env(rate_limit="10/minute", rate_limit_storage=down,
                        rate_limit_fail_closed=True),
    )  # fmt: skip
    response = server.get("/hello")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"


def test_bad_limits_are_one_clear_error() -> None:
    with pytest.raises(UserError, match="cannot read rate limit 'lots'") as caught:
        RateLimits(per_client="lots")
    assert "100/minute" in (caught.value.hint or "")
    with pytest.raises(UserError, match="rate-limit storage"):
        RateLimits(per_client="1/second", storage="nosuch://x")
    with pytest.raises(UserError, match="strategy"):
        RateLimits(per_client="1/second", strategy="leaky")


def test_client_address_from_forwarded_chain() -> None:
    limits = RateLimits(per_client="1/second", trusted_proxies=["10.0.0.0/8"])
    assert limits.client_of("10.0.0.2", "203.0.113.9, 10.0.0.7") == "203.0.113.9"
    assert limits.client_of("10.0.0.2", "garbage, 10.0.0.7") == "garbage"
    assert limits.client_of("198.51.100.1", "203.0.113.9") == "198.51.100.1"
    assert limits.client_of("10.0.0.2", None) == "10.0.0.2"

"""Async health checks on the app's own event loop, cut off by their timeout when they hang."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from runtime_support import checks_env


def wait_for_lines(path: Path, count: int, timeout: float = 5.0) -> bool:
    """True once `path` has `count` lines (the cancellation lands just after the timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().splitlines()) == count:
            return True
        time.sleep(0.05)
    return False


def deep_entry(server, name: str) -> dict:
    body = server.get("/health").json()
    return body["checks"][f"{name}:responseTime"][0]


@pytest.mark.parametrize(
    ("kind", "extra_args"),
    [("uvicorn", []), ("gunicorn", ["-k", "asgi", "-w", "1"])],
)
def test_async_checks_run_on_the_apps_event_loop(serve, kind: str, extra_args: list[str]) -> None:
    server = serve(
        kind, "fastapi_app:app", env=checks_env(loop=["async_where", 2]), extra_args=extra_args
    )
    entry = deep_entry(server, "loop")
    assert entry["status"] == "pass"
    assert entry["observedValue"] == "MainThread", "the check ran on a private loop"


def test_an_async_check_on_wsgi_runs_on_a_loop_of_its_own(serve) -> None:
    server = serve("gunicorn", "flask_app:app", env=checks_env(loop=["async_where", 2]))
    entry = deep_entry(server, "loop")
    assert entry["status"] == "pass"
    assert entry["observedValue"].startswith("prodready-check-")


def test_a_hanging_async_check_is_cut_off_and_the_loop_keeps_serving(serve, tmp_path) -> None:
    cancelled = tmp_path / "cancelled.log"
    server = serve(
        "uvicorn", "fastapi_app:app", env=checks_env(stuck=["async_hang", 0.5, str(cancelled)])
    )
    with ThreadPoolExecutor(2) as pool:
        started = time.monotonic()
        ready = pool.submit(server.get, "/health/ready")
        hello = pool.submit(server.get, "/hello")
        assert hello.result().status_code == 200
        answer = ready.result()
    assert answer.status_code == 503
    assert time.monotonic() - started < 5, "the probe waited past the check's timeout"
    entry = answer.json()["checks"]["stuck:responseTime"][0]
    assert entry["status"] == "fail" and entry["output"] == "timed out after 0.5s"
    assert wait_for_lines(cancelled, 1), "the hung coroutine was left on the loop"
    # After the TTL the next probe starts a fresh run, cut off and cancelled the same way.
    time.sleep(2.5)
    again = server.get("/health/ready")
    assert again.status_code == 503
    assert again.json()["checks"]["stuck:responseTime"][0]["output"] == "timed out after 0.5s"
    assert wait_for_lines(cancelled, 2)

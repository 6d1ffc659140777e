"""The app's own /metrics as a check: error ratio and p95 between scrapes, read from a real
FastAPI app with the runtime kit under uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from prodready.monitor.checks.appmetrics import quantile
from tests.monitor.test_checks import check
from tests.runtime.runtime_support import Server


@pytest.fixture
def kit_app(tmp_path: Path) -> Iterator[Server]:
    server = Server("uvicorn", "fastapi_app:app", tmp_path / "app.log").start()
    try:
        yield server
    finally:
        server.stop()


def hit(server: Server, path: str, times: int) -> None:
    with requests.Session() as session:
        for _ in range(times):
            session.get(server.url + path, timeout=10)


def test_error_ratio_and_p95_between_scrapes(kit_app: Server) -> None:
    url = f"metrics+{kit_app.url}/metrics"
    hit(kit_app, "/hello", 20)
    first = check(url, name="kit")
    assert first.ok and first.reason.startswith("error ratio 0.0% of ")
    hit(kit_app, "/hello", 15)
    hit(kit_app, "/boom", 5)
    failing = check(url, name="kit")
    assert (failing.ok, failing.reason) == (False, "error ratio 25.0% > 5.0% (5 of 20 requests)")
    hit(kit_app, "/hello", 10)
    assert check(url, name="kit").reason.startswith("error ratio 0.0% of 10 requests, p95 ")
    assert check(url, name="kit", max_error_ratio=0.3).reason == "no requests since the last scrape"
    hit(kit_app, "/slow", 4)
    slow = check(url, name="kit", max_p95="100ms")
    assert not slow.ok and slow.reason.startswith("p95 ") and slow.reason.endswith("> 100ms")


def test_quantile_interpolates_as_prometheus_does() -> None:
    buckets = {0.1: 50.0, 0.2: 90.0, 0.5: 100.0, float("inf"): 100.0}
    assert quantile(buckets, 0.5) == 0.1
    assert quantile(buckets, 0.95) == pytest.approx(0.35)
    assert quantile({0.1: 0.0, float("inf"): 4.0}, 0.95) == 0.1
    assert quantile({}, 0.95) is None

"""Lazy services: built once, on first use, in the worker; failures back off."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from prodready.runtime.services import LazyService, ServiceUnavailable


def test_built_in_the_worker_even_when_used_in_the_preloading_master(serve) -> None:
    server = serve(
        "gunicorn",
        "services_app:app",
        env={"USE_MODEL_AT_IMPORT": "1"},
        extra_args=["--preload", "-w", "2"],
    )
    master = server.process.pid
    answers = [server.get("/predict").json() for _ in range(10)]
    workers = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    for answer in answers:
        assert answer["built_in"] == answer["served_by"] != master
        assert str(answer["served_by"]) in workers


def test_failing_service_fails_readiness_and_backs_off(serve) -> None:
    server = serve("gunicorn", "services_app:app", extra_args=["-w", "1"])
    ready = server.get("/health/ready")
    assert ready.status_code == 503
    entry = ready.json()["checks"]["feature_store:ready"][0]
    assert entry["status"] == "fail" and "feature store unreachable" in entry["output"]
    answers = [server.get("/features") for _ in range(30)]
    assert {answer.status_code for answer in answers} == {503}
    # 30 requests in well under the first backoffs (0.5 s, 1 s, 2 s ...): a handful of tries.
    assert answers[-1].json()["attempts"] <= 4
    assert "next try in" in answers[-1].json()["error"]


def test_built_once_under_concurrent_first_use() -> None:
    calls = []

    def slow_factory() -> object:
        calls.append(1)
        time.sleep(0.2)
        return object()

    service: LazyService[object] = LazyService("slow", slow_factory)
    results = []
    threads = [threading.Thread(target=lambda: results.append(service.get())) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len({id(r) for r in results}) == 1
    assert service.state == "ready"


def test_async_factory_and_retry_after_backoff() -> None:
    attempts = []

    async def connect() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("not yet")
        return "client"

    service: LazyService[str] = LazyService("client", connect, first_backoff=0.2)

    async def scenario() -> None:
        with pytest.raises(ServiceUnavailable, match="not yet"):
            await service.aget()
        with pytest.raises(ServiceUnavailable, match="next try in"):
            await service.aget()
        await asyncio.sleep(0.25)
        results = await asyncio.gather(*(service.aget() for _ in range(5)))
        assert results == ["client"] * 5

    asyncio.run(scenario())
    assert len(attempts) == 2
    with pytest.raises(ServiceUnavailable, match="async factory"):
        LazyService("x", connect).get()


def test_not_built_before_first_use() -> None:
    from flask import Flask

    from prodready.runtime import Production

    built = []
    prod = Production(Flask(__name__), json_logs=False)
    model = prod.service("model", lambda: built.append(1) or {"weights": [1, 2]})
    assert built == [] and model.state == "not built"
    assert model.get()["weights"] == [1, 2] and model.keys() is not None
    assert built == [1]

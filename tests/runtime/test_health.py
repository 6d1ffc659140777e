"""Health endpoints against real dependencies, served by real uvicorn and Gunicorn processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
from jsonschema import validate
from runtime_support import (
    POSTGRES_URL,
    REDIS_URL,
    checks_env,
    closed_port,
    need_service,
    options_env,
)

from prodready.runtime.health import Check, CheckResult, HealthRegistry

HEALTH_SCHEMA = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"enum": ["pass", "warn", "fail"]},
        "checks": {
            "type": "object",
            "additionalProperties": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["status", "componentType", "time"],
                    "properties": {
                        "status": {"enum": ["pass", "warn", "fail"]},
                        "componentType": {"type": "string"},
                        "observedUnit": {"type": "string"},
                        "time": {"type": "string"},
                        "output": {"type": "string"},
                    },
                },
            },
        },
    },
}


class CountingDependency:
    """A real HTTP dependency on 127.0.0.1 that counts the requests it gets."""

    def __init__(self) -> None:
        self.hits = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def counting_dependency() -> Iterator[CountingDependency]:
    dependency = CountingDependency()
    yield dependency
    dependency.close()


@pytest.fixture
def hanging_dependency() -> Iterator[str]:
    """Accepts connections and answers nothing for 30 s: a dependency that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    stop.set()
    for connection in accepted:
        connection.close()
    listener.close()


def test_live_ready_deep_in_health_json(serve) -> None:
    server = serve("uvicorn", "fastapi_app:app", env=checks_env(disk=["disk"]))
    live = server.get("/health/live")
    assert live.status_code == 200
    assert live.headers["content-type"] == "application/health+json"
    assert live.json() == {"status": "pass"}
    deep = server.get("/health")
    body = deep.json()
    validate(body, HEALTH_SCHEMA)
    entry = body["checks"]["disk:free"][0]
    assert entry["observedUnit"] == "percent" and 0 <= entry["observedValue"] <= 100
    assert server.get("/health/ready").status_code == 200


def test_postgres_check_passes_and_leaks_no_connection(serve) -> None:
    need_service("PostgreSQL", 5432)
    tag = f"prodready-check-{os.getpid()}"
    server = serve(
        "uvicorn",
        "fastapi_app:app",
        env={
            **checks_env(db=["postgres", f"{POSTGRES_URL}?application_name={tag}", 2]),
            **options_env(check_ttl=0.0),
        },
    )
    for _ in range(20):
        response = server.get("/health")
        assert response.status_code == 200, response.text
        entry = response.json()["checks"]["db:responseTime"][0]
        assert entry["status"] == "pass" and entry["observedUnit"] == "ms"
    time.sleep(0.5)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        query = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
        assert conn.execute(query, (tag,)).fetchone() == (0,)


def test_stopped_postgres_fails_readiness_with_a_reason(serve) -> None:
    url = f"postgresql://postgres@127.0.0.1:{closed_port()}/test"
    server = serve("uvicorn", "fastapi_app:app", env=checks_env(db=["postgres", url, 2]))
    response = server.get("/health/ready")
    assert response.status_code == 503
    entry = response.json()["checks"]["db:responseTime"][0]
    assert entry["status"] == "fail"
    assert "connection" in entry["output"].lower()


def test_redis_check(serve) -> None:
    need_service("Redis", 6379)
    down = f"redis://127.0.0.1:{closed_port()}/0"
    server = serve(
        "uvicorn",
        "fastapi_app:app",
        env=checks_env(cache=["redis", REDIS_URL, 2], gone=["redis", down, 1]),
    )
    checks = server.get("/health").json()["checks"]
    assert checks["cache:responseTime"][0]["status"] == "pass"
    assert checks["gone:responseTime"][0]["status"] == "fail"


def test_hanging_dependency_answers_within_its_timeout(serve, hanging_dependency) -> None:
    server = serve(
        "uvicorn", "fastapi_app:app", env=checks_env(dep=["http", hanging_dependency, 1])
    )
    started = time.monotonic()
    response = server.get("/health/ready", timeout=15)
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert "timed out" in response.json()["checks"]["dep:responseTime"][0]["output"]
    assert elapsed < 10, f"readiness took {elapsed:.1f}s with a 1 s timeout"
    # The server still answers other requests while the check hangs.
    assert server.get("/hello").status_code == 200


def test_hanging_sync_check_does_not_hang_the_probe(serve) -> None:
    server = serve("gunicorn", "flask_app:app", env=checks_env(slow=["sleep", 30, 1]))
    started = time.monotonic()
    response = server.get("/health/ready", timeout=15)
    assert response.status_code == 503
    assert time.monotonic() - started < 10


def test_probe_storm_reaches_dependency_once_per_ttl(serve, counting_dependency) -> None:
    server = serve(
        "uvicorn",
        "fastapi_app:app",
        env={
            **checks_env(dep=["http", counting_dependency.url, 2]),
            **options_env(check_ttl=30.0),
        },
    )
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda _: server.get("/health/ready").status_code, range(100)))
    assert statuses == [200] * 100
    assert counting_dependency.hits == 1


@pytest.mark.parametrize(
    ("target", "worker"),
    [("fastapi_app:app", "uvicorn_worker.UvicornWorker"), ("flask_app:app", "sync")],
)
def test_sigterm_drains_the_worker_before_it_stops(serve, target, worker) -> None:
    server = serve("gunicorn", target, extra_args=["-k", worker, "--graceful-timeout", "10"])
    assert server.get("/health/ready").status_code == 200
    with ThreadPoolExecutor(max_workers=1) as pool:
        # /draining waits 1 s, then reports whether the process is draining.
        in_flight = pool.submit(server.get, "/draining")
        time.sleep(0.3)
        for pid in _children(server.process.pid):
            os.kill(pid, signal.SIGTERM)
        response = in_flight.result()
    assert response.status_code == 200, "the in-flight request must finish"
    assert response.json() == {"draining": True}


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def test_registry_caches_and_joins_running_checks() -> None:
    calls = []

    def slow_check() -> None:
        calls.append(1)
        time.sleep(0.3)

    registry = HealthRegistry(ttl=5.0)
    registry.add(Check("slow", slow_check, timeout=2.0))
    with ThreadPoolExecutor(max_workers=10) as pool:
        reports = list(pool.map(lambda _: registry.ready(), range(10)))
    assert {report.status for report in reports} == {"pass"}
    assert len(calls) == 1


def test_async_checks_and_warn_for_non_critical_failures() -> None:
    async def async_ok() -> CheckResult:
        return CheckResult("pass", 42, "items")

    def broken() -> None:
        raise ConnectionError("refused")

    registry = HealthRegistry(ttl=0.0)
    registry.add(Check("queue", async_ok))
    registry.add(Check("search", broken, critical=False))
    report = registry.deep()
    assert report.status == "warn" and report.http_status == 200
    body = json.loads(report.to_json())
    assert body["checks"]["queue:responseTime"][0]["observedValue"] == 42
    assert body["checks"]["search:responseTime"][0]["output"] == "ConnectionError: refused"
    assert registry.ready().status == "pass"


def test_draining_fails_readiness_in_process() -> None:
    import subprocess
    import sys

    code = (
        "from prodready.runtime.health import HealthRegistry, begin_draining\n"
        "r = HealthRegistry()\n"
        "assert r.ready().http_status == 200\n"
        "begin_draining()\n"
        "print(r.ready().http_status, r.live().http_status)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["503", "200"]


SIGTERM_STORM_CHILD = """
import signal, sys, time
from prodready.runtime.health import install_drain_on_sigterm, is_draining, on_drain
drains = []
on_drain(lambda: drains.append(1))
handled = 0
def server_handler(signum, frame):
    global handled
    handled += 1
signal.signal(signal.SIGTERM, server_handler)
install_drain_on_sigterm()
print("ready", flush=True)
sys.stdin.readline()  # the storm is over
print(handled > 0, is_draining(), len(drains), flush=True)
"""


def test_a_storm_of_sigterms_never_deadlocks_the_drain_handler() -> None:
    """Gunicorn sends SIGTERM again on every arbiter loop until a removed worker exits; a
    SIGTERM that interrupts the drain handler itself must not deadlock it (it did while the
    drain flag was a threading.Event, whose set() takes a lock)."""
    import subprocess
    import sys

    for _ in range(3):
        child = subprocess.Popen(
            [sys.executable, "-c", SIGTERM_STORM_CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "ready"
        storm_ends = time.monotonic() + 1.5
        while time.monotonic() < storm_ends:
            os.kill(child.pid, signal.SIGTERM)
        try:
            out, _ = child.communicate("done\n", timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            pytest.fail("the drain handler deadlocked under repeated SIGTERMs")
        assert out.split() == ["True", "True", "1"], "handled, draining, callbacks run once"


def test_unreachable_http_dependency_fails() -> None:
    from prodready.runtime import checks

    registry = HealthRegistry(ttl=0.0)
    registry.add(checks.http(f"http://127.0.0.1:{closed_port()}/").named("api"))
    report = registry.ready()
    assert report.status == "fail"
    assert "refused" in report.checks["api"][1].output.lower()


def test_drain_file_turns_every_worker_unready(serve, tmp_path: Path) -> None:
    drain_file = tmp_path / "drain"
    server = serve(
        "gunicorn", "flask_app:app", env={"PRODREADY_DRAIN_FILE": str(drain_file)},
        extra_args=["-w", "2"],
    )  # fmt: skip
    assert {server.get("/health/ready").status_code for _ in range(6)} == {200}
    drain_file.touch()
    answers = [server.get("/health/ready") for _ in range(6)]
    assert {answer.status_code for answer in answers} == {503}
    assert "draining" in answers[0].json()["checks"]["process:draining"][0]["output"]
    assert server.get("/health/live").status_code == 200
    drain_file.unlink()
    assert server.get("/health/ready").status_code == 200


def test_not_ready_file_turns_readiness_503_with_its_first_line(serve, tmp_path: Path) -> None:
    flag = tmp_path / "not-ready"
    server = serve(
        "uvicorn", "fastapi_app:app", env={"PRODREADY_NOT_READY_FILE": str(flag)},
    )  # fmt: skip
    assert server.get("/health/ready").status_code == 200
    flag.write_text("restore of 20261207T000000Z is swapping the data\nsecond line\n")
    answer = server.get("/health/ready")
    assert answer.status_code == 503
    output = answer.json()["checks"]["process:maintenance"][0]["output"]
    assert output == "maintenance: restore of 20261207T000000Z is swapping the data"
    assert server.get("/health/live").status_code == 200
    flag.write_text("")
    empty = server.get("/health/ready").json()["checks"]["process:maintenance"][0]["output"]
    assert empty == f"maintenance: {flag} exists"
    flag.unlink()
    assert server.get("/health/ready").status_code == 200

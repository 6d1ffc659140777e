"""`prodready load` against servers that misbehave: the SLO gate must never pass them.

Each hostile server (tests/faults/hostile.py) fails every request in its own way; the run
must count those requests as errors (in the rate, the summary and the gate) and exit 1.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from prodready.load import run
from tests.faults import hostile
from tests.load.conftest import TARGET_SERVER, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture
def server() -> Iterator[Callable[[hostile.Handler], hostile.HostileServer]]:
    started: list[hostile.HostileServer] = []

    def start(handler: hostile.Handler) -> hostile.HostileServer:
        started.append(hostile.HostileServer(handler))
        return started[-1]

    yield start
    for each in started:
        each.stop()


HOSTILE = [
    # (handler, per-request timeout): a timeout longer than the run leaves requests unfinished.
    pytest.param(hostile.never_answers, "10s", id="accepts-never-answers"),
    pytest.param(hostile.never_answers, "500ms", id="accepts-never-answers-timeout"),
    pytest.param(hostile.junk, "10s", id="junk"),
    pytest.param(hostile.resets, "10s", id="reset"),
    pytest.param(hostile.slow_drip, "10s", id="slow-drip"),
    pytest.param(hostile.short_body, "10s", id="bogus-content-length"),
]


@pytest.mark.parametrize(("handler", "timeout"), HOSTILE)
def test_the_slo_gate_fails_a_server_that_answers_nothing_usable(
    server, handler: hostile.Handler, timeout: str
) -> None:
    target = server(handler)

    done = run_cli(
        target.url, "-d", "1s", "-c", "5", "-w", "1", "--timeout", timeout,
        "--slo", "errors<1%", "--json", "-",
    )  # fmt: skip

    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["summary"]["responses"] == 0
    assert report["summary"]["errors"] >= 5
    assert report["summary"]["error_rate"] == 1.0
    assert report["slo"]["passed"] is False
    assert "Traceback" not in done.stderr


def test_unfinished_requests_are_failures_in_the_text_summary(server) -> None:
    target = server(hostile.never_answers)

    done = run_cli(target.url, "-d", "1s", "-c", "5", "-w", "1", "--slo", "errors<1%")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "SLO passed" not in done.stdout
    assert "unfinished" in done.stdout
    assert "100.000%" in done.stdout, done.stdout


def test_tls_to_a_plain_port_fails_the_gate(server) -> None:
    target = server(hostile.plain_ok)
    url = target.url.replace("http://", "https://")

    done = run_cli(url, "-d", "1s", "-c", "3", "-w", "1", "--slo", "errors<1%", "--json", "-")

    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["summary"]["responses"] == 0
    assert report["summary"]["error_rate"] == 1.0


def test_an_unresolvable_host_fails_the_gate() -> None:
    done = run_cli(
        "http://no-such-host.invalid/", "-d", "1s", "-c", "2", "-w", "1",
        "--slo", "errors<1%", "--json", "-",
    )  # fmt: skip

    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["summary"]["error_rate"] == 1.0
    assert "dns" in report["errors_by_kind"]


def test_port_0_is_refused_before_the_run() -> None:
    done = run_cli("http://127.0.0.1:0/", "-d", "1s")

    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert "port 0" in done.stderr.splitlines()[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("option", ["--html", "--json"])
def test_a_report_path_that_is_a_directory_is_refused_before_the_run(
    server, tmp_path: Path, option: str
) -> None:
    target = server(hostile.plain_ok)

    done = run_cli(target.url, "-d", "5s", "-c", "1", "-w", "1", option, str(tmp_path))

    assert done.returncode == 2
    assert "is a directory" in done.stderr.splitlines()[0]
    assert target.accepted == 0, "the run started before the report path was checked"


def test_thousands_of_connections_end_with_every_worker_reporting() -> None:
    """Ending a run used to scan every connection on every event (O(n^2)): with 8,000 the
    worker overran its deadline, was declared lost and its totals were dropped."""
    server = subprocess.Popen([sys.executable, str(TARGET_SERVER)], stdout=subprocess.PIPE)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        started = time.monotonic()
        result = run(f"http://127.0.0.1:{port}/", duration=4, connections=8000, workers=1)
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=10)

    assert result.lost_workers == 0, result.worker_errors
    assert len(result.worker_responses) == 1  # its final totals arrived
    assert elapsed < 30

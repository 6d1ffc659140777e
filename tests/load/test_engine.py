"""The engine against real servers on 127.0.0.1: counts, models, error kinds, limits."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from prodready.load import run
from tests.load.conftest import free_port, read_stats

pytestmark = pytest.mark.slow


def test_merged_counts_across_workers_equal_what_nginx_served(
    nginx: tuple[str, Path],
) -> None:
    url, access_log = nginx
    result = run(url + "/", requests=3001, connections=10, workers=2)

    served = len(access_log.read_text().splitlines())
    assert served == 3001
    assert result.responses == 3001
    assert result.sent == 3001
    assert len(result.worker_responses) == 2
    assert sum(result.worker_responses) == result.responses
    assert result.status_counts == {200: 3001}
    assert result.errors == {}


def test_closed_model_runs_for_the_duration(target) -> None:
    url = target()
    started = time.monotonic()
    result = run(url + "/", duration=1.5, connections=4, workers=1)
    elapsed = time.monotonic() - started

    assert 1.4 < elapsed < 6
    assert result.responses > 100
    assert read_stats(url)["count"] == result.responses + result.unfinished
    assert result.error_count == 0
    assert len(result.timeline) >= 1
    assert sum(i.responses for i in result.timeline) == result.responses


def test_open_model_sends_at_the_rate(target) -> None:
    url = target()
    result = run(url + "/", rate=200, duration=2, connections=10, workers=2)

    # 200/s for 2 s, split over two interleaved workers: exactly 400 intended sends.
    assert result.sent + result.dropped == 400
    assert result.responses == 400
    assert read_stats(url)["count"] == 400
    assert 150 < result.rps < 250


def test_open_model_shows_a_stalled_server_at_p99(target) -> None:
    # The server stalls 2 s after its 200th request; the generator keeps its schedule, so the
    # requests intended during the stall wait in line and their latency counts the wait.
    url = target("--pause-after", "200", "--pause-s", "2")
    result = run(url + "/", rate=200, duration=4, connections=20, workers=1)

    assert result.responses + result.dropped + result.unfinished >= 790
    assert result.latency_ms(50) < 1000
    assert result.latency_ms(99) >= 1500
    assert result.histogram.get_max_value() / 1000 >= 1800
    # 20 connections cannot hold 2 s x 200/s: the rest waited for a free connection.
    assert result.waited_for_connection > 0


def test_closed_model_hides_the_stall_that_the_open_model_shows(target) -> None:
    # For contrast: the closed model records one slow request per connection, so with
    # thousands of fast responses the stall does not reach p90.
    url = target("--pause-after", "200", "--pause-s", "2")
    result = run(url + "/", duration=4, connections=2, workers=1)

    assert result.histogram.get_max_value() / 1000 >= 1800
    assert result.latency_ms(90) < 100


def test_http_errors_are_counted_by_code_and_class(target) -> None:
    url = target()
    result = run(url + "/status/503", requests=50, connections=5, workers=1)

    assert result.errors == {"http_503": 50}
    assert result.status_classes == {"5xx": 50}
    assert result.error_rate == 1.0


def test_connect_refused_is_counted_and_the_run_ends_on_time() -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    started = time.monotonic()
    result = run(url, duration=1, connections=3, workers=1)

    assert time.monotonic() - started < 6
    assert result.responses == 0
    assert result.errors["connect_refused"] >= 3


def test_timeouts_are_counted_and_never_hang(target) -> None:
    url = target()
    started = time.monotonic()
    result = run(url + "/hang", duration=1, connections=3, workers=1, timeout=0.5)

    # duration 1 s + grace (min(timeout, 2 s)) + process start, never the 1 h the server hangs
    assert time.monotonic() - started < 6
    assert result.errors["timeout"] >= 3
    assert result.responses == 0


def test_a_hanging_server_with_a_long_timeout_is_cut_at_duration_plus_grace(target) -> None:
    url = target()
    started = time.monotonic()
    result = run(url + "/hang", duration=1, connections=2, workers=1, timeout=30)

    assert time.monotonic() - started < 8
    assert result.unfinished == 2


def test_resets_are_counted_and_the_engine_reconnects(target) -> None:
    url = target()
    result = run(url + "/reset", requests=20, connections=2, workers=1)

    assert result.errors.get("reset", 0) + result.errors.get("closed_mid_response", 0) == 20
    assert read_stats(url)["paths"]["/reset"] == 20


def test_connection_close_responses_reconnect(target) -> None:
    url = target()
    result = run(url + "/close", requests=100, connections=4, workers=1)

    assert result.responses == 100
    assert result.error_count == 0


def test_tls_with_a_self_signed_certificate(target, certificate) -> None:
    cert, key = certificate
    url = target("--cert", str(cert), "--key", str(key), scheme="https")

    trusted = run(url + "/", requests=200, connections=4, workers=1, insecure=True)
    assert trusted.responses == 200
    assert trusted.error_count == 0

    verified = run(url + "/", duration=0.5, connections=2, workers=1)
    assert verified.responses == 0
    assert verified.errors["tls"] >= 2


def test_post_body_and_headers_reach_the_server(target) -> None:
    url = target()
    result = run(
        url + "/submit",
        requests=30,
        connections=3,
        workers=1,
        method="POST",
        headers={"Content-Type": "application/json"},
        body='{"amount": 120}',
    )

    stats = read_stats(url)
    assert result.responses == 30
    assert stats["methods"] == {"POST": 30}
    assert stats["bodies"] == {'{"amount": 120}': 30}


def test_progress_is_reported_each_interval(target) -> None:
    url = target()
    seen = []
    run(url + "/", duration=2.2, connections=2, workers=1, on_progress=seen.append)

    assert len(seen) >= 2
    assert seen[-1].responses >= seen[0].responses > 0


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
def test_ipv6_loopback(target) -> None:
    url = target(host="::1")
    result = run(url + "/", requests=100, connections=2, workers=1)

    assert result.responses == 100
    assert read_stats(url)["count"] == 100


def test_a_killed_worker_is_counted_as_lost_and_the_run_still_ends(target) -> None:
    url = target()
    outcome = {}
    runner = threading.Thread(
        target=lambda: outcome.update(result=run(url + "/", duration=3, connections=4, workers=2))
    )
    started = time.monotonic()
    runner.start()
    time.sleep(1.2)
    victim = multiprocessing.active_children()[0]
    os.kill(victim.pid, signal.SIGKILL)
    runner.join(timeout=20)

    assert not runner.is_alive()
    assert time.monotonic() - started < 12
    result = outcome["result"]
    assert result.lost_workers == 1
    assert result.responses > 0


def test_a_server_that_never_accepts_fails_the_run_instead_of_passing_it() -> None:
    # A listener with a full accept queue: new connection attempts hang without an answer.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = [socket.socket() for _ in range(4)]
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        time.sleep(0.2)
        started = time.monotonic()
        result = run(f"http://127.0.0.1:{port}/", duration=1, connections=3, timeout=30)
        elapsed = time.monotonic() - started
        for filler in fillers:
            filler.close()

    assert elapsed < 8
    assert result.responses == 0
    assert result.errors.get("connect_timeout", 0) >= 1
    assert result.error_rate == 1.0


def test_head_answers_end_with_their_headers(target) -> None:
    # The server announces Content-Length: 2 and sends no body, as HTTP says for HEAD.
    url = target()
    result = run(url + "/", method="HEAD", requests=60, connections=3, workers=1)

    assert result.responses == 60
    assert result.errors == {}
    assert read_stats(url)["methods"] == {"HEAD": 60}


def test_head_mixed_with_get_in_a_scenario(target, tmp_path) -> None:
    from prodready.load.config import build_config
    from prodready.load.engine import run_load
    from prodready.load.scenario import load_scenario

    url = target()
    scenario = tmp_path / "mixed.toml"
    scenario.write_text(
        f'base_url = "{url}"\n'
        '[[requests]]\nmethod = "HEAD"\npath = "/h"\n'
        '[[requests]]\npath = "/g"\n'
    )
    base, specs = load_scenario(scenario)
    config = build_config(None, requests=specs, target=base, total_requests=100, connections=2)
    result = run_load(config)

    assert result.responses == 100
    assert result.errors == {}
    assert read_stats(url)["paths"] == {"/h": 50, "/g": 50}


def test_background_load_keeps_arriving_while_the_caller_works(target) -> None:
    from prodready.load import start

    url = target()
    with start(url + "/", rate=100, duration=1.5, connections=4) as load:
        time.sleep(0.5)
        during = read_stats(url)["count"]
    result = load.wait()

    assert during > 0  # requests arrived while the caller was busy
    assert result.responses == 150
    assert not result.interrupted


def test_background_load_can_be_stopped_early(target) -> None:
    from prodready.load import start

    url = target()
    load = start(url + "/", rate=100, duration=30, connections=4)
    time.sleep(1.2)
    started = time.monotonic()
    load.stop()
    result = load.wait(timeout=15)

    assert time.monotonic() - started < 6
    assert result.interrupted
    # It ran (some answers), and stopped long before its 3000 requests; how many came in the
    # first 1.2 s depends on how busy the machine is.
    assert 0 < result.responses < 300


def test_scenario_results_are_kept_per_request(target, tmp_path) -> None:
    from prodready.load.config import build_config
    from prodready.load.engine import run_load
    from prodready.load.scenario import load_scenario

    url = target()
    scenario = tmp_path / "mixed.toml"
    scenario.write_text(
        f'base_url = "{url}"\n'
        '[[requests]]\nname = "home"\npath = "/"\nweight = 3\n'
        '[[requests]]\nname = "broken"\npath = "/status/503"\n'
    )
    base, specs = load_scenario(scenario)
    config = build_config(
        None, requests=specs, target=base, total_requests=400, connections=4, workers=2
    )
    result = run_load(config)

    home, broken = result.by_request
    assert (home.label, home.responses, home.status_counts) == ("home", 300, {200: 300})
    assert (broken.label, broken.responses, broken.http_errors) == ("broken", 100, 100)
    assert home.responses + broken.responses == result.responses
    assert result.to_dict()["by_request"][1]["latency_ms"]["p99"] > 0


@pytest.mark.parametrize("method", ["dispatch", "on_response"])
def test_a_worker_that_fails_is_reported_in_one_line_not_a_traceback(
    target, monkeypatch, capfd, method: str
) -> None:
    # dispatch runs inside the worker's main coroutine, on_response inside an asyncio callback.
    from prodready.load import worker

    def broken(*args: object) -> None:
        raise RuntimeError("simulated bug")

    url = target()
    monkeypatch.setattr(worker.Worker, method, broken)  # the forked workers inherit it
    started = time.monotonic()
    result = run(url + "/", rate=50, duration=1, connections=2, workers=2)

    assert time.monotonic() - started < 8
    assert result.lost_workers == 2
    assert result.worker_errors == ["RuntimeError: simulated bug"] * 2
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("name", ["s.toml", "s.yaml"])
def test_a_number_past_pythons_digit_limit_is_refused_in_one_line(
    tmp_path: Path, name: str
) -> None:
    from prodready.errors import InputError
    from prodready.load.scenario import load_scenario

    scenario = tmp_path / name
    sep = " = " if name.endswith(".toml") else ": "
    scenario.write_text(f"timeout{sep}{'9' * 5000}\n")
    with pytest.raises(InputError, match="a number too long to read"):
        load_scenario(scenario)

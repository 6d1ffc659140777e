"""`prodready load` end to end: exit codes, clean machine output, reports, Ctrl-C, bad input."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.load.conftest import CLI_ENTRY, run_cli

pytestmark = pytest.mark.slow


def test_slo_pass_exits_0_and_prints_a_summary(target) -> None:
    url = target()
    done = run_cli(url + "/", "-d", "1s", "-c", "4", "-w", "1", "--slo", "p99<5s,errors<1%")

    assert done.returncode == 0, done.stderr
    assert "latency" in done.stdout
    assert "p99<5s" in done.stdout
    assert "pass" in done.stdout
    assert done.stderr == ""


def test_slo_failure_exits_1(target) -> None:
    url = target()
    done = run_cli(url + "/status/500", "-n", "40", "-c", "2", "--slo", "errors<1%")

    assert done.returncode == 1
    assert "FAIL" in done.stdout


def test_json_on_stdout_is_clean_and_complete(target) -> None:
    url = target()
    done = run_cli(url + "/", "-n", "200", "-c", "4", "-w", "2", "--slo", "rps>=1", "--json", "-")

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["summary"]["responses"] == 200
    assert sum(report["worker_responses"]) == 200
    assert report["status_codes"] == {"200": 200}
    assert report["slo"]["passed"] is True
    assert report["latency_ms"]["p99"] > 0
    assert report["hdr_histogram_us"]
    assert report["generator"]["suspect"] in (True, False)


def test_the_hdr_histogram_in_the_json_decodes_to_the_same_count(target) -> None:
    from hdrh.histogram import HdrHistogram

    url = target()
    report = json.loads(run_cli(url + "/", "-n", "150", "-c", "3", "-q", "--json", "-").stdout)

    assert HdrHistogram.decode(report["hdr_histogram_us"]).get_total_count() == 150


def test_html_report_is_self_contained(target, tmp_path: Path) -> None:
    url = target()
    page = tmp_path / "report.html"
    done = run_cli(url + "/", "-d", "2s", "--rate", "100", "-q", "--html", str(page))

    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    html = page.read_text()
    assert html.count("<svg") == 4
    assert "Latency over time" in html
    assert "Percentile distribution" in html
    assert "<script" not in html
    assert "http://" not in html.replace(url, "")  # nothing fetched from the network
    assert "https://" not in html


def test_quiet_non_tty_output_is_empty(target) -> None:
    url = target()
    done = run_cli(url + "/", "-n", "50", "-c", "2", "-q")

    assert done.returncode == 0
    assert done.stdout == ""
    assert done.stderr == ""


def test_scenario_mixes_requests_by_weight(target, tmp_path: Path) -> None:
    url = target()
    (tmp_path / "score.json").write_text('{"amount": 120}')
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(
        f'base_url = "{url}"\n'
        'headers = { Authorization = "Bearer test" }\n'
        '[[requests]]\npath = "/home"\nweight = 3\n'
        '[[requests]]\nmethod = "POST"\npath = "/score"\nbody_file = "score.json"\n'
        'headers = { Content-Type = "application/json" }\n'
    )
    done = run_cli("--scenario", str(scenario), "-n", "400", "-c", "4", "-w", "1")

    assert done.returncode == 0, done.stderr
    from tests.load.conftest import read_stats

    stats = read_stats(url)
    assert stats["paths"] == {"/home": 300, "/score": 100}
    assert "by request" in done.stdout
    assert stats["bodies"] == {'{"amount": 120}': 100}


def test_yaml_scenario(target, tmp_path: Path) -> None:
    url = target()
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(
        f"base_url: {url}\nrequests:\n  - path: /a\n    weight: 1\n  - path: /b\n    weight: 1\n"
    )
    done = run_cli("--scenario", str(scenario), "-n", "10", "-c", "1", "-q", "--json", "-")

    assert json.loads(done.stdout)["summary"]["responses"] == 10


def test_ctrl_c_prints_the_partial_result(target) -> None:
    url = target()
    process = subprocess.Popen(
        [sys.executable, str(CLI_ENTRY), "load", url + "/", "-d", "60s", "-c", "2", "-w", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2.5)
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=15)

    assert time.monotonic() - started < 8
    assert process.returncode == 130
    assert "interrupted" in stdout
    assert "latency" in stdout
    assert "Traceback" not in stderr
    assert "interrupted" in stderr


@pytest.mark.parametrize("start_rate", ["100", "1600"])
def test_find_max_lands_near_the_server_capacity(target, start_rate: str) -> None:
    # The server answers 503 beyond 400 requests per second. From 100/s the search climbs,
    # from 1600/s it first has to come down.
    url = target("--limit-rps", "400")
    done = run_cli(
        url + "/", "--find-max", "--slo", "errors<1%", "--rate", start_rate, "-d", "1s",
        "-c", "20", "--json", "-", timeout=120,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert 200 <= report["config"]["rate"] <= 480
    assert report["slo"]["passed"] is True
    assert "highest rate meeting the SLO" in done.stderr


def test_a_second_ctrl_c_aborts_without_a_traceback(target) -> None:
    url = target("--pause-after", "1", "--pause-s", "30")  # every request hangs
    process = subprocess.Popen(
        [sys.executable, str(CLI_ENTRY), "load", url + "/", "-d", "60s", "-c", "2", "-w", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2.0)
    process.send_signal(signal.SIGINT)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=15)

    assert process.returncode == 130
    assert "Traceback" not in stderr


BAD_INPUT = [
    (["not-a-url"], "bad URL"),
    (["ftp://127.0.0.1/"], "bad URL"),
    (["http://127.0.0.1:1/", "--slo", "p95<300"], "latency needs a unit"),
    (["http://127.0.0.1:1/", "--slo", "latency<3ms"], "unknown SLO metric"),
    (["http://127.0.0.1:1/", "--slo", "p99 about 3ms"], "malformed SLO expression"),
    (["http://127.0.0.1:1/", "-d", "ten"], "bad duration"),
    (["http://127.0.0.1:1/", "--rate", "-5"], "bad rate"),
    (["http://127.0.0.1:1/", "-H", "no colon"], "bad header"),
    (["http://127.0.0.1:1/", "--body-file", "/nonexistent/body.json"], "cannot read body file"),
    (["http://127.0.0.1:1/", "--find-max"], "--find-max needs --slo"),
    (["http://127.0.0.1:1/", "--json", "/nonexistent/dir/r.json"], "cannot write"),
    (["--scenario", "/nonexistent/s.toml"], "cannot read scenario"),
    ([], "no URL given"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    done = run_cli(*args)

    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert lines[1].startswith("hint: ")
    assert len(lines) == 2
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ('base_url = "http://127.0.0.1:1"\n[[requests]]\npaht = "/"\n', ".toml", "paht"),
        ('base_url = "http://127.0.0.1:1"\nrequests = []\n', ".toml", "requests"),
        ("base_url = [unclosed\n", ".toml", "bad scenario"),
        ("base_url: http://x\nrequests: [ {path: /a\n", ".yaml", "bad scenario"),
        ('base_url = "http://127.0.0.1:1"\n[[requests]]\npath = "no-slash"\n', ".toml", "path"),
        (
            'base_url = "http://127.0.0.1:1"\n[[requests]]\nbody_file = "missing.json"\n',
            ".toml",
            "cannot read body file",
        ),
        ("base_url = 'http://x'\n", ".json", "unknown scenario format"),
    ],
)
def test_bad_scenario_is_one_line_and_exit_2(
    tmp_path: Path, content: str, suffix: str, message: str
) -> None:
    scenario = tmp_path / f"scenario{suffix}"
    scenario.write_text(content)
    done = run_cli("--scenario", str(scenario))

    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert message in done.stderr.splitlines()[0]
    assert "Traceback" not in done.stderr


def test_live_progress_goes_to_the_terminal_and_json_stays_clean(target) -> None:
    # stderr is a terminal (a pty), stdout a pipe: progress is drawn, the JSON is untouched.
    import os
    import pty

    url = target()
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, str(CLI_ENTRY), "load", url + "/", "-d", "2.5s", "-c", "2", "-w", "1",
         "--json", "-"],
        stdout=subprocess.PIPE,
        stderr=terminal,
        env={**os.environ, "TERM": "xterm", "COLUMNS": "120"},
    )  # fmt: skip
    os.close(terminal)
    drawn = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        drawn += chunk
    stdout, _ = process.communicate(timeout=30)
    os.close(controller)

    assert process.returncode == 0
    assert json.loads(stdout)["summary"]["responses"] > 0
    assert b"rps" in drawn and b"p99" in drawn  # the live line
    assert b"latency" in drawn  # the summary moved to stderr


def test_without_slo_a_run_where_nothing_succeeded_exits_1(tmp_path: Path) -> None:
    """The default gate: every connection refused is a failed run, not a quiet exit 0."""
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        done = run_cli(f"http://127.0.0.1:{port}/", "-n", "20", "-c", "2", "--json", "-")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["summary"]["responses"] == 0
    assert report["slo"]["default_gate"] is True and report["slo"]["passed"] is False
    shown = run_cli(f"http://127.0.0.1:{port}/", "-n", "20", "-c", "2")
    assert shown.returncode == 1
    assert "FAILED the default gate: ok>=1 (0), errors<=50% (100.000%)" in shown.stdout


def test_without_slo_mostly_http_errors_exit_1_and_a_healthy_run_exits_0(target) -> None:
    url = target()
    failing = run_cli(url + "/status/503", "-n", "40", "-c", "2")
    assert failing.returncode == 1
    assert "FAILED the default gate: ok>=1 (0), errors<=50% (100.000%)" in failing.stdout
    healthy = run_cli(url + "/", "-n", "40", "-c", "2")
    assert healthy.returncode == 0, healthy.stdout
    assert "default gate passed (ok>=1,errors<=50%)" in healthy.stdout
    # --slo replaces the default gate: 100 % errors pass an objective that allows them.
    replaced = run_cli(url + "/status/503", "-n", "40", "-c", "2", "--slo", "errors<=100%")
    assert replaced.returncode == 0 and "default gate" not in replaced.stdout


def test_an_ordinary_run_is_not_suspect(target) -> None:
    """A generator that mostly sleeps is not the bottleneck, even when the busy machine runs
    its event loop a few milliseconds late."""
    url = target()
    done = run_cli(url + "/", "--rate", "200", "-d", "2s", "-w", "1", "--json", "-")
    generator = json.loads(done.stdout)["generator"]
    assert generator["cpu_demand_percent_max"] is not None  # measured on Linux
    assert generator["suspect"] is False, generator
    assert "SUSPECT" not in done.stderr


@pytest.fixture
def cpu_quota_cgroup() -> Iterator[Callable[[float], Path]]:
    """A real cgroup with a CPU quota (as docker --cpus or systemd CPUQuota= set one), below
    this process's own; removed at the end."""
    from prodready.project.cpus import CGROUP_ROOT, OWN_CGROUPS, cgroup_dirs

    made: list[Path] = []

    def make(cpus: float) -> Path:
        parent = cgroup_dirs("cpu", CGROUP_ROOT, OWN_CGROUPS)[0]
        group = parent / f"prodready-test-{os.getpid()}-{len(made)}"
        period = 100_000
        try:
            group.mkdir()
            made.append(group)
            if (group / "cpu.max").exists():
                (group / "cpu.max").write_text(f"{int(cpus * period)} {period}\n")
            else:
                (group / "cpu.cfs_period_us").write_text(f"{period}\n")
                (group / "cpu.cfs_quota_us").write_text(f"{int(cpus * period)}\n")
        except OSError as error:
            pytest.skip(f"needs a cgroup CPU controller this user may write ({error})")
        return group

    yield make
    for group in made:
        group.rmdir()


def test_a_generator_held_by_its_cgroup_cpu_quota_is_suspect(target, cpu_quota_cgroup) -> None:
    """The generator gets 10 % of a CPU and is asked for 3000 req/s: it cannot keep up (the
    kernel throttled it in every period, measured), and the run says so, with the advice that
    fits. Not 5 %: Python's start-up alone then takes 20-50 s on a busy shared host."""
    url = target()
    group = cpu_quota_cgroup(0.10)

    def join_the_group() -> None:
        (group / "cgroup.procs").write_text(f"{os.getpid()}\n")

    done = subprocess.run(
        [sys.executable, str(CLI_ENTRY), "load", url + "/", "--rate", "3000", "-d", "3s",
         "-w", "1", "--json", "-"],
        capture_output=True, text=True, timeout=120, preexec_fn=join_the_group,
    )  # fmt: skip
    generator = json.loads(done.stdout)["generator"]

    assert generator["cpu_quota_percent"] == 10.0
    assert generator["cpu_quota_throttled_percent"] >= 50, generator
    assert generator["suspect"] is True, generator
    assert any("cgroup's CPU quota" in reason for reason in generator["suspect_reasons"])
    assert "CPU quota" in generator["advice"]
    assert "SUSPECT" in done.stderr

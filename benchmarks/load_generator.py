"""How much CPU does each load generator spend per request? prodready load vs wrk, hey, ab, locust.

One fast target on loopback (nginx returning a small body, temporary config, free port),
then, interleaved round after round, each tool loads it with the same number of connections
for the same time. A tool's cost is the user + system CPU of its whole process tree
(`os.wait4` on the tool's process includes every descendant it waited for), divided by the
responses it reports. The machine is shared, so only ratios measured in the same run count.

    python benchmarks/load_generator.py [--seconds 10] [--rounds 2] [--connections 50]

prodready runs with one worker process (`-w 1`) and full recording (HDR histogram, per-second
timeline, JSON report), against wrk with one thread (`-t1`): one core each. The last line holds
the headline figures as name=value pairs.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}; proxy_temp_path {dir}; fastcgi_temp_path {dir};
    uwsgi_temp_path {dir}; scgi_temp_path {dir};
    keepalive_requests 100000000;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "hello\\n"; }}
    }}
}}
"""

LOCUSTFILE = """
from locust import FastHttpUser, constant, task


class Hammer(FastHttpUser):
    wait_time = constant(0)

    @task
    def index(self):
        self.client.get("/")
"""


@dataclass
class Tool:
    name: str
    command: Callable[[str, int, int, Path], list[str]]
    # Reads the number of successful responses from stdout and the work directory.
    responses: Callable[[str, Path], int]


@dataclass
class Tally:
    cpu_s: float = 0.0
    responses: int = 0
    wall_s: float = 0.0

    @property
    def us_per_request(self) -> float:
        return self.cpu_s / self.responses * 1e6 if self.responses else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_nginx(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    for _ in range(5):
        port = free_port()
        conf = directory / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=directory, port=port))
        process = subprocess.Popen(["nginx", "-p", str(directory), "-c", str(conf)])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return process, f"http://127.0.0.1:{port}/"
            except OSError:
                time.sleep(0.05)
        process.terminate()
        process.wait()
    sys.exit("nginx did not start")


def prodready_command(url: str, seconds: int, connections: int, work: Path) -> list[str]:
    prodready = Path(sys.executable).with_name("prodready")
    return [
        str(prodready), "load", url, "-c", str(connections), "-d", f"{seconds}s", "-w", "1",
        "-q", "--json", str(work / "prodready.json"),
    ]  # fmt: skip


def prodready_responses(stdout: str, work: Path) -> int:
    report = json.loads((work / "prodready.json").read_text())
    return int(report["status_codes"].get("200", 0))


def wrk_responses(stdout: str, work: Path) -> int:
    total = int(re.search(r"(\d+) requests in", stdout).group(1))  # type: ignore[union-attr]
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", stdout)
    return total - (int(failed.group(1)) if failed else 0)


def hey_responses(stdout: str, work: Path) -> int:
    return int(re.search(r"\[200\]\s+(\d+) responses", stdout).group(1))  # type: ignore[union-attr]


def ab_responses(stdout: str, work: Path) -> int:
    complete = int(re.search(r"Complete requests:\s+(\d+)", stdout).group(1))  # type: ignore[union-attr]
    failed = int(re.search(r"Failed requests:\s+(\d+)", stdout).group(1))  # type: ignore[union-attr]
    return complete - failed


def locust_command(url: str, seconds: int, connections: int, work: Path) -> list[str]:
    """Headless, one process, FastHttpUser without wait time: locust at its fastest."""
    return [
        str(Path(sys.executable).with_name("locust")), "-f", str(work / "locustfile.py"),
        "--headless", "-u", str(connections), "-r", str(connections), "-t", f"{seconds}s",
        "--host", url.rstrip("/"), "--only-summary", "--csv", str(work / "locust"),
        "--loglevel", "ERROR",
    ]  # fmt: skip


def locust_responses(stdout: str, work: Path) -> int:
    with open(work / "locust_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == "Aggregated":
                return int(row["Request Count"]) - int(row["Failure Count"])
    return 0


def startup_probe_command(url: str, seconds: int, connections: int, work: Path) -> list[str]:
    """One request: what a `prodready load` run costs before and after its requests."""
    prodready = Path(sys.executable).with_name("prodready")
    return [str(prodready), "load", url, "-n", "1", "-w", "1", "-q"]


STARTUP_PROBE = Tool("prodready-startup", startup_probe_command, lambda stdout, work: 1)

TOOLS = [
    Tool("prodready", prodready_command, prodready_responses),
    Tool(
        "wrk",
        lambda url, s, c, work: ["wrk", "-t1", f"-c{c}", f"-d{s}s", url],
        wrk_responses,
    ),
    Tool("hey", lambda url, s, c, work: ["hey", "-c", str(c), "-z", f"{s}s", url], hey_responses),
    Tool(
        "ab",
        lambda url, s, c, work: [
            "ab",
            "-k",
            "-q",
            "-c",
            str(c),
            "-t",
            str(s),
            "-n",
            "100000000",
            url,
        ],
        ab_responses,
    ),
    Tool("locust", locust_command, locust_responses),
]


def measure(tool: Tool, url: str, seconds: int, connections: int, work: Path) -> Tally:
    """Runs one tool once; its CPU is that of its whole process tree, from os.wait4."""
    with tempfile.TemporaryFile("w+") as stdout:
        started = time.monotonic()
        process = subprocess.Popen(
            tool.command(url, seconds, connections, work),
            stdout=stdout,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        stdout.seek(0)
        output = stdout.read()
    return Tally(usage.ru_utime + usage.ru_stime, tool.responses(output, work), wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    missing = [name for name in ("nginx", "wrk", "hey", "ab") if shutil.which(name) is None]
    if missing:
        sys.exit(f"missing tools: {', '.join(missing)} (scripts/ensure-system-deps.sh)")

    with tempfile.TemporaryDirectory(prefix="prodready-bench-") as tmp:
        work = Path(tmp)
        (work / "locustfile.py").write_text(LOCUSTFILE)
        nginx, url = start_nginx(work)
        tallies = {tool.name: Tally() for tool in TOOLS}
        startup = Tally()
        try:
            for round_number in range(1, args.rounds + 1):
                one = measure(STARTUP_PROBE, url, args.seconds, args.connections, work)
                startup.cpu_s += one.cpu_s
                startup.responses += 1
                for tool in TOOLS:
                    tally = measure(tool, url, args.seconds, args.connections, work)
                    print(
                        f"round {round_number} {tool.name:<9} {tally.responses:>9,} responses "
                        f"{tally.responses / args.seconds:>10,.0f}/s  cpu {tally.cpu_s:6.2f} s  "
                        f"{tally.us_per_request:6.2f} us/request",
                        flush=True,
                    )
                    total = tallies[tool.name]
                    total.cpu_s += tally.cpu_s
                    total.responses += tally.responses
                    total.wall_s += tally.wall_s
        finally:
            nginx.terminate()
            nginx.wait()

    wrk = tallies["wrk"].us_per_request
    prodready = tallies["prodready"].us_per_request
    print(f"\n{args.connections} connections, {args.seconds} s x {args.rounds} rounds, interleaved")
    print(f"{'tool':<10}{'us/request':>12}{'x wrk':>8}{'x prodready':>13}")
    for name, tally in tallies.items():
        us = tally.us_per_request
        print(f"{name:<10}{us:>12.2f}{us / wrk:>8.2f}{us / prodready:>13.2f}")
    figures = {f"{name}_us_per_req": f"{t.us_per_request:.2f}" for name, t in tallies.items()}
    figures["ratio_vs_wrk"] = f"{prodready / wrk:.2f}"
    figures["locust_over_prodready"] = f"{tallies['locust'].us_per_request / prodready:.1f}"
    # Context, not a headline: the fixed CPU of one `prodready load` run (interpreter, CLI
    # imports, worker start and exit), measured with a one-request run each round.
    fixed_s = startup.cpu_s / startup.responses
    steady = (tallies["prodready"].cpu_s - fixed_s * args.rounds) / tallies["prodready"].responses
    print(
        f"prodready fixed cost per run {fixed_s:.2f} s of CPU; without it "
        f"{steady * 1e6:.2f} us/request ({steady * 1e6 / wrk:.2f} x wrk)"
    )
    figures["prodready_fixed_cpu_s"] = f"{fixed_s:.2f}"
    print(" ".join(f"{name}={value}" for name, value in figures.items()))


if __name__ == "__main__":
    main()

"""`prodready serve` against the ways people run a Flask app, on examples/riskapi, in one run.

Servers: the `app.run()` dev server, plain `gunicorn app:app`, the usual recipe
`gunicorn -w 2*CPU+1`, `prodready serve` (Gunicorn, the default) and
`prodready serve --server granian` (prodready_granian). Routes: /api/ping (CPU-light) and
/api/lookup (waits 50 ms).
Each measurement is wrk with 50 connections for a few seconds; the servers all run for the
whole benchmark and the measurements are interleaved (round after round over every server and
route), so a busy neighbour on the machine slows every server alike. The median of the rounds
is reported.

The I/O route's ceiling is Little's law: 50 connections / 50 ms = 1,000 requests per second.
The last line holds the headline figures as name=value pairs.

    python benchmarks/serve_vs_dev.py [--duration 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RISKAPI = REPO / "examples" / "riskapi"
BIN = Path(sys.executable).parent
CONNECTIONS = 50
IO_WAIT_S = 0.050
LITTLES_LAW_RPS = CONNECTIONS / IO_WAIT_S
ROUTES = {"light": "/api/ping", "io": "/api/lookup"}


@dataclass
class Result:
    rps: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def median_rps(self) -> float:
        return statistics.median(self.rps) if self.rps else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def commands(port: int, cpus: int) -> dict[str, list[str]]:
    bind = f"127.0.0.1:{port}"
    gunicorn = str(BIN / "gunicorn")
    prodready = str(BIN / "prodready")
    dev = f"from app import app; app.run(host='127.0.0.1', port={port})"
    return {
        "dev": [sys.executable, "-c", dev],
        "gunicorn": [gunicorn, "-b", bind, "app:app"],
        "recipe": [gunicorn, "-b", bind, "-w", str(2 * cpus + 1), "app:app"],
        "prodready": [prodready, "serve", "app:app", "--bind", bind],
        "prodready_granian": [prodready, "serve", "app:app", "--bind", bind, "--server", "granian"],
    }


class Server:
    def __init__(self, name: str, argv: list[str], port: int):
        self.name, self.port = name, port
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            argv, cwd=RISKAPI, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.base + ROUTES["light"], timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"{self.name} did not answer within {timeout_s:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wrk(url: str, duration_s: float, threads: int) -> tuple[float, int]:
    """(requests per second, failed requests: socket errors + non-2xx/3xx answers)."""
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{CONNECTIONS}", f"-d{duration_s:g}s", "--timeout", "5s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = 0
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        errors += int(non_2xx.group(1))
    return rps, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="median of this many")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    from prodready.project.cpus import usable_cpus

    cpus = usable_cpus()
    servers = [Server(name, argv, port) for name, argv, port in _all_commands(cpus)]
    results = {(s.name, route): Result() for s in servers for route in ROUTES}
    try:
        for server in servers:
            server.wait_ready()
        print(f"riskapi on {cpus} usable CPUs, {CONNECTIONS} connections, wrk -t{cpus}")
        for round_number in range(1, args.rounds + 1):
            for route, path in ROUTES.items():
                for server in servers:
                    rps, errors = wrk(server.base + path, args.duration, cpus)
                    result = results[(server.name, route)]
                    result.rps.append(rps)
                    result.errors += errors
                    print(
                        f"round {round_number} {route:5} {server.name:17} {rps:9.1f} rps "
                        f"{errors:6d} errors",
                        flush=True,
                    )
    finally:
        for server in servers:
            server.stop()
    _report(results, [s.name for s in servers])


def _all_commands(cpus: int) -> list[tuple[str, list[str], int]]:
    """Each server's name, command line and its own free port."""
    ports = {name: free_port() for name in commands(0, cpus)}
    return [(name, commands(port, cpus)[name], port) for name, port in ports.items()]


def _report(results: dict[tuple[str, str], Result], names: list[str]) -> None:
    print()
    print(
        f"{'server':10} {'light rps':>10} {'errors':>7} {'io rps':>9} {'errors':>7} "
        f"{'light/dev':>9} {'io/limit':>8}"
    )
    dev_light = results[("dev", "light")].median_rps or 1.0
    headline: dict[str, str] = {}
    for name in names:
        light, io = results[(name, "light")], results[(name, "io")]
        light_ratio = light.median_rps / dev_light
        io_ratio = io.median_rps / LITTLES_LAW_RPS
        print(
            f"{name:17} {light.median_rps:10.1f} {light.errors:7d} {io.median_rps:9.1f} "
            f"{io.errors:7d} {light_ratio:9.2f} {io_ratio:8.3f}"
        )
        if name != "dev":
            headline[f"{name}_light_over_dev"] = f"{light_ratio:.2f}"
            headline[f"{name}_io_over_littles_law"] = f"{io_ratio:.3f}"
            headline[f"{name}_errors"] = str(light.errors + io.errors)
    headline["dev_light_rps"] = f"{dev_light:.0f}"
    headline["dev_io_rps"] = f"{results[('dev', 'io')].median_rps:.0f}"
    print()
    print(" ".join(f"{key}={value}" for key, value in headline.items()))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()

"""Idle connections against `prodready serve` and plain Gunicorn gthread, in one run.

Both serve examples/riskapi with the same workers and threads (prodready's plan: CPUs + 1
workers x 4 threads); the only difference is the worker class. For each count of sockets that
connect and send nothing (0, 12, 50, 200), a real request to /api/ping is timed a few times
while they are open, alternating between the servers. A request that gets no answer within
CAP_S counts as CAP_S (so the gthread figure is a lower bound).

Headline (last line, name=value): the median latency of a real request with 200 idle
sockets open, each server, and their ratio.

    python benchmarks/idle_connections.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RISKAPI = REPO / "examples" / "riskapi"
BIN = Path(sys.executable).parent
IDLE_COUNTS = (0, 12, 50, 200)
CAP_S = 10.0
THREADS = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(name: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    bind = f"127.0.0.1:{port}"
    common = ["--workers", str(workers), "--threads", str(THREADS)]
    argv = {
        "prodready": [str(BIN / "prodready"), "serve", "app:app", "--bind", bind, *common],
        "gthread": [
            str(BIN / "gunicorn"), "-b", bind, "-k", "gthread", "--keep-alive", "5", *common,
            "app:app",
        ],
    }[name]  # fmt: skip
    process = subprocess.Popen(
        argv, cwd=RISKAPI, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/ping", timeout=2).read()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{name} did not start")


def timed_request(port: int) -> float:
    started = time.monotonic()
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/ping", timeout=CAP_S).read()
    except OSError:
        return CAP_S
    return min(time.monotonic() - started, CAP_S)


def with_idle(port: int, count: int) -> float:
    """Median of three requests while `count` idle sockets are open (fresh ones each time)."""
    idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
    try:
        time.sleep(0.3)
        return statistics.median(timed_request(port) for _ in range(3))
    finally:
        for sock in idle:
            sock.close()
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    workers = (len(os.sched_getaffinity(0)) or 1) + 1
    ports = {name: free_port() for name in ("prodready", "gthread")}
    processes = {name: start(name, port, workers) for name, port in ports.items()}
    results: dict[tuple[str, int], list[float]] = {}
    try:
        for _ in range(args.rounds):
            for count in IDLE_COUNTS:
                for name, port in ports.items():
                    results.setdefault((name, count), []).append(with_idle(port, count))
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    print(f"{workers} workers x {THREADS} threads; ms per real request (median), cap {CAP_S} s")
    for count in IDLE_COUNTS:
        row = "  ".join(
            f"{name}={statistics.median(results[(name, count)]) * 1000:9.1f}" for name in ports
        )
        print(f"idle={count:4d}  {row}")
    ours = statistics.median(results[("prodready", 200)]) * 1000
    theirs = statistics.median(results[("gthread", 200)]) * 1000
    print(
        f"prodready_ms_at_200_idle={ours:.1f} gthread_ms_at_200_idle={theirs:.1f} "
        f"gthread_over_prodready={theirs / ours:.0f}"
    )


if __name__ == "__main__":
    main()

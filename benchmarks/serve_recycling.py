"""Tail latency while workers recycle: `prodready serve` against Gunicorn's own recycling.

Four servers of examples/riskapi run side by side, all with the plan's workers and threads:
`prodready serve` without recycling (steady) and with `--max-requests 300` (one worker restarts
at a time), and plain Gunicorn with the same workers and threads, without recycling and with
`--max-requests 300 --max-requests-jitter 150` (each worker on its own). Each measurement is
prodready's open-model load (a constant rate, so a stall shows as latency, not as fewer
requests) on /api/ping; rounds are interleaved over the servers so a busy neighbour slows them
alike, and the median of the rounds' p99.9 is reported.

The last line holds the headline figures: each server's p99.9 while recycling over its own
steady p99.9 (the issue's target: within 2x), and the worst single request while recycling
over the same steady p99.9.

    python benchmarks/serve_recycling.py [--rate 200] [--duration 8] [--rounds 3]
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
ROUTE = "/api/ping"
MAX_REQUESTS = 300
NEVER = 10_000_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def commands(workers: int, threads: int) -> dict[str, tuple[list[str], int]]:
    prodready, gunicorn = str(BIN / "prodready"), str(BIN / "gunicorn")
    servers: dict[str, tuple[list[str], int]] = {}
    for name, max_requests in (("steady", NEVER), ("recycling", MAX_REQUESTS)):
        port = free_port()
        servers[f"prodready_{name}"] = (
            [prodready, "serve", "app:app", "--bind", f"127.0.0.1:{port}",
             "--pid", f"/tmp/prodready-bench-{port}.pid", "--max-requests", str(max_requests)],
            port,
        )  # fmt: skip
        port = free_port()
        servers[f"gunicorn_{name}"] = (
            [gunicorn, "-b", f"127.0.0.1:{port}", "-k", "gthread", "-w", str(workers),
             "--threads", str(threads), "--max-requests", str(max_requests),
             "--max-requests-jitter", str(max_requests // 2), "app:app"],
            port,
        )  # fmt: skip
    return servers


class Server:
    def __init__(self, name: str, argv: list[str], port: int):
        self.name, self.base = name, f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            argv, cwd=RISKAPI, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.base + ROUTE, timeout=2):
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


def plan_workers_and_threads() -> tuple[int, int]:
    from prodready.serve import Overrides, prepare

    plan = prepare(RISKAPI, Overrides(target="app:app"))
    return plan["workers"], plan["threads"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from prodready.load import run

    workers, threads = plan_workers_and_threads()
    print(f"{workers} workers x {threads} threads; {args.rate:g} rps for {args.duration:g} s, "
          f"{args.rounds} rounds; max_requests {MAX_REQUESTS}", flush=True)  # fmt: skip
    servers = [Server(name, *command) for name, command in commands(workers, threads).items()]
    p999: dict[str, list[float]] = {s.name: [] for s in servers}
    worst: dict[str, float] = {s.name: 0.0 for s in servers}
    errors: dict[str, int] = {s.name: 0 for s in servers}
    try:
        for server in servers:
            server.wait_ready()
        for round_number in range(1, args.rounds + 1):
            for server in servers:
                result = run(server.base + ROUTE, rate=args.rate, duration=args.duration,
                             timeout=10)  # fmt: skip
                histogram = result.histogram
                p999[server.name].append(histogram.get_value_at_percentile(99.9) / 1000)
                worst[server.name] = max(worst[server.name], histogram.get_max_value() / 1000)
                errors[server.name] += sum(result.transport_errors.values()) + sum(
                    n for status, n in result.status_counts.items() if status >= 400
                )
                shown = p999[server.name][-1]
                print(f"round {round_number} {server.name:20} p99.9 {shown:8.1f} ms", flush=True)
    finally:
        for server in servers:
            server.stop()
    median = {name: statistics.median(values) for name, values in p999.items()}
    print()
    print(f"{'server':20} {'p99.9 ms':>9} {'max ms':>8} {'errors':>7}")
    for name in p999:
        print(f"{name:20} {median[name]:9.1f} {worst[name]:8.1f} {errors[name]:7d}")
    figures = []
    for peer in ("prodready", "gunicorn"):
        ratio = median[f"{peer}_recycling"] / median[f"{peer}_steady"]
        figures += [
            f"{peer}_recycling_p999_over_steady={ratio:.2f}",
            f"{peer}_recycling_max_over_steady_p999="
            f"{worst[f'{peer}_recycling'] / median[f'{peer}_steady']:.1f}",
            f"{peer}_recycling_errors={errors[f'{peer}_recycling']}",
        ]
    print()
    print(" ".join(figures))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()

"""SSE streams: prodready.runtime.streams against sse-starlette, in one run, on 127.0.0.1.

1. Capacity on one ASGI worker (uvicorn, one process), interleaved per round: a FastAPI app
   answering `prod.stream(...).response(key)` and one answering sse-starlette's
   EventSourceResponse, both with a 1 s heartbeat; `prodready load --sse N` holds N idle
   streams on each. RSS per stream = (server RSS with N open - RSS before) / N; CPU per
   heartbeat round = the server's CPU time over a quiet window / heartbeats in it.
2. Fan-out via Redis across 3 workers (gunicorn + uvicorn workers): a publisher process sends
   events stamped with `sent_at` to S subscribers; `load --sse` gives delivery p99.
   (sse-starlette has no broker: prodready only.)
3. Lost events across `prodready reload`: `prodready serve` (2 gthread workers, Flask, Redis),
   `load --sse` subscribers, a publisher, and `prodready reload` mid-way; lost = expected
   deliveries - distinct deliveries, by the events' sequence numbers.
4. Flask under gthread: streams one worker holds at once (`--threads` = the target), each
   getting live events.

Default (scaled for 2 shared CPUs, ~2 min): 2,000 idle streams, 200 subscribers at 50
events/s, 500 Flask streams. Full size (the issue's): `--streams 10000 --subscribers 1000
--rate 1000`. The last line:

    rss_kib_per_stream=... sse_starlette_rss_kib_per_stream=... fanout_p99_ms=...
    lost_events_across_reload=... flask_streams_per_worker=...

    .venv/bin/python benchmarks/streams.py [--streams 2000] [--rounds 1] [--subscribers 200]
        [--rate 50] [--flask-streams 500]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

PYTHON = sys.executable
PRODREADY = str(Path(PYTHON).parent / "prodready")
REDIS_URL = "redis://127.0.0.1:6379/0"
TICKS = os.sysconf("SC_CLK_TCK")
HEARTBEAT_S = 1.0

PRODREADY_APP = """
import os
from fastapi import FastAPI
from prodready.runtime import Production

app = FastAPI()
prod = Production(app, access_log=False)
reports = prod.stream(
    "reports", broker=os.environ.get("STREAM_BROKER", "memory"),
    key_prefix=os.environ.get("STREAM_PREFIX", "prodready:sse:"),
    heartbeat=float(os.environ.get("HEARTBEAT", "15")),
)


@app.get("/events/{key}")
async def events(key: str):
    return reports.response(key)
"""

PEER_APP = """
import asyncio
import os
from fastapi import FastAPI
from sse_starlette.sse import EventSourceResponse

app = FastAPI()


async def nothing_yet():
    while True:
        await asyncio.sleep(3600)
        yield {"data": "x"}


@app.get("/events/{key}")
async def events(key: str):
    return EventSourceResponse(nothing_yet(), ping=int(float(os.environ["HEARTBEAT"])))


@app.get("/health/live")
async def live():
    return {"ok": True}
"""

FLASK_APP = """
import os
from flask import Flask
from prodready.runtime import Production

app = Flask(__name__)
prod = Production(app, access_log=False)
reports = prod.stream(
    "reports", broker=os.environ["STREAM_BROKER"], key_prefix=os.environ["STREAM_PREFIX"],
)


@app.get("/events/<key>")
def events(key):
    return reports.response(key)
"""

PUBLISHER = """
import sys, time
from prodready.runtime.streams import Stream
prefix, key, rate, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
stream = Stream("reports", broker=BROKER, key_prefix=prefix, ttl=300)
start = time.perf_counter()
for n in range(int(rate * seconds)):
    delay = start + n / rate - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
    stream.publish(key, {"n": n, "sent_at": time.time()}, event="tick")
""".replace("BROKER", repr(REDIS_URL))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_http(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {process.args}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def start(argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            argv, cwd=cwd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def load_sse(url: str, streams: int, seconds: float) -> subprocess.Popen:
    argv = [PRODREADY, "load", "--sse", str(streams), url, "-d", f"{seconds}s", "--json", "-"]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def report_of(loading: subprocess.Popen) -> dict:
    output, _ = loading.communicate(timeout=300)
    return json.loads(output)


def publisher(prefix: str, key: str, rate: float, seconds: float) -> subprocess.Popen:
    return subprocess.Popen([PYTHON, "-c", PUBLISHER, prefix, key, str(rate), str(seconds)])


def capacity(kind: str, work: Path, streams: int) -> tuple[float, float]:
    """(RSS KiB per idle stream, CPU ms per heartbeat round) of one uvicorn process."""
    port = free_port()
    module = "prodready_app" if kind == "prodready" else "peer_app"
    argv = [
        PYTHON,
        "-m",
        "uvicorn",
        f"{module}:app",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--timeout-graceful-shutdown",
        "5",
    ]
    env = {"HEARTBEAT": str(HEARTBEAT_S)}
    server = start(argv, work, env, work / f"{kind}.log")
    try:
        wait_http(f"http://127.0.0.1:{port}/health/live", server)
        # A few streams first, so what either app imports or builds on its first stream is
        # not counted as per-stream memory.
        load_sse(f"http://127.0.0.1:{port}/events/warm", 20, 2).wait(timeout=60)
        time.sleep(1)
        base_rss, base_fds = rss_kib(server.pid), open_fds(server.pid)
        loading = load_sse(f"http://127.0.0.1:{port}/events/idle", streams, 300)
        deadline = time.monotonic() + 120
        while open_fds(server.pid) < base_fds + streams and time.monotonic() < deadline:
            time.sleep(0.25)
        opened = open_fds(server.pid) - base_fds
        time.sleep(2 * HEARTBEAT_S)  # every stream past its first heartbeat
        rss = rss_kib(server.pid)
        window = 5.0
        cpu_before = cpu_s(server.pid)
        time.sleep(window)
        cpu = cpu_s(server.pid) - cpu_before
        loading.send_signal(signal.SIGTERM)
        loading.wait(timeout=30)
        if opened < streams:
            print(f"  {kind}: only {opened} of {streams} streams opened", file=sys.stderr)
        per_stream = (rss - base_rss) / max(opened, 1)
        per_round_ms = cpu * 1000 / (window / HEARTBEAT_S)
        print(
            f"  {kind}: {opened} streams, {per_stream:.1f} KiB/stream, "
            f"{per_round_ms:.1f} ms CPU per heartbeat round",
            file=sys.stderr,
        )
        return per_stream, per_round_ms
    finally:
        stop(server)


def fanout(work: Path, subscribers: int, rate: float) -> float:
    prefix = f"prodready-bench:{uuid.uuid4().hex}:"
    port = free_port()
    argv = [
        PYTHON,
        "-m",
        "gunicorn",
        "prodready_app:app",
        "-k",
        "uvicorn_worker.UvicornWorker",
        "-w",
        "3",
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    env = {"STREAM_BROKER": REDIS_URL, "STREAM_PREFIX": prefix, "HEARTBEAT": "15"}
    server = start(argv, work, env, work / "fanout.log")
    try:
        wait_http(f"http://127.0.0.1:{port}/health/live", server)
        seconds = 8.0
        loading = load_sse(f"http://127.0.0.1:{port}/events/fan", subscribers, seconds + 6)
        time.sleep(3)  # subscribers connected before the first event
        source = publisher(prefix, "fan", rate, seconds)
        source.wait(timeout=120)
        report = report_of(loading)
        p99 = report["latency_ms"].get("p99", 0.0)
        print(
            f"  fan-out: {report['max_open']} subscribers on 3 workers, {report['events']} "
            f"deliveries, p50 {report['latency_ms'].get('p50', 0):.1f} ms, p99 {p99:.1f} ms, "
            f"gaps {report['gaps']}, duplicates {report['duplicates']}",
            file=sys.stderr,
        )
        return p99
    finally:
        stop(server)
        _forget(prefix)


def reload_loss(work: Path) -> tuple[int, int]:
    """(lost deliveries, duplicates) across `prodready reload`."""
    prefix = f"prodready-bench:{uuid.uuid4().hex}:"
    port, pidfile = free_port(), work / "serve.pid"
    argv = [
        PRODREADY,
        "serve",
        "flask_app:app",
        "--dir",
        str(work),
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        "2",
        "--threads",
        "64",
        "--pid",
        str(pidfile),
        "--log-format",
        "json",
    ]
    env = {"STREAM_BROKER": REDIS_URL, "STREAM_PREFIX": prefix}
    server = start(argv, work, env, work / "serve.log")
    try:
        wait_http(f"http://127.0.0.1:{port}/health/live", server)
        subscribers, rate, seconds = 40, 50.0, 8.0
        loading = load_sse(f"http://127.0.0.1:{port}/events/rl", subscribers, seconds + 8)
        time.sleep(3)
        source = publisher(prefix, "rl", rate, seconds)
        time.sleep(seconds / 2)
        subprocess.run(
            [PRODREADY, "reload", "--pid", str(pidfile), "--quiet"], check=True, timeout=120
        )
        source.wait(timeout=120)
        report = report_of(loading)
        expected = subscribers * int(rate * seconds)
        distinct = report["events"] - report["duplicates"]
        lost = expected - distinct
        print(
            f"  reload: {report['reconnects']} reconnects, {distinct} of {expected} events, "
            f"{report['duplicates']} duplicates",
            file=sys.stderr,
        )
        return lost, report["duplicates"]
    finally:
        stop(server)
        _forget(prefix)


def flask_streams(work: Path, streams: int) -> int:
    prefix = f"prodready-bench:{uuid.uuid4().hex}:"
    port = free_port()
    argv = [
        PYTHON,
        "-m",
        "gunicorn",
        "flask_app:app",
        "-k",
        "gthread",
        "--threads",
        str(streams),
        "-w",
        "1",
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    server = start(
        argv, work, {"STREAM_BROKER": REDIS_URL, "STREAM_PREFIX": prefix}, work / "flask.log"
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/health/live", server)
        loading = load_sse(f"http://127.0.0.1:{port}/events/fl", streams, 20)
        time.sleep(12)  # all connected (the load engine opens them at once)
        publisher(prefix, "fl", 5, 1).wait(timeout=60)
        report = report_of(loading)
        live = report["events"] // 5
        print(
            f"  flask: {report['max_open']} streams open on one gthread worker, {live} got "
            f"all 5 live events",
            file=sys.stderr,
        )
        return min(report["max_open"], live)
    finally:
        stop(server)
        _forget(prefix)


def _forget(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--flask-streams", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-streams-") as tmp:
        work = Path(tmp)
        (work / "prodready_app.py").write_text(PRODREADY_APP)
        (work / "peer_app.py").write_text(PEER_APP)
        (work / "flask_app.py").write_text(FLASK_APP)
        ours, theirs, ours_cpu, theirs_cpu = [], [], [], []
        print(f"capacity: {args.streams} idle streams on one uvicorn process", file=sys.stderr)
        for _ in range(args.rounds):
            rss, cpu = capacity("prodready", work, args.streams)
            ours.append(rss)
            ours_cpu.append(cpu)
            rss, cpu = capacity("sse-starlette", work, args.streams)
            theirs.append(rss)
            theirs_cpu.append(cpu)
        print(f"fan-out: {args.subscribers} subscribers, {args.rate:g} events/s", file=sys.stderr)
        p99 = fanout(work, args.subscribers, args.rate)
        print("reload under load", file=sys.stderr)
        lost, duplicates = reload_loss(work)
        print(f"flask: {args.flask_streams} streams on one gthread worker", file=sys.stderr)
        flask = flask_streams(work, args.flask_streams)
    ours_rss, theirs_rss = min(ours), min(theirs)
    print(
        f"cpu_ms_per_heartbeat_round={min(ours_cpu):.1f} "
        f"sse_starlette_cpu_ms_per_heartbeat_round={min(theirs_cpu):.1f} "
        f"duplicates_across_reload={duplicates}"
    )
    print(
        f"rss_kib_per_stream={ours_rss:.1f} sse_starlette_rss_kib_per_stream={theirs_rss:.1f} "
        f"fanout_p99_ms={p99:.1f} lost_events_across_reload={lost} "
        f"flask_streams_per_worker={flask}"
    )


if __name__ == "__main__":
    main()

"""What the prodready.runtime kit costs in throughput, against bare apps and single-purpose peers.

Hello-world FastAPI apps under uvicorn and Flask apps under Gunicorn (gthread), each variant
served the same way (one process), loaded with wrk from loopback, interleaved in rounds (order
shuffled per round) so a busy neighbour affects every variant alike.

Two throughputs per variant, as medians over the rounds, relative to the bare app:
- req/s, what wrk saw. On a machine shared with other work it swings with the neighbours.
- req per server CPU-second (requests / the server's user+system CPU time during the run):
  the throughput the server reaches when a core is its own, so it stays comparable when the
  machine is shared. The headline ratios (last line) use this one: the median over the rounds
  of each round's ratio to the bare app in that round.

    full kit  = Production(app, rate_limit=..., cors_origins=...): metrics + request ID + JSON
                access log (to a file, as stdout would be) + security headers + memory rate
                limit + CORS
    peers     = prometheus-fastapi-instrumentator, starlette-exporter, asgi-correlation-id,
                prometheus-flask-exporter, each alone
    peer stack = what a user assembles for the same jobs without prodready: FastAPI with
                prometheus-fastapi-instrumentator, asgi-correlation-id, secure's middleware,
                slowapi, Starlette's CORSMiddleware and a structlog access line; Flask with
                prometheus-flask-exporter, a request-ID hook, secure, Flask-Limiter, flask-cors
                and a structlog access line
    realistic = a FastAPI handler that awaits a 1 ms sleep and serialises 50 objects from a
                dict, bare and with the full kit: `realistic_kit_cost` is the share of
                throughput per CPU-second the kit takes there

Usage: python benchmarks/runtime_overhead.py [--seconds 3] [--rounds 5] [--only fastapi]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

FASTAPI_HEADER = """
from fastapi import FastAPI
app = FastAPI()

@app.get("/hello")
async def hello():
    return {"hello": "world"}
"""

FLASK_HEADER = """
from flask import Flask
app = Flask(__name__)

@app.get("/hello")
def hello():
    return {"hello": "world"}
"""

REALISTIC_HEADER = """
import asyncio
from fastapi import FastAPI
app = FastAPI()
CATALOGUE = {
    i: {"id": i, "name": f"item {i}", "price": round(i * 1.25, 2), "tags": ["new", "sale"],
        "stock": {"warehouse": i % 7, "store": i % 3}}
    for i in range(50)
}

@app.get("/hello")
async def hello():
    await asyncio.sleep(0.001)
    return {"items": [CATALOGUE[i] for i in range(50)]}
"""

HEADERS = {"fastapi": FASTAPI_HEADER, "flask": FLASK_HEADER, "realistic": REALISTIC_HEADER}

KIT = """
from prodready.runtime import Production
Production(app, rate_limit="100000000/minute", cors_origins=["https://app.example.com"])
"""

STRUCTLOG_ACCESS = """
import sys, time, structlog
structlog.configure(
    processors=[structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso"),
                structlog.processors.JSONRenderer()],
    logger_factory=structlog.WriteLoggerFactory(file=sys.stdout),
    cache_logger_on_first_use=True,
)
access = structlog.get_logger("access")
"""

FASTAPI_PEER_STACK = (
    STRUCTLOG_ACCESS
    + """
from asgi_correlation_id import CorrelationIdMiddleware, correlation_id
from fastapi.middleware.cors import CORSMiddleware
from prometheus_fastapi_instrumentator import Instrumentator
from secure.middleware import SecureASGIMiddleware
from slowapi import Limiter, _rate_limit_exceeded_handler
from slowapi.errors import RateLimitExceeded
from slowapi.middleware import SlowAPIMiddleware
from slowapi.util import get_remote_address

class AccessLog:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), 500
        async def send_and_note(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
        try:
            await self.app(scope, receive, send_and_note)
        finally:
            access.info("request", method=scope["method"], path=scope["path"], status=status,
                        duration_ms=round((time.perf_counter() - started) * 1000, 3),
                        request_id=correlation_id.get())

app.state.limiter = Limiter(key_func=get_remote_address, default_limits=["100000000/minute"])
app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)
app.add_middleware(SlowAPIMiddleware)
app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])
app.add_middleware(SecureASGIMiddleware)
app.add_middleware(AccessLog)
app.add_middleware(CorrelationIdMiddleware)
Instrumentator().instrument(app).expose(app)
"""
)

FLASK_PEER_STACK = (
    STRUCTLOG_ACCESS
    + """
import uuid
from flask import g, request
from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from prometheus_flask_exporter import PrometheusMetrics
from secure.middleware import SecureWSGIMiddleware

PrometheusMetrics(app)
CORS(app, origins=["https://app.example.com"])
Limiter(get_remote_address, app=app, default_limits=["100000000/minute"], storage_uri="memory://")

@app.before_request
def begin():
    g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
    g.started = time.perf_counter()

@app.after_request
def finish(response):
    response.headers["X-Request-ID"] = g.request_id
    access.info("request", method=request.method, path=request.path,
                status=response.status_code,
                duration_ms=round((time.perf_counter() - g.started) * 1000, 3),
                request_id=g.request_id)
    return response

app.wsgi_app = SecureWSGIMiddleware(app.wsgi_app)
"""
)

VARIANTS: dict[str, tuple[str, str]] = {
    # name: (framework, code added after the app is defined)
    "fastapi_bare": ("fastapi", ""),
    "fastapi_kit": ("fastapi", KIT),
    "fastapi_instrumentator": (
        "fastapi",
        "from prometheus_fastapi_instrumentator import Instrumentator\n"
        "Instrumentator().instrument(app).expose(app)\n",
    ),
    "fastapi_starlette_exporter": (
        "fastapi",
        "from starlette_exporter import PrometheusMiddleware, handle_metrics\n"
        "app.add_middleware(PrometheusMiddleware)\n"
        "app.add_route('/metrics', handle_metrics)\n",
    ),
    "fastapi_correlation_id": (
        "fastapi",
        "from asgi_correlation_id import CorrelationIdMiddleware\n"
        "app.add_middleware(CorrelationIdMiddleware)\n",
    ),
    "fastapi_peer_stack": ("fastapi", FASTAPI_PEER_STACK),
    "flask_bare": ("flask", ""),
    "flask_kit": ("flask", KIT),
    "flask_exporter": (
        "flask",
        "from prometheus_flask_exporter import PrometheusMetrics\nPrometheusMetrics(app)\n",
    ),
    "flask_peer_stack": ("flask", FLASK_PEER_STACK),
    "realistic_bare": ("realistic", ""),
    "realistic_kit": ("realistic", KIT),
}

RUN_UVICORN = """
import socket, sys, uvicorn
# socket.socket(fileno=...) keeps the TCP family, so asyncio sets TCP_NODELAY (uvicorn --fd
# wraps the descriptor as AF_UNIX, and every response then waits for a delayed ACK).
listener = socket.socket(fileno=int(sys.argv[2]))
config = uvicorn.Config(sys.argv[1], access_log=False, log_level="warning")
uvicorn.Server(config).run(sockets=[listener])
"""

PEERS = {
    "fastapi": ("fastapi_instrumentator", "fastapi_starlette_exporter", "fastapi_correlation_id"),
    "flask": ("flask_exporter",),
    "realistic": (),
}


@dataclass
class Variant:
    name: str
    framework: str
    process: subprocess.Popen[bytes] | None = None
    url: str = ""
    rps: list[float] = field(default_factory=list)
    per_cpu_second: list[float] = field(default_factory=list)


def write_app(directory: Path, variant: Variant, code: str) -> None:
    (directory / f"{variant.name}.py").write_text(HEADERS[variant.framework] + code)


def start(directory: Path, variant: Variant) -> None:
    """Starts the variant's server on a socket bound here (port 0), passed by descriptor."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    listener.set_inheritable(True)
    fd = listener.fileno()
    variant.url = f"http://127.0.0.1:{listener.getsockname()[1]}/hello"
    if variant.framework != "flask":
        argv = [sys.executable, "-c", RUN_UVICORN, f"{variant.name}:app", str(fd)]
    else:
        argv = [sys.executable, "-m", "gunicorn", f"{variant.name}:app", "--bind", f"fd://{fd}",
                "-k", "gthread", "--threads", "8", "--log-level", "warning"]  # fmt: skip
    log = open(directory / f"{variant.name}.log", "wb")  # noqa: SIM115 (closed with the process)
    variant.process = subprocess.Popen(
        argv, cwd=directory, stdout=log, stderr=subprocess.STDOUT, pass_fds=(fd,)
    )
    log.close()
    listener.close()


def wait_until_up(variant: Variant, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(variant.url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{variant.name} did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (Gunicorn's workers)."""
    total = 0.0
    for process in (pid, *_children(pid)):
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def load(variant: Variant, seconds: int, connections: int) -> tuple[float, float]:
    """Runs wrk; returns (requests per second, requests per server CPU-second)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed (make system-deps)")
    assert variant.process is not None
    cpu_before = cpu_seconds(variant.process.pid)
    out = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", variant.url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = cpu_seconds(variant.process.pid) - cpu_before
    if "Non-2xx" in out:
        raise SystemExit(f"{variant.name} answered errors under load:\n{out}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if rps is None or total is None:
        raise SystemExit(f"cannot read wrk output for {variant.name}:\n{out}")
    return float(rps.group(1)), int(total.group(1)) / max(cpu, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", help="comma-separated: fastapi,flask,realistic")
    args = parser.parse_args()
    frameworks = set((args.only or "fastapi,flask,realistic").split(","))
    variants = [Variant(name, fw) for name, (fw, _) in VARIANTS.items() if fw in frameworks]

    with tempfile.TemporaryDirectory(prefix="prodready-bench-") as tmp:
        directory = Path(tmp)
        try:
            for variant in variants:
                write_app(directory, variant, VARIANTS[variant.name][1])
                start(directory, variant)
            for variant in variants:
                wait_until_up(variant)
                load(variant, 1, args.connections)  # warm-up: imports, caches, JIT-less paths
            for round_number in range(1, args.rounds + 1):
                order = random.sample(variants, len(variants))
                for variant in order:
                    rps, per_cpu_second = load(variant, args.seconds, args.connections)
                    variant.rps.append(rps)
                    variant.per_cpu_second.append(per_cpu_second)
                print(f"round {round_number} req/s (req/CPU-s): " + "  ".join(
                    f"{v.name}={v.rps[-1]:.0f} ({v.per_cpu_second[-1]:.0f})"
                    for v in variants))  # fmt: skip
        finally:
            for variant in variants:
                if variant.process is not None:
                    variant.process.terminate()
                    variant.process.wait(timeout=15)

    by_name = {v.name: v for v in variants}
    rps = {v.name: statistics.median(v.rps) for v in variants}
    per_cpu = {v.name: statistics.median(v.per_cpu_second) for v in variants}
    print(f"\n{'variant':<28}{'req/s':>9}{'ratio':>8}{'req/CPU-s':>12}{'ratio':>8}")
    headline = []
    for framework in ("fastapi", "flask", "realistic"):
        if framework not in frameworks:
            continue
        bare = rps[f"{framework}_bare"]
        bare_rounds = by_name[f"{framework}_bare"].per_cpu_second
        ratios = {}
        for name in (v.name for v in variants if v.framework == framework):
            # Paired: each round's ratio to the bare app measured in the same round, then the
            # median, so a slow round (a busy neighbour) moves both sides of its ratio.
            rounds = by_name[name].per_cpu_second
            paired = zip(rounds, bare_rounds, strict=True)
            ratios[name] = statistics.median(value / base for value, base in paired)
            print(f"{name:<28}{rps[name]:>9.0f}{rps[name] / bare:>8.2f}"
                  f"{per_cpu[name]:>12.0f}{ratios[name]:>8.2f}")  # fmt: skip
            if not name.endswith("_bare"):
                headline.append(f"{name}_ratio={ratios[name]:.2f}")
        if framework == "realistic":
            headline.append(f"realistic_kit_cost={1 - ratios['realistic_kit']:.3f}")
            continue
        cheapest_peer = max(ratios[peer] for peer in PEERS[framework])
        beats = "yes" if ratios[f"{framework}_kit"] > cheapest_peer else "no"
        headline.append(f"{framework}_kit_beats_cheapest_peer={beats}")
    print(f"cpus={os.cpu_count()} seconds={args.seconds} rounds={args.rounds} "
          f"connections={args.connections}")  # fmt: skip
    print(" ".join(headline))


if __name__ == "__main__":
    main()

"""What the prodready.runtime kit costs in CPU instructions per request, against bare apps,
the headers it must add, and single-purpose peers: a figure that noisy neighbours cannot move.

runtime_overhead.py measures throughput, which on a shared machine swings by ±10 % from run to
run. Here each server runs under valgrind's callgrind, instrumentation is switched on only
while `ab` sends a fixed number of keep-alive requests, and the instructions the serving
process executed (all its threads) are divided by that number: the same build gives the same
count, whatever else the machine does. It does not see cache misses, which make Python code
that runs once per request dearer than its instruction count says; the two benchmarks together
give the picture.

`headers_only` is a pass-through middleware that adds exactly the headers the kit adds to a
hello-world response over HTTP (X-Request-ID, the four security headers and, CORS being on,
`Vary: Origin`) and nothing else:
the part of the kit's cost that is the server's own work on those headers (uvicorn and Gunicorn
check every response header against regular expressions in Python), a floor for any
implementation of the runtime issue.

The last line gives the two restated targets of the kit's cost:
- `<framework>_kit_own_instr_share`: (kit - headers_only) / bare, the kit's own work as a share
  of a hello-world request, the headers every implementation must send left out;
- `<framework>_kit_over_peer_stack`: (kit - bare) / (peer_stack - bare), the kit's extra
  instructions against those of the peer stack a user would assemble for the same jobs
  (see runtime_overhead.py).

Flask runs under Gunicorn with `--http-parser python`: valgrind cannot run the SSE 4.2
instructions of gunicorn_h1c's parser.

    python benchmarks/runtime_instructions.py [--requests 2000] [--only fastapi]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from runtime_overhead import HEADERS, VARIANTS

HEADERS_ONLY_ASGI = """
from prodready.runtime.security import SecurityHeaders
EXTRA = [(b"x-request-id", b"0" * 32), *SecurityHeaders().for_request("/hello", False),
         (b"vary", b"Origin")]

class HeadersOnly:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *EXTRA]
            await send(message)
        await self.app(scope, receive, send_with_headers)

app.add_middleware(HeadersOnly)
"""

HEADERS_ONLY_WSGI = """
from prodready.runtime.security import SecurityHeaders
EXTRA = [("x-request-id", "0" * 32), *SecurityHeaders().for_request_str("/hello", False),
         ("vary", "Origin")]
inner = app.wsgi_app

def headers_only(environ, start_response):
    def start_with_headers(status, headers, exc_info=None):
        return start_response(status, [*headers, *EXTRA], exc_info)
    return inner(environ, start_with_headers)

app.wsgi_app = headers_only
"""

CODE = {
    **{name: code for name, (_, code) in VARIANTS.items()},
    "fastapi_headers_only": HEADERS_ONLY_ASGI,
    "flask_headers_only": HEADERS_ONLY_WSGI,
}
ORDER = {
    "fastapi": ["fastapi_bare", "fastapi_headers_only", "fastapi_kit", "fastapi_correlation_id",
                "fastapi_starlette_exporter", "fastapi_instrumentator", "fastapi_peer_stack"],
    "flask": ["flask_bare", "flask_headers_only", "flask_kit", "flask_exporter",
              "flask_peer_stack"],
}  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_argv(name: str, port: int) -> list[str]:
    if name.startswith("fastapi"):
        return [sys.executable, "-m", "uvicorn", f"{name}:app", "--port", str(port),
                "--no-access-log", "--log-level", "warning"]  # fmt: skip
    return [sys.executable, "-m", "gunicorn", f"{name}:app", "--bind", f"127.0.0.1:{port}",
            "-k", "gthread", "--threads", "8", "--log-level", "warning",
            "--http-parser", "python"]  # fmt: skip


def instructions_per_request(directory: Path, name: str, requests: int) -> float:
    """Runs one variant under callgrind and counts the serving process's instructions."""
    header = HEADERS["fastapi" if name.startswith("fastapi") else "flask"]
    (directory / f"{name}.py").write_text(header + CODE[name])
    port = free_port()
    url = f"http://127.0.0.1:{port}/hello"
    out = directory / f"callgrind.{name}"
    argv = ["valgrind", "--tool=callgrind", "--trace-children=yes", "--instr-atstart=no",
            f"--callgrind-out-file={out}.%p", *server_argv(name, port)]  # fmt: skip
    log = open(directory / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(argv, cwd=directory, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    try:
        _wait_until_up(url, process, name)
        _ab(url, 300)  # warm-up: imports, caches, lazily built objects
        serving = _serving_pid(process.pid)
        _callgrind_control("-i", "on", serving)
        _ab(url, requests)
        _callgrind_control("-i", "off", serving)
        _callgrind_control("-d", "", serving)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    total = 0
    for dump in directory.glob(f"callgrind.{name}.{serving}*"):
        for line in dump.read_text(errors="replace").splitlines():
            if line.startswith("totals:"):
                total += int(line.split()[1])
    if not total:
        raise SystemExit(f"{name}: callgrind counted nothing (see {directory / name}.log)")
    return total / requests


def _wait_until_up(url: str, process: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + 300  # imports under valgrind take a while
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited under valgrind with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{name} did not start under valgrind")


def _serving_pid(pid: int) -> int:
    """Uvicorn serves in its own process; Gunicorn in its (one) worker."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return int(children[0]) if children else pid


def _ab(url: str, requests: int) -> None:
    result = subprocess.run(
        ["ab", "-q", "-k", "-n", str(requests), "-c", "16", url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    if "Failed requests:        0" not in result.stdout:
        raise SystemExit(f"requests failed under valgrind:\n{result.stdout}")


def _callgrind_control(option: str, value: str, pid: int) -> None:
    argv = ["callgrind_control", option, *([value] if value else []), str(pid)]
    subprocess.run(argv, capture_output=True, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--only", help="comma-separated frameworks: fastapi,flask")
    args = parser.parse_args()
    for tool in ("valgrind", "callgrind_control", "ab"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (make system-deps)")
    frameworks = [f for f in ORDER if f in (args.only or "fastapi,flask").split(",")]
    names = [name for framework in frameworks for name in ORDER[framework]]
    # Counts do not depend on load, so two servers run side by side (two cores here).
    workers = max(1, min(2, os.cpu_count() or 1))
    with (
        tempfile.TemporaryDirectory(prefix="prodready-instr-") as tmp,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        counted = pool.map(lambda n: instructions_per_request(Path(tmp), n, args.requests), names)
        counts = dict(zip(names, counted, strict=True))
    print(f"\n{'variant':<30}{'instructions/request':>22}{'ratio to bare':>15}")
    headline = []
    for framework in frameworks:
        bare = counts[f"{framework}_bare"]
        for name in ORDER[framework]:
            ratio = counts[name] / bare
            print(f"{name:<30}{counts[name]:>22,.0f}{ratio:>15.3f}")
            if name != f"{framework}_bare":
                headline.append(f"{name}_instr_ratio={ratio:.3f}")
    for framework in frameworks:
        bare, kit = counts[f"{framework}_bare"], counts[f"{framework}_kit"]
        own = (kit - counts[f"{framework}_headers_only"]) / bare
        over_stack = (kit - bare) / (counts[f"{framework}_peer_stack"] - bare)
        headline += [
            f"{framework}_kit_own_instr_share={own:.3f}",
            f"{framework}_kit_over_peer_stack={over_stack:.2f}",
        ]
    print(f"requests={args.requests} (ab -k -c 16), instructions of the serving process")
    print(" ".join(headline))


if __name__ == "__main__":
    main()

"""The generated deployment run for real on loopback: Gunicorn with the generated
gunicorn.conf.py, the generated nginx site in front of it with a self-signed certificate."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from prodready.generate import validate
from prodready.generate.context import DeployContext
from prodready.generate.nginx import Listen
from tests.server_errors import unexpected_errors

HOST = "app.example.com"
STARTUP_SECONDS = 30
SECURITY_HEADERS = (
    "strict-transport-security",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "permissions-policy",
    "cross-origin-opener-policy",
    "content-security-policy",
)


@dataclass(frozen=True)
class Stack:
    root: Path
    prefix: Path
    http_port: int
    https_port: int
    app_port: int

    @property
    def certificate(self) -> Path:
        return self.prefix / "tls" / "fullchain.pem"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args[0]} exited: {log.read_text()[-3000:]}")
        with socket.socket() as client:
            if client.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port} after {STARTUP_SECONDS}s")


def stop(process: subprocess.Popen, sig: int) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running(root: Path, ctx: DeployContext, work: Path, env: dict[str, str]) -> Iterator[Stack]:
    """Gunicorn as systemd would start it (RUNTIME_DIRECTORY set) behind the generated nginx."""
    app_port, http_port, https_port = free_port(), free_port(), free_port()
    runtime = work / "run"
    runtime.mkdir(parents=True)
    server_log = work / "gunicorn.log"
    server_env = {
        **os.environ,
        **env,
        "BIND": f"127.0.0.1:{app_port}",
        "WEB_CONCURRENCY": "2",
        "RUNTIME_DIRECTORY": str(runtime),
    }
    with server_log.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
            cwd=root,
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    prefix = work / "nginx"
    listen = Listen(f"127.0.0.1:{app_port}", http_port, https_port, address="127.0.0.1:")
    conf = validate.nginx_prefix(prefix, ctx, listen)
    proxy = subprocess.Popen(
        [validate.find_tool("nginx"), "-p", str(prefix), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(app_port, server, server_log)
        wait_for_port(https_port, proxy, prefix / "logs" / "error.log")
        yield Stack(root, prefix, http_port, https_port, app_port)
    finally:
        stop(proxy, signal.SIGQUIT)
        stop(server, signal.SIGTERM)
    unexpected = unexpected_errors(server_log.read_text(errors="replace"))
    assert not unexpected, "Gunicorn logged errors:\n" + "\n".join(unexpected[:10])


def curl(stack: Stack, url: str, host: str = HOST, *extra: str) -> subprocess.CompletedProcess:
    port = stack.https_port if url.startswith("https") else stack.http_port
    return subprocess.run(
        [
            "curl", "-sS", "--max-time", "10", "-D", "-", "--cacert", str(stack.certificate),
            "--resolve", f"{host}:{port}:127.0.0.1", *extra, url.format(host=host, port=port),
        ],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


def response(result: subprocess.CompletedProcess) -> tuple[int, dict[str, list[str]], str]:
    head, _, body = result.stdout.partition("\n\n")  # text mode turned CRLF into LF
    lines = head.splitlines()
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return int(lines[0].split()[1]), headers, body

"""Real targets for the load tests: the small asyncio server in target_server.py and nginx.

Every server binds 127.0.0.1 on a free port and is stopped at the end of its test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
TARGET_SERVER = HERE / "target_server.py"
CLI_ENTRY = HERE / "cli_entry.py"


def free_port() -> int:
    """A port nothing listens on (bound then released at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def target() -> Iterator[Callable[..., str]]:
    """Starts target_server.py with the given options; returns its base URL."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(*args: str, scheme: str = "http", host: str = "127.0.0.1") -> str:
        process = subprocess.Popen(
            [sys.executable, str(TARGET_SERVER), "--host", host, *args], stdout=subprocess.PIPE
        )
        processes.append(process)
        assert process.stdout is not None
        port = int(process.stdout.readline())
        return f"{scheme}://{'[::1]' if host == '::1' else host}:{port}"

    yield start
    for process in processes:
        _stop(process)


def read_stats(base_url: str) -> dict:
    """The target server's own count of what it received."""
    import json
    import urllib.request

    with urllib.request.urlopen(f"{base_url}/__stats", timeout=5) as response:
        return json.loads(response.read())


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}; proxy_temp_path {dir}; fastcgi_temp_path {dir};
    uwsgi_temp_path {dir}; scgi_temp_path {dir};
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "hello\\n"; }}
    }}
}}
"""


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Real nginx returning a small body; yields (base URL, access log path)."""
    if shutil.which("nginx") is None:
        pytest.skip("nginx is not installed (scripts/ensure-system-deps.sh installs it)")
    for _ in range(5):
        port = free_port()
        conf = tmp_path / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=tmp_path, port=port))
        process = subprocess.Popen(
            ["nginx", "-p", str(tmp_path), "-c", str(conf)], stderr=subprocess.DEVNULL
        )
        if _wait_listening(port, process):
            break
        _stop(process)
    else:
        pytest.fail("nginx did not start")
    yield f"http://127.0.0.1:{port}", tmp_path / "access.log"
    _stop(process)


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 made with the openssl CLI."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`prodready load ...` through the real entry point, as a subprocess."""
    return subprocess.run(
        [sys.executable, str(CLI_ENTRY), "load", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "120"},
    )

"""Helpers for the runtime tests: real Gunicorn and uvicorn processes on 127.0.0.1.

Real servers for the runtime tests: Gunicorn and uvicorn processes on 127.0.0.1.

Each server gets a listening socket bound to port 0 here and inherited by file descriptor, so
parallel test runs (and other engineers' servers) never race for a port. Servers log to a file
that tests read back as JSON lines.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

APPS = Path(__file__).parent / "apps"
PYTHON = sys.executable
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"


RUN_UVICORN = """
import socket, sys, uvicorn
# socket.socket(fileno=...) keeps the TCP family, so asyncio sets TCP_NODELAY; uvicorn --fd
# would wrap it as AF_UNIX and every response would wait ~40 ms for a delayed ACK.
listener = socket.socket(fileno=int(sys.argv[2]))
config = uvicorn.Config(sys.argv[1], access_log=False, log_level="info")
uvicorn.Server(config).run(sockets=[listener])
"""


def need_service(name: str, port: int) -> None:
    """Skips when a service is missing, but fails under CI=true: CI must run everything."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return
    except OSError:
        message = f"{name} is not running on 127.0.0.1:{port} (make services)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def need_program(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        message = f"{program} is not installed (make system-deps)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def closed_port() -> int:
    """A port nothing listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One server process (gunicorn or uvicorn) serving an app from tests/runtime/apps."""

    def __init__(
        self,
        kind: str,
        target: str,
        log_path: Path,
        env: dict[str, str] | None = None,
        extra_args: list[str] | None = None,
    ) -> None:
        self.kind = kind
        self.target = target
        self.log_path = log_path
        self.env = {**os.environ, "PYTHONPATH": str(APPS), **(env or {})}
        self.extra_args = extra_args or []
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, ready_path: str = "/health/live", timeout: float = 30.0) -> Server:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1024)
        listener.set_inheritable(True)
        fd = listener.fileno()
        self.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        if self.kind == "uvicorn":
            argv = [PYTHON, "-c", RUN_UVICORN, self.target, str(fd)]
        else:
            argv = [PYTHON, "-m", "gunicorn", self.target, "--bind", f"fd://{fd}"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*argv, *self.extra_args],
                cwd=APPS,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(fd,),
            )
        listener.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited at start:\n{self.log_path.read_text()}")
            forked = len(self.worker_pids()) >= self._workers_asked()
            with contextlib.suppress(requests.RequestException):
                if forked and requests.get(self.url + ready_path, timeout=2).status_code < 500:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"{self.kind} did not answer in {timeout}s:\n{self.log_path.read_text()}"
        )

    def worker_pids(self) -> set[int]:
        """The processes the server forked (Gunicorn's workers; none for plain uvicorn)."""
        assert self.process is not None
        pid = self.process.pid
        with contextlib.suppress(OSError):
            return {int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
        return set()

    def _workers_asked(self) -> int:
        """Gunicorn's `-w N` (it forks workers a random fraction of 0.1 s apart, so the first
        can answer alone): start() returns once all N are forked. 0 for uvicorn."""
        if self.kind != "gunicorn":
            return 0
        args = self.extra_args
        for flag in ("-w", "--workers"):
            if flag in args[:-1]:
                return int(args[args.index(flag) + 1])
        return 1

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return requests.get(self.url + path, **kwargs)

    def log_records(self) -> list[dict[str, Any]]:
        """Every JSON line the server wrote so far; other lines are ignored."""
        records = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                with contextlib.suppress(json.JSONDecodeError):
                    records.append(json.loads(line))
        return records

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def options_env(**options: Any) -> dict[str, str]:
    """Environment that makes the test apps call Production(app, **options)."""
    return {"PRODREADY_TEST_OPTIONS": json.dumps(options)}


def checks_env(**checks: list[Any]) -> dict[str, str]:
    """Environment that makes the test apps register health checks (see apps/_configure.py)."""
    return {"PRODREADY_TEST_CHECKS": json.dumps(checks)}

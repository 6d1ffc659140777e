"""Real `prodready serve` processes for the tests: free ports on 127.0.0.1, a private copy of
the test apps, readiness by polling, SIGTERM at the end."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from prodready.serve.runtimedir import STATE_ENV, environ_of, ready_dir
from tests.conftest import PRODREADY

APPS = Path(__file__).parent / "apps"
BOOT_TIMEOUT_S = 60.0


def free_port() -> int:
    """A port nothing listens on (bound to port 0, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_apps(destination: Path) -> Path:
    shutil.copytree(APPS, destination, ignore=shutil.ignore_patterns("__pycache__"))
    return destination


def get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Server:
    """`prodready serve TARGET ARGS...` in `app_dir`, bound to a free loopback port."""

    def __init__(self, app_dir: Path, target: str, *args: str, env: dict[str, str] | None = None):
        self.app_dir = app_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.pidfile = app_dir / f"server-{self.port}.pid"
        self.log_path = app_dir / f"server-{self.port}.log"
        self.argv = [
            str(PRODREADY),
            "serve",
            target,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--pid",
            str(self.pidfile),
            *args,
        ]
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, ready_path: str = "/ping") -> Server:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.argv, cwd=self.app_dir, stdout=log, stderr=subprocess.STDOUT, env=self.env
            )
        deadline = time.monotonic() + BOOT_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited {self.process.returncode}:\n{self.log()}")
            try:
                if get(self.base + ready_path, timeout=2)[0] == 200 and self._all_loaded():
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server not ready in {BOOT_TIMEOUT_S} s:\n{self.log()}")

    def _all_loaded(self) -> bool:
        """Every worker has loaded the app (its ready marker), so later edits to the app's
        files are not picked up by a worker still booting."""
        state = Path(environ_of(self.pid).get(STATE_ENV, "/nonexistent"))
        markers = ready_dir(state)
        if not markers.is_dir():  # Granian: no markers
            return True
        workers = self.workers()
        return len(workers) >= _configured_workers(state) and all(
            (markers / str(pid)).exists() for pid in workers
        )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_events(self) -> list[dict[str, Any]]:
        events = []
        for line in self.log().splitlines():
            if line.startswith("{"):
                events.append(json.loads(line))
        return events

    def workers(self) -> set[int]:
        """Live worker pids: the master's children."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return {int(pid) for pid in children}

    def stop(self, timeout: float = 40.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def _configured_workers(state_dir: Path) -> int:
    """The worker count of the gunicorn.conf.py prodready serve wrote: the first worker can
    answer the ready probe before Gunicorn has forked the others."""
    try:
        conf = (state_dir / "gunicorn.conf.py").read_text()
    except OSError:
        return 1
    found = re.search(r"^workers = (\d+)$", conf, re.MULTILINE)
    return int(found.group(1)) if found else 1


class BackgroundLoad(threading.Thread):
    """A constant-rate load (prodready's own open-model client) for `duration` seconds."""

    def __init__(self, url: str, rate: float, duration: float):
        super().__init__(daemon=True)
        self.url, self.rate, self.duration = url, rate, duration
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        from prodready.load import run

        try:
            self.result = run(self.url, rate=self.rate, duration=self.duration, timeout=10)
        except BaseException as error:
            self.error = error

    def finish(self) -> Any:
        self.join(timeout=self.duration + 60)
        if self.error is not None:
            raise self.error
        assert self.result is not None, "the load did not finish"
        return self.result


class TerminalServer(Server):
    """`prodready serve` with its stdout and stderr on a pseudo-terminal, as a person runs it."""

    def start(self, ready_path: str = "/ping") -> Server:
        import pty

        leader, follower = pty.openpty()
        self._output = bytearray()
        self._reader = threading.Thread(target=self._read, args=(leader,), daemon=True)
        self.process = subprocess.Popen(
            self.argv, cwd=self.app_dir, stdout=follower, stderr=follower, env=self.env
        )
        os.close(follower)
        self._reader.start()
        deadline = time.monotonic() + BOOT_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited {self.process.returncode}:\n{self.log()}")
            try:
                if get(self.base + ready_path, timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server not ready in {BOOT_TIMEOUT_S} s:\n{self.log()}")

    def _read(self, leader: int) -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO once every writer has closed the terminal
                break
            if not chunk:
                break
            self._output += chunk
        os.close(leader)

    def log(self) -> str:
        return self._output.decode(errors="replace")

    def stop(self, timeout: float = 40.0) -> int:
        code = super().stop(timeout)
        self._reader.join(timeout=10)
        return code

"""The app served the way `prodready serve` runs it in production, on a loopback port: the
project's own server settings (gunicorn.conf.py values) and the computed plan, JSON logs,
access log, a pid file for `prodready reload`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from prodready.errors import UserError
from prodready.serve.draindelay import end_drain_window
from prodready.verify.http import Reply, request

BOOT_TIMEOUT_S = 90.0


class BootError(UserError):
    """The app did not start: the message says how, the hint carries the log tail."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServerProcess:
    """A running `prodready serve`; its log (stdout and stderr) is a file in the work dir."""

    process: subprocess.Popen[bytes]
    port: int
    pidfile: Path
    log_path: Path
    started: float
    ready_s: float | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def get(self, path: str, **kw: object) -> Reply:
        return request(self.port, path, **kw)  # type: ignore[arg-type]

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40.0) -> int | None:
        """Signals the master and waits; kills it (and its group) past `timeout`.

        A drain window (PRODREADY_DRAIN_SECONDS) is ended at once: verify's stops are not
        releases behind a load balancer (the health item measures the window itself)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            if sig == signal.SIGTERM:
                end_drain_window(self.process.pid)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


def start_server(
    root: Path,
    work: Path,
    name: str,
    env: dict[str, str],
    *,
    server: str = "gunicorn",
    target: str | None = None,
    extra_args: tuple[str, ...] = (),
    wait_ready: bool = True,
) -> ServerProcess:
    """Starts `prodready serve` for the app in `root` (`target`, else the detected one) on a
    free loopback port and waits until it answers HTTP (any status). Raises BootError with the
    log tail when it exits first."""
    port = free_port()
    pidfile = work / f"{name}.pid"
    log_path = work / f"{name}.log"
    argv = [
        sys.executable, "-m", "prodready.cli.main", "serve", "--dir", str(root),
        "--server", server, "--bind", f"127.0.0.1:{port}", "--pid", str(pidfile),
        "--access-log", "--log-format", "json", "--proxy", "127.0.0.1", *extra_args,
        *([target] if target else []),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv,
            cwd=root,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a stop that must kill takes the workers too
        )
    served = ServerProcess(process, port, pidfile, log_path, time.monotonic(), extra_env=env)
    if wait_ready:
        wait_until_answering(served)
    return served


def wait_until_answering(served: ServerProcess, timeout: float = BOOT_TIMEOUT_S) -> float:
    """Seconds from start until the first HTTP answer; sets `ready_s`. A boot that fails or
    is interrupted (Ctrl-C, SIGTERM) stops the process: it runs in a session of its own, so
    nothing else would."""
    try:
        return _first_answer(served, timeout)
    except BaseException:
        served.stop()
        raise


def _first_answer(served: ServerProcess, timeout: float) -> float:
    deadline = served.started + timeout
    while time.monotonic() < deadline:
        if not served.running():
            raise BootError(
                f"the app exited while starting (exit code {served.process.returncode})",
                "its log ends with:\n" + served.log_tail(),
            )
        try:
            served.get("/", timeout=2.0)
        except OSError:
            time.sleep(0.1)
            continue
        served.ready_s = time.monotonic() - served.started
        return served.ready_s
    served.stop(signal.SIGKILL)
    raise BootError(
        f"the app did not answer HTTP within {timeout:.0f} s",
        "its log ends with:\n" + served.log_tail(),
    )

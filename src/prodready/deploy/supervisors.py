"""Step 3 and 6: start a release's generation beside the running one, and stop one.

Two supervisors share the deploy logic through `Supervisor`: `ProcessSupervisor` starts
`prodready serve` detached with a pid file (containers, CI, hosts without systemd);
`SystemdSupervisor` starts the template unit APP@<id>.service."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from prodready import interrupts
from prodready.deploy import priority
from prodready.deploy.layout import Layout
from prodready.deploy.releasestep import release_env
from prodready.deploy.venv import venv_python
from prodready.errors import UserError
from prodready.serve.draindelay import end_drain_window


@dataclass(frozen=True)
class ServeOptions:
    server: str = "gunicorn"
    app: str | None = None
    graceful_timeout: int = 25


class Supervisor(Protocol):
    def start(self, release_id: str) -> None: ...

    def promote(self, release_id: str) -> None:
        """The generation passed its gate: from now on it serves at full CPU priority."""
        ...

    def running(self, release_id: str) -> bool: ...

    def stop(self, release_id: str) -> str:
        """Graceful stop (in-flight requests finish), then a kill past the graceful timeout;
        returns how it ended."""
        ...

    def log_tail(self, release_id: str, lines: int = 20) -> str: ...

    def generations(self) -> list[str]:
        """Releases with a generation started and not known to be stopped."""
        ...


@dataclass
class ProcessSupervisor:
    layout: Layout
    options: ServeOptions
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    """Generations this process started: reaped here, so a crash is seen at once."""

    def argv(self, release_id: str) -> list[str]:
        release = self.layout.release(release_id)
        argv = [
            str(venv_python(release)),
            "-m",
            "prodready.cli.main",
            "serve",
            "--dir",
            str(release),
            "--server",
            self.options.server,
            "--bind",
            f"unix:{self.layout.socket(release_id)}",
            "--pid",  # the server's own; ours (pid and start time) is layout.pidfile
            str(self.layout.run / f"{release_id}.server-pid"),
            "--graceful-timeout",
            str(self.options.graceful_timeout),
            "--log-format",
            "json",
        ]
        return [*argv, self.options.app] if self.options.app else argv

    def start(self, release_id: str) -> None:
        self.layout.socket(release_id).unlink(missing_ok=True)
        release = self.layout.release(release_id)
        # A SIGTERM before the pidfile is written would leave a generation the deploy's clean-up
        # cannot find: interrupts wait until it is recorded (prodready/interrupts.py).
        interrupts.hold()
        try:
            # It boots at nice 10 (see priority.py), below the generation that serves.
            with self.layout.serve_log(release_id).open("ab") as log, priority.background():
                process = subprocess.Popen(
                    self.argv(release_id),
                    cwd=release,
                    env=release_env(release),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: Ctrl-C of the deploy spares it
                )
            # `prodready serve` execs the server, so this pid is the master's from the start;
            # its start time (kept across exec) tells it from a later process given that pid.
            started = _start_time(process.pid)
            self.layout.pidfile(release_id).write_text(f"{process.pid} {started}\n")
            self.children[release_id] = process
        finally:
            interrupts.release()

    def promote(self, release_id: str) -> None:
        pid = self.pid(release_id)
        if pid is not None:
            priority.restore_group(pid)

    def pid(self, release_id: str) -> int | None:
        try:
            pid, started = self.layout.pidfile(release_id).read_text().split()[:2]
        except (OSError, ValueError):
            return None
        return int(pid) if _start_time(int(pid)) == started else None

    def running(self, release_id: str) -> bool:
        self._reap(release_id)
        return self.pid(release_id) is not None

    def stop(self, release_id: str) -> str:
        pid = self.pid(release_id)
        how = "not running"
        if pid is not None:
            how = _terminate(pid, self.options.graceful_timeout + 5, lambda: self._reap(release_id))
        self.layout.pidfile(release_id).unlink(missing_ok=True)
        self.layout.socket(release_id).unlink(missing_ok=True)
        return how

    def log_tail(self, release_id: str, lines: int = 20) -> str:
        try:
            with self.layout.serve_log(release_id).open(errors="replace") as log:
                return "".join(deque(log, maxlen=lines)).rstrip()
        except OSError:
            return ""

    def generations(self) -> list[str]:
        return sorted(p.stem for p in self.layout.run.glob("*.pid"))

    def _reap(self, release_id: str) -> None:
        """Collects our own child's exit status, so a crashed generation is not a zombie that
        still looks alive."""
        child = self.children.get(release_id)
        if child is not None:
            child.poll()


def _start_time(pid: int) -> str | None:
    """The process's start time (in clock ticks since boot), None when it is gone or a
    zombie: with the pid, it names one process, never a later one that reuses the pid."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == b"Z" else fields[19].decode()


def _terminate(pid: int, grace_s: float, reap: Callable[[], None]) -> str:
    """SIGTERM, wait up to grace_s for the exit, then SIGKILL to its whole process group."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return "already gone"
    end_drain_window(pid)  # nginx sends it nothing any more
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        reap()
        if _start_time(pid) is None:
            return "stopped gracefully"
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    return f"killed after {grace_s:.0f} s"


@dataclass
class SystemdSupervisor:
    """Generations as instances of the template unit APP@.service (`prodready init` writes it);
    systemd supervises, restarts and stops them."""

    layout: Layout
    options: ServeOptions
    unit: str

    def __post_init__(self) -> None:
        if not systemd_is_init():
            raise UserError(
                "--supervisor systemd needs systemd as PID 1, and this machine runs without it",
                "use --supervisor process (prodready starts each generation with a pid file)",
            )

    def _instance(self, release_id: str) -> str:
        return f"{self.unit}@{release_id}.service"

    def _systemctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["systemctl", *args], capture_output=True, text=True, check=False)

    def start(self, release_id: str) -> None:
        self._systemctl("start", "--no-block", self._instance(release_id))
        self.layout.pidfile(release_id).write_text("systemd\n")

    def promote(self, release_id: str) -> None:
        """Nothing to do: systemd starts the unit at the priority the unit says."""

    def running(self, release_id: str) -> bool:
        return self._systemctl("is-active", "--quiet", self._instance(release_id)).returncode == 0

    def stop(self, release_id: str) -> str:
        done = self._systemctl("stop", self._instance(release_id))
        self.layout.pidfile(release_id).unlink(missing_ok=True)
        return "stopped by systemd" if done.returncode == 0 else done.stderr.strip()

    def log_tail(self, release_id: str, lines: int = 20) -> str:
        argv = ["journalctl", "-u", self._instance(release_id), "-n", str(lines), "--no-pager"]
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.rstrip()

    def generations(self) -> list[str]:
        return sorted(p.stem for p in self.layout.run.glob("*.pid"))


def systemd_is_init() -> bool:
    try:
        return Path("/proc/1/comm").read_text().strip() == "systemd"
    except OSError:
        return False

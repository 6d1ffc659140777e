"""`prodready reload`: replace a running server's workers, new ones serving before old ones stop.

Gunicorn's own HUP starts new workers and stops the old ones at once; while the new ones
import the app, connections wait in the listen backlog (none fail, but a slow import is a
latency spike), and if the new code cannot be imported the new workers fail to boot and the
whole server exits. `reload_server` instead:

0. checks that the pid is the server prodready started (`runtimedir.is_recorded_master`): a
   stale pid file whose pid now belongs to another process is refused, nothing is signalled;
1. imports the app in a throwaway process (`probe.py`); if that fails, nothing is touched and
   the running workers keep serving;
2. over Gunicorn's control socket, adds as many workers as run now (`worker add N`); they
   import the current code because the master never preloads it;
3. waits until each new worker has loaded the app (its ready marker, see `gunicorn_hooks`);
4. removes N workers (`worker remove N`): Gunicorn stops the oldest, which finish their
   in-flight requests within graceful_timeout.

If a new worker fails at step 3 although the check passed (a flaky import, a dependency down
at boot, a crash, a boot that never ends), the hooks keep the master up and do not replace
it; the reload then rolls back: every new worker is abandoned (stopped, not replaced) and the
old ones keep serving the old code.

A server without a control socket (Granian) gets step 1 and then SIGHUP.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from prodready.errors import InputError, ToolError, UserError
from prodready.serve.plan import GRACEFUL_TIMEOUT_S
from prodready.serve.probe import AppTarget, probe_app
from prodready.serve.runtimedir import (
    STATE_ENV,
    TARGET_ENV,
    abandoned_dir,
    boot_failed_dir,
    environ_of,
    is_recorded_master,
    ready_dir,
    runtime_dir,
)

READY_TIMEOUT_S = 120.0
POLL_S = 0.05


@dataclass(frozen=True)
class ReloadReport:
    pid: int
    how: str  # "control socket" | "SIGHUP"
    old_workers: tuple[int, ...] = ()
    new_workers: tuple[int, ...] = ()
    still_stopping: tuple[int, ...] = ()


Progress = Callable[[str], None]
"""Told each step of a reload as it happens, in words (`prodready reload` adds the time)."""


def _silent(_step: str) -> None:
    pass


def reload_server(
    pidfile: Path | None = None,
    ready_timeout_s: float = READY_TIMEOUT_S,
    progress: Progress = _silent,
) -> ReloadReport:
    pidfile = pidfile or _only_server_pidfile()
    pid = master_pid(pidfile)
    environ = environ_of(pid)
    state_dir = server_state_dir(pid, pidfile, environ)
    target = environ.get(TARGET_ENV)
    if target:
        progress(f"loading {target} in a throwaway process to check the new code")
        try:
            # In the server's own directory and environment (its secrets, its PYTHONPATH).
            probe_app(AppTarget.parse(target), _cwd_of(pid), environ)
        except UserError as error:
            raise UserError(
                f"not reloaded, the new code does not load: {error.message}",
                "fix it and reload again; the running workers keep serving the old code",
            ) from error
    socket_path = state_dir / "gunicorn.ctl"
    if not socket_path.exists():
        os.kill(pid, signal.SIGHUP)
        return ReloadReport(pid, "SIGHUP")
    return _replace_workers(pid, socket_path, ready_timeout_s, progress)


def _only_server_pidfile() -> Path:
    """The pid file of the one server prodready serve runs for this user."""
    found = sorted(runtime_dir().glob("prodready-*/server.pid"))
    live = [path for path in found if _live_pid(path) is not None]
    if len(live) != 1:
        raise InputError(
            "no server started by prodready serve is running"
            if not live
            else f"{len(live)} servers are running: {', '.join(map(str, live))}",
            "give the server's pid file with --pid FILE",
        )
    return live[0]


def server_state_dir(pid: int, pidfile: Path, environ: dict[str, str]) -> Path:
    """The state dir of the server `pid`, after checking that `pid` is that server.

    The state dir is named in the server's environment (prodready serve), else it is the pid
    file's directory (a Gunicorn started from `--print-config`'s file, which keeps both there).
    """
    candidates = [Path(environ[STATE_ENV])] if STATE_ENV in environ else []
    candidates.append(pidfile.resolve().parent)
    for state_dir in candidates:
        if is_recorded_master(state_dir, pid):
            return state_dir
    raise InputError(
        f"process {pid} (from {pidfile}) is not a server started by prodready: "
        f"{_command_of(pid) or 'unknown command'}",
        "the pid file is stale; give the --pid FILE of the running server",
    )


def _command_of(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()[:80]


def master_pid(pidfile: Path) -> int:
    """The live pid in `pidfile`."""
    pid = _live_pid(pidfile)
    if pid is None:
        raise InputError(
            f"no running server has its pid in {pidfile}",
            "give the --pid FILE the server was started with",
        )
    return pid


def _cwd_of(pid: int) -> Path:
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError as error:
        raise InputError(
            f"cannot see the directory of process {pid}: {error.strerror}",
            "run prodready reload as the user the server runs as",
        ) from error


def _live_pid(pidfile: Path) -> int | None:
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def _replace_workers(
    pid: int, socket_path: Path, ready_timeout_s: float, progress: Progress
) -> ReloadReport:
    control = _Control(socket_path)
    state_dir = socket_path.parent
    markers = ready_dir(state_dir)
    failed_dir = boot_failed_dir(state_dir)
    for directory in (failed_dir, abandoned_dir(state_dir)):
        directory.mkdir(exist_ok=True)
        for stale in directory.iterdir():
            stale.unlink(missing_ok=True)
    old = control.workers()
    progress(f"starting {len(old)} new workers beside the {len(old)} serving")
    control.change("worker add", len(old), applied=lambda: len(control.workers() - old) > 0)
    seen: set[int] = set()
    announced: set[int] = set()

    def booted_or_failed() -> set[int]:
        # A new worker that fails at once can come and go between two polls of the control
        # socket: its boot-failed mark (emptied above, so only new workers' marks) counts it.
        failed = {int(path.name) for path in failed_dir.iterdir()}
        seen.update((control.workers() - old) | failed)
        ready = {p for p in seen if (markers / str(p)).exists()}
        for worker in sorted(ready - announced):
            progress(f"new worker {worker} ready ({len(announced) + 1} of {len(old)})")
            announced.add(worker)
        return ready | (seen & failed)

    _wait_for(booted_or_failed, len(old), ready_timeout_s)
    new = {p for p in seen if (markers / str(p)).exists() and _process_running(p)}
    failed = {int(path.name) for path in failed_dir.iterdir()}
    if len(new) < len(old):
        _abandon(state_dir, seen | (control.workers() - old))
        raise ToolError(
            f"not reloaded: {_failure_summary(len(old), failed, ready_timeout_s)}; "
            "the new workers were stopped and the old workers keep serving the old code",
            "see the server's log for why the new workers did not boot, fix it, reload again",
        )
    progress(f"old workers {', '.join(map(str, sorted(old)))} draining: finishing their requests")
    control.change("worker remove", len(old), applied=lambda: len(control.workers()) <= len(new))
    # Gunicorn forgets a worker once told to stop; the process lives on while it drains.
    stopping = _wait_for(
        lambda: {p for p in old if _process_running(p)}, 0, GRACEFUL_TIMEOUT_S + 5, at_most=True
    )
    progress(
        f"{len(old) - len(stopping)} old workers exited"
        + (f", {len(stopping)} still finishing" if stopping else "")
    )
    return ReloadReport(
        pid, "control socket", tuple(sorted(old)), tuple(sorted(new)), tuple(sorted(stopping))
    )


def _failure_summary(wanted: int, failed: set[int], timeout_s: float) -> str:
    if failed:
        return f"{len(failed)} of {wanted} new workers failed to boot"
    return f"not all {wanted} new workers loaded the app within {timeout_s:g} s"


def _abandon(state_dir: Path, workers: set[int]) -> None:
    """Stops `workers` for good: marked abandoned first, so the master does not replace them
    (see gunicorn_hooks.child_exit); one still booting is killed, a serving one drains."""
    marks = abandoned_dir(state_dir)
    for worker in workers:
        (marks / str(worker)).touch()
    for worker in workers:
        booted = (ready_dir(state_dir) / str(worker)).exists()
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGTERM if booted else signal.SIGKILL)
    _wait_for(lambda: {p for p in workers if _process_running(p)}, 0, GRACEFUL_TIMEOUT_S + 5, True)


class _Control:
    """Gunicorn's control socket, one connection per command.

    Gunicorn stops its control server before every fork and starts it again after, so a
    connection (or a reply) can be cut whenever a worker is spawned. Queries are retried;
    a change is sent once and, if its reply was lost, `applied` tells whether it took effect.
    """

    ATTEMPTS = 100

    def __init__(self, socket_path: Path) -> None:
        self.socket_path = str(socket_path)

    def _send(self, command: str, args: list[int] | None = None) -> dict:
        from gunicorn.ctl.client import ControlClient

        with ControlClient(self.socket_path, timeout=10.0) as client:
            return client.send_command(command, args)

    def workers(self) -> set[int]:
        from gunicorn.ctl.client import ControlClientError

        for _ in range(self.ATTEMPTS):
            try:
                return {w["pid"] for w in self._send("show workers")["workers"]}
            except ControlClientError as error:
                last = error
                time.sleep(POLL_S)
        raise ToolError(f"cannot talk to the server at {self.socket_path}: {last}")

    def change(self, command: str, count: int, applied: Callable[[], bool]) -> None:
        from gunicorn.ctl.client import ControlClientError

        for _ in range(self.ATTEMPTS):
            try:
                self._send(command, [count])
                return
            except ControlClientError:
                time.sleep(POLL_S)
                if applied():
                    return
        raise ToolError(f"the server at {self.socket_path} did not accept {command!r}")


def _process_running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie waiting for its parent to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _wait_for(
    probe: Callable[[], set[int]], count: int, timeout_s: float, at_most: bool = False
) -> set[int]:
    """Polls `probe` until it returns at least (or with at_most, at most) `count` pids."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        done = len(found) <= count if at_most else len(found) >= count
        if done or time.monotonic() > deadline:
            return found
        time.sleep(POLL_S)

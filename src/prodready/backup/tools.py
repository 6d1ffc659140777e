"""Running the database client tools (pg_dump, pg_restore, mariadb-dump, mariadb): never through
a shell or a pipe, every exit code checked, stderr kept in a file (a full pipe would stall the
tool) and its last lines quoted."""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from prodready import interrupts
from prodready.errors import ToolError

POLL_S = 0.5
MARKER_POLL_S = 0.005


def require_tool(names: tuple[str, ...], hint: str) -> str:
    """The path of the first of `names` on PATH; ToolError naming the first, with `hint`."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise ToolError(f"{names[0]} is not installed (or not on PATH)", hint)


def run_tool(
    argv: list[str],
    env: dict[str, str],
    what: str,
    watch: Path | None = None,
    on_size: Callable[[int], None] | None = None,
    capture: bool = False,
    stdin: Path | None = None,
    on_stderr: tuple[bytes, Callable[[], None]] | None = None,
) -> str:
    """Runs `argv` to the end; a non-zero exit (or a signal) raises ToolError quoting its
    stderr. `watch`: a file whose size is reported to `on_size` while the tool runs.
    `capture`: stdout is returned (else discarded). `stdin`: a file the tool reads.
    `on_stderr`: (marker, callback): the callback runs once, as soon as the tool's stderr holds
    the marker (polled every few milliseconds until then)."""
    with contextlib.ExitStack() as stack:
        err = stack.enter_context(tempfile.TemporaryFile())
        out = stack.enter_context(tempfile.TemporaryFile())
        source = stack.enter_context(open(stdin, "rb")) if stdin is not None else subprocess.DEVNULL
        interrupts.hold()  # until the try below owns the tool (interrupts.py says why)
        try:
            proc = subprocess.Popen(
                argv,
                env=env,
                stdin=source,
                stdout=out if capture else subprocess.DEVNULL,
                stderr=err,
            )
        except BaseException as error:
            interrupts.release()
            if isinstance(error, OSError):
                why = f"cannot run {argv[0]}: {error.strerror}"
                raise ToolError(why, "is it installed?") from None
            raise
        pending = on_stderr
        try:
            interrupts.release()
            exited = stack.enter_context(ExitWatch(proc))
            while True:
                code = exited.wait(MARKER_POLL_S if pending else POLL_S)
                if code is not None:
                    break
                if pending is not None and pending[0] in os.pread(err.fileno(), 1 << 16, 0):
                    pending[1]()
                    pending = None
                if watch is not None and on_size is not None:
                    with contextlib.suppress(FileNotFoundError):
                        on_size(watch.stat().st_size)
        finally:
            if proc.returncode is None:  # interrupted: never leave the tool running behind us
                _kill_and_reap(proc)
        if code != 0:
            err.seek(0)
            text = err.read().decode(errors="replace")
            # `-- ...` lines are mariadb-dump's --verbose progress, not its complaint; the
            # mariadb client's `ERROR ...` line may be followed by lines of the SQL it quotes
            lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("-- ")]
            errors = [ln for ln in lines if ln.startswith("ERROR ")]
            why = (errors or lines or ["no message"])[-1]
            how = f"killed by signal {-code}" if code < 0 else f"exit {code}"
            name = os.path.basename(argv[0])
            raise ToolError(f"{what} failed: {name} {how}: {why}", _hint(why))
        if capture:
            out.seek(0)
            return out.read().decode(errors="replace")
        return ""


class ExitWatch:
    """Waits for a tool's exit and wakes the moment it comes: `Popen.wait(timeout)` polls
    with sleeps that grow to 50 ms, which put 25 ms on average after every tool a backup runs.
    A pidfd (Linux 5.3) turns readable when the process exits; without one, Popen's polling."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.pidfd: int | None = None
        self.poller = select.poll()  # not select(): it refuses descriptors from 1024 on

    def __enter__(self) -> ExitWatch:
        with contextlib.suppress(AttributeError, OSError):  # no pidfd here: poll instead
            self.pidfd = os.pidfd_open(self.proc.pid)
            self.poller.register(self.pidfd, select.POLLIN)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)

    def wait(self, timeout: float) -> int | None:
        """The tool's exit code, or None while it still runs after `timeout` seconds."""
        if self.pidfd is None:
            try:
                return self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return None
        if not self.poller.poll(timeout * 1000):
            return None
        return self.proc.wait()


def _kill_and_reap(proc: subprocess.Popen[bytes]) -> None:
    """Kills the tool and waits for it with os calls, not Popen's: its poll and wait take a
    lock that SIGTERM's KeyboardInterrupt, raised just after the lock's acquire and before the
    `try` that releases it, leaves held, and the next wait() then blocks for ever (a restore's
    clean-up hung so until its watchdog ended it)."""
    try:
        pid, status = os.waitpid(proc.pid, os.WNOHANG)
    except ChildProcessError:
        return  # Popen reaped it just before the interruption
    if pid == 0:
        os.kill(proc.pid, signal.SIGKILL)
        _, status = os.waitpid(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)


def _hint(why: str) -> str:
    lower = why.lower()
    if "no space left" in lower:
        return "free space on the backup destination (or pass another --dest), then run it again"
    if "permission denied" in lower:
        return "the database user needs read access to every table (or use the owner)"
    return "fix the cause above and run it again; nothing was recorded as a good backup"


def elapsed_since(start: float) -> float:
    return round(time.monotonic() - start, 3)

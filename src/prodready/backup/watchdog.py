"""The clean-up watchdog of backup and restore: after SIGTERM, a clean-up still running after
its limit ends the process as SIGKILL would, with where each thread was stuck.

An exception raised by a signal handler can land between a lock's acquisition and the `try`
that would release it (in a database driver, in subprocess.Popen.wait), and the clean-up then
waits on that lock for ever. The watchdog thread is started before the work, and the signal
handler only writes a byte to its pipe: a handler that took a lock itself (starting a thread,
setting an Event) could deadlock on one the interrupted code holds."""

from __future__ import annotations

import faulthandler
import os
import threading
import time
from types import TracebackType

from prodready.errors import EXIT_INTERRUPTED


class CleanupWatchdog:
    """`with CleanupWatchdog(seconds, what) as watchdog:` ... `watchdog.alarm()` from the
    signal handler."""

    def __init__(self, seconds: float, what: str) -> None:
        self.seconds = seconds
        self.what = what
        self._read_end, self._write_end = os.pipe()
        self._open = True

    def __enter__(self) -> CleanupWatchdog:
        thread = threading.Thread(target=self._watch, name="prodready-cleanup-watchdog")
        thread.daemon = True
        thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._open = False
        os.close(self._write_end)  # an alarm already given keeps counting

    def alarm(self) -> None:
        """Starts the count; safe in a signal handler (one write, no lock)."""
        if self._open:
            os.write(self._write_end, b"!")

    def _watch(self) -> None:
        alarmed = os.read(self._read_end, 1)
        if not alarmed:  # the work ended without an alarm
            os.close(self._read_end)
            return
        time.sleep(self.seconds)
        line = (
            f"error: interrupted: the clean-up did not end within {self.seconds:g} s: {self.what}"
        )
        os.write(2, line.encode() + b"\n")
        os.write(2, b"where it was stuck (please report it):\n")
        faulthandler.dump_traceback(all_threads=True)
        os._exit(EXIT_INTERRUPTED)

"""The app is marked not-ready while a restore swaps its data, so load balancers and probes stop
sending it requests before its database sessions are ended.

The mark is the runtime kit's readiness flag: a file named by PRODREADY_NOT_READY_FILE in the
app's environment (runtime/health.py), whose first line readiness reports. The window opens at
the first swap, after the long restore and its verification, waits for the probes to notice,
and closes when the last swap is done or has failed. A flag that was there before the restore
(someone else's maintenance) is left in place.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

from prodready.backup.files import write_atomic
from prodready.backup.progress import Progress
from prodready.errors import InputError


class NotReadyWindow:
    """Opened (at most once) right before the first swap; closed when the restore leaves the
    `with` block, whichever way."""

    def __init__(self, flag: Path | None, wait_s: float, progress: Progress) -> None:
        if flag is not None and not os.access(flag.parent, os.W_OK | os.X_OK):
            raise InputError(
                f"cannot write the not-ready file {flag}: {flag.parent} is not a folder "
                "this user can write",
                "create the folder (the app's PRODREADY_NOT_READY_FILE lives there) or fix "
                "--not-ready-file",
            )
        self.flag = flag
        self.wait_s = wait_s
        self.progress = progress
        self._created = False
        self._opened_at = 0.0
        self.not_ready_s: float | None = None
        """How long the app was marked not-ready, once the window has closed."""

    def open(self, what: str) -> None:
        if self.flag is None or self._created or self.flag.exists():
            return
        reason = (
            f"prodready restore of {what} is swapping the data (pid {os.getpid()} on "
            f"{socket.gethostname()}, since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}); "
            f"remove {self.flag} if no restore is running"
        )
        try:
            write_atomic(self.flag, reason.encode() + b"\n")
        except OSError as error:
            raise InputError(
                f"cannot write the not-ready file {self.flag}: {error.strerror}",
                "give --not-ready-file a path this user can write, or leave it out",
            ) from None
        self._created = True
        self._opened_at = time.monotonic()
        self.progress.step(f"marked the app not-ready ({self.flag}); waiting {self.wait_s:g} s")
        time.sleep(self.wait_s)

    def __enter__(self) -> NotReadyWindow:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._created and self.flag is not None:
            self.flag.unlink(missing_ok=True)
            self._created = False
            self.not_ready_s = time.monotonic() - self._opened_at
            self.progress.step("marked the app ready again")

"""Progress of long work on stderr, for people at a terminal: bytes so far and the rate. Off
when stderr is not a TTY (cron, CI, `--json`) so logs stay clean."""

from __future__ import annotations

import sys
import time
from typing import TextIO

MIB = 1024 * 1024


class Progress:
    def __init__(self, enabled: bool, stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.shown = False

    @classmethod
    def auto(cls, quiet: bool = False) -> Progress:
        return cls(enabled=not quiet and sys.stderr.isatty())

    def step(self, label: str) -> None:
        """A new phase: its progress line starts over."""
        self.done()
        self.started = time.monotonic()
        if self.enabled:
            self.stream.write(f"{label}\n")
            self.stream.flush()

    def bytes(self, label: str, done: int) -> None:
        if not self.enabled:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        self.stream.write(
            f"\r  {label}: {done / MIB:9.1f} MiB  {done / MIB / elapsed:7.1f} MiB/s  "
            f"{elapsed:6.1f} s"
        )
        self.stream.flush()
        self.shown = True

    def done(self) -> None:
        if self.enabled and self.shown:
            self.stream.write("\n")
            self.stream.flush()
        self.shown = False

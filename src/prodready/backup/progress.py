"""Progress of long work on stderr, for people at a terminal: bytes so far, the rate and, where
the total is known, the time left. Off when stderr is not a TTY (cron, CI, `--json`) so logs
stay clean."""

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

    def bytes(self, label: str, done: int, total: int | None = None) -> None:
        """Bytes so far and the rate; with `total` (an upload, a download), also the total and
        the time left at the rate so far."""
        if not self.enabled:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed
        of = f" of {total / MIB:.1f} MiB" if total else " MiB"
        line = f"\r  {label}: {done / MIB:9.1f}{of}  {rate / MIB:7.1f} MiB/s  {elapsed:6.1f} s"
        if total and rate > 0:
            line += f"  ETA {max(total - done, 0) / rate:5.0f} s"
        self.stream.write(line)
        self.stream.flush()
        self.shown = True

    def done(self) -> None:
        if self.enabled and self.shown:
            self.stream.write("\n")
            self.stream.flush()
        self.shown = False

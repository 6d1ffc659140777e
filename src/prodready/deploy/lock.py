"""One deploy at a time per ROOT: an flock on ROOT/deploy.lock.

flock, not a pid file: the kernel releases it when the process ends, even on SIGKILL, so a
killed deploy never leaves a lock someone has to remove by hand."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prodready.errors import UserError


@contextmanager
def deploy_lock(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise UserError(
                f"another deploy or rollback is running on {path.parent} (pid {holder})",
                "wait for it to finish; `prodready deploy --status` shows its steps",
            ) from error
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock

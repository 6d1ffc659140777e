"""The CPU priority of a deploy's own work. On a small host, building a release (installing,
compiling bytecode, `prodready check`) and booting the new generation (every worker importing
the app) compete for the CPUs with the generation that serves. Measured on 2 CPUs under load
(benchmarks/deploy_under_load.py, flashcards): the served p99 rose from 3-4 ms to 80-360 ms for
seconds at a time during builds and boots; at nice 10 those windows stayed at 6-15 ms.

So that work runs at nice 10, and the new generation, which inherits it, is put back to 0 once
it passed its gate. Raising a priority again needs root (or CAP_SYS_NICE): without it nothing is
lowered, since a generation left at nice 10 would serve below every other process for good."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

BACKGROUND_NICE = 10


def can_raise_priority() -> bool:
    return os.geteuid() == 0


@contextlib.contextmanager
def background() -> Iterator[None]:
    """This process, and what it starts meanwhile, at nice BACKGROUND_NICE; back to its own
    priority on the way out."""
    if not can_raise_priority():
        yield
        return
    own = os.getpriority(os.PRIO_PROCESS, 0)
    os.setpriority(os.PRIO_PROCESS, 0, max(own, BACKGROUND_NICE))
    try:
        yield
    finally:
        os.setpriority(os.PRIO_PROCESS, 0, own)


def restore_group(pid: int) -> None:
    """The process group of `pid` (a generation: its master and workers; workers it forks
    later inherit the master's priority) back to this process's priority."""
    if not can_raise_priority():
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.setpriority(os.PRIO_PGRP, os.getpgid(pid), os.getpriority(os.PRIO_PROCESS, 0))

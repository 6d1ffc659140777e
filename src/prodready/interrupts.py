"""Interrupts (SIGTERM, Ctrl-C) held back while a child process is started and recorded.

A signal handler that raises lands wherever the main thread is. Between `Popen` creating a
process and the code that records it (a `try` whose `finally` stops a backup's tool, the
pidfile a deploy stops a generation by), the child is left running unowned: a mariadb-dump
outlived a SIGTERM'd backup so. The few steps that must not be cut in two hold interrupts; one
that arrives meanwhile is raised when they are released. Lists, not a lock or an Event: the
handler runs between two bytecodes of the very code that holds them."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from types import FrameType

_held: list[bool] = []
_pending: list[BaseException] = []


def raise_or_defer(error: BaseException) -> None:
    """What a signal handler does: raise `error` now, or when interrupts are released."""
    if _held:
        _pending.append(error)
        return
    raise error


def hold() -> None:
    """Defers interrupts until `release()`; pair every call with one."""
    _held.append(True)


def release() -> None:
    """Ends a `hold()`; raises the first interrupt that arrived meanwhile, if any."""
    _held.pop()
    if not _held and _pending:
        error = _pending[0]
        _pending.clear()
        raise error


@contextlib.contextmanager
def unwinding(
    signals: tuple[signal.Signals, ...],
    error: Callable[[signal.Signals], BaseException],
    first: Callable[[], None] | None = None,
) -> Iterator[None]:
    """While inside, each of `signals` raises `error(signal)` (now, or once interrupts are
    released), so the work unwinds through its clean-up instead of ending where it stands;
    `first` runs before, in the handler (it must take no lock). The previous handlers are
    put back on the way out."""

    def interrupt(signum: int, _frame: FrameType | None) -> None:
        if first is not None:
            first()
        raise_or_defer(error(signal.Signals(signum)))

    previous = {sig: signal.signal(sig, interrupt) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

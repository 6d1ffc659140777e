"""KeyboardInterrupt from SIGTERM or Ctrl-C, held back while a child process starts.

A signal handler that raises lands wherever the main thread is. Between `Popen` creating a
tool and the `try` whose `finally` stops it, the tool is left running: a mariadb-dump outlived
a SIGTERM'd backup so. The few steps that must not be cut in two hold interrupts; one that
arrives meanwhile is raised when they are released. Lists, not a lock or an Event: the
handler runs between two bytecodes of the very code that holds them."""

from __future__ import annotations

_held: list[bool] = []
_pending: list[bool] = []


def raise_or_defer() -> None:
    """What the signal handler does: KeyboardInterrupt now, or when interrupts are released."""
    if _held:
        _pending.append(True)
        return
    raise KeyboardInterrupt


def hold() -> None:
    """Defers interrupts until `release()`; pair every call with one."""
    _held.append(True)


def release() -> None:
    """Ends a `hold()`; raises the interrupt that arrived meanwhile, if any."""
    _held.pop()
    if not _held and _pending:
        _pending.clear()
        raise KeyboardInterrupt

"""User-facing errors: one clear line and a hint, exit code 2, never a traceback.

Every command raises a `UserError` (or one of its kinds) for bad input; the CLI prints
`error: <message>` and `hint: <hint>` on stderr and exits with `EXIT_USAGE`.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
"""Ctrl-C or SIGTERM, as a shell reports a process ended by SIGINT."""


class UserError(Exception):
    """A problem with what the user asked for or gave us, explained in one line."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(UserError):
    """A bad option or a bad combination of options."""


class InputError(UserError):
    """Input that cannot be used: a missing path, an unreadable file, a malformed config."""


class AppNotFoundError(UserError):
    """No app (or more than one candidate) where one was expected."""


class ToolError(UserError):
    """An external tool prodready drives (Gunicorn, nginx, ...) failed or is missing."""

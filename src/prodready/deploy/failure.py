"""A deploy that stopped: what failed, and that the old release still serves. Exit code 1."""

from __future__ import annotations


class DeployFailed(Exception):
    """The deploy (or rollback) stopped at a step; nothing was switched unless it says so."""

    def __init__(self, message: str, hint: str | None = None, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details
        """Extra lines shown after the message: a generation's last log lines, nginx -t."""

    def __str__(self) -> str:
        return self.message

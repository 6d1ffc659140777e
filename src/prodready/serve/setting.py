"""One value of a server plan, why it was chosen, and who chose it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

COMPUTED = "computed"


@dataclass(frozen=True)
class Setting:
    name: str
    value: Any
    why: str
    source: str = COMPUTED
    """Where the value comes from: computed, a flag (`--timeout`), or the project's own
    Gunicorn configuration (`gunicorn.conf.py:4`, `GUNICORN_CMD_ARGS`)."""

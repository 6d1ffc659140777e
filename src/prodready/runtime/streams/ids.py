"""Event ids: `<milliseconds>-<sequence>`, the format of Redis Stream ids, for both brokers.

Ids grow with time, so ids issued by a process that restarted are still above the ids it
issued before (a client's Last-Event-ID from the old process replays nothing it should not).
"""

from __future__ import annotations

import re

_ID = re.compile(r"^(\d{1,20})-(\d{1,20})$")


def parse(raw: str | None) -> tuple[int, int] | None:
    """The (milliseconds, sequence) of a Last-Event-ID, or None when absent or malformed (a
    malformed id is treated as no id: the client gets live events, never an error)."""
    if not raw:
        return None
    match = _ID.match(raw.strip())
    if match is None:
        return None
    return int(match[1]), int(match[2])


def render(event_id: tuple[int, int]) -> str:
    return f"{event_id[0]}-{event_id[1]}"

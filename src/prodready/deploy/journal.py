"""ROOT/deploy.log: one JSON line per step of every deploy and rollback."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

Progress = Callable[[str], None]


@dataclass
class Journal:
    path: Path
    action: str
    """deploy or rollback."""
    progress: Progress
    run: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ"))
    release: str | None = None
    started: float = field(default_factory=time.monotonic)

    def record(self, step: str, status: str, seconds: float, message: str = "") -> None:
        line = {
            "run": self.run,
            "action": self.action,
            "step": step,
            "release": self.release,
            "status": status,
            "seconds": round(seconds, 3),
            "message": message,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        with self.path.open("a", encoding="utf-8") as log:
            log.write(json.dumps(line) + "\n")

    @contextmanager
    def step(self, name: str, note: str = "") -> Iterator[list[str]]:
        """Times a step and records it ok or failed; the yielded list takes a message."""
        self.progress(f"{name}{': ' + note if note else ''}")
        start = time.monotonic()
        message: list[str] = []
        try:
            yield message
        except BaseException as error:
            self.record(
                name, "failed", time.monotonic() - start, str(error) or type(error).__name__
            )
            raise
        self.record(name, "ok", time.monotonic() - start, " ".join(message))


def last_run(path: Path) -> list[dict[str, object]]:
    """The lines of the most recent deploy or rollback."""
    try:
        lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except (OSError, ValueError):
        return []
    if not lines:
        return []
    run = lines[-1].get("run")
    return [line for line in lines if line.get("run") == run]

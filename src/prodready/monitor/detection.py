"""Up or down from probes. A failed probe is re-checked (at once, then after a short delay)
before it counts, so a single blip never opens an incident and a real outage is declared
within one interval plus the delay, not after three intervals. Recovery needs N consecutive
successes, so a flapping endpoint does not resolve and re-open on every other probe."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Tracker:
    """The state of one endpoint: `unknown` until its first verdict, then `up` or `down`."""

    failure_threshold: int = 1
    """Confirmed failures in a row that make it down (1 with re-checks; Gatus uses 3)."""
    recovery_successes: int = 2
    status: str = "unknown"
    failures: int = 0
    successes: int = 0

    def observe(self, ok: bool) -> str | None:
        """Feeds one confirmed verdict; returns "down" or "up" when the status changes to it."""
        if ok:
            self.failures = 0
            if self.status == "down":
                self.successes += 1
                if self.successes >= self.recovery_successes:
                    self.status, self.successes = "up", 0
                    return "up"
                return None
            self.status = "up"
            return None
        self.successes = 0
        self.failures += 1
        if self.status != "down" and self.failures >= self.failure_threshold:
            self.status = "down"
            return "down"
        return None

"""What `prodready verify` found: one result per scorecard item, and the scorecard."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    SKIPPED = "skipped"


Number = int | float


def counted(number: int, noun: str) -> str:
    """`1 table`, `3 tables`: summaries read as sentences."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


@dataclass
class ItemResult:
    """One scorecard item: its verdict, a one-line summary, and the evidence behind it.

    `measures` are the numbers (named, with their unit in the name: `ready_s`, `failed_requests`),
    `log` an excerpt that shows a failure, `series` named (x, y) points the HTML report charts
    (for example latency over time of a load run).
    """

    id: str
    title: str
    status: Status
    summary: str
    measures: dict[str, Number | str | bool] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)
    log: str = ""
    series: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    seconds: float = 0.0

    @classmethod
    def passed(cls, id: str, title: str, summary: str, **kw: Any) -> ItemResult:
        return cls(id, title, Status.PASS, summary, **kw)

    @classmethod
    def failed(cls, id: str, title: str, summary: str, **kw: Any) -> ItemResult:
        return cls(id, title, Status.FAIL, summary, **kw)

    @classmethod
    def warned(cls, id: str, title: str, summary: str, **kw: Any) -> ItemResult:
        return cls(id, title, Status.WARN, summary, **kw)

    @classmethod
    def skipped(cls, id: str, title: str, why: str, **kw: Any) -> ItemResult:
        return cls(id, title, Status.SKIPPED, why, **kw)


@dataclass
class Scorecard:
    """Every item run against one app, and how the app was booted for them."""

    app: str
    root: str
    boot: list[str]
    items: list[ItemResult]
    seconds: float
    started_at: str

    def count(self, status: Status) -> int:
        return sum(item.status is status for item in self.items)

    def exit_code(self, strict: bool = False) -> int:
        """0 when every item holds (warnings too unless `strict`), else 1."""
        if self.count(Status.FAIL) or (strict and self.count(Status.WARN)):
            return 1
        return 0

    def summary_line(self) -> str:
        parts = [f"{self.count(s)} {s.value}" for s in Status]
        return (
            f"{counted(len(self.items), 'item')}: " + ", ".join(parts) + f" in {self.seconds:.1f} s"
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["summary"] = {s.value: self.count(s) for s in Status}
        return data

"""Per-table progress on stderr when it is a terminal (rows, rate, ETA); silent otherwise."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)


class TableProgress:
    def __init__(self, enabled: bool) -> None:
        self.bar: Progress | None = None
        self.task: TaskID | None = None
        self.tasks: dict[str, TaskID] = {}
        if enabled:
            self.bar = Progress(
                TextColumn("{task.description:<28}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]:>10} rows/s"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
            self.bar.start()

    @classmethod
    def auto(cls, quiet: bool) -> TableProgress:
        return cls(enabled=not quiet and sys.stderr.isatty())

    def table(self, name: str, total: int, done: int) -> None:
        if self.bar is not None:
            self.task = self.bar.add_task(name, total=max(total, 1), completed=done, rate="")
            self.tasks[name] = self.task

    def show(self, name: str, total: int, done: int) -> None:
        """Several tables at once: each bar set to the rows its state row counts."""
        if self.bar is None:
            return
        if name not in self.tasks:
            self.tasks[name] = self.bar.add_task(name, total=max(total, 1), completed=0, rate="")
        task = self.tasks[name]
        speed = self.bar.tasks[task].speed
        self.bar.update(task, completed=done, rate=f"{speed:,.0f}" if speed else "")

    def advance(self, rows: int) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.advance(self.task, rows)
            speed = self.bar.tasks[self.task].speed
            self.bar.update(self.task, rate=f"{speed:,.0f}" if speed else "")

    def table_done(self) -> None:
        if self.bar is not None and self.task is not None:
            total = self.bar.tasks[self.task].total
            self.bar.update(self.task, completed=total)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()

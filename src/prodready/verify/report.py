"""The scorecard for people (a table and a summary line) and for machines (JSON)."""

from __future__ import annotations

import io
import json

from prodready.verify.model import Scorecard, Status

MARKS = {Status.PASS: "pass", Status.FAIL: "FAIL", Status.WARN: "warn", Status.SKIPPED: "skip"}
STYLES = {
    Status.PASS: "green",
    Status.FAIL: "bold red",
    Status.WARN: "yellow",
    Status.SKIPPED: "dim",
}


def to_json(card: Scorecard) -> str:
    return json.dumps(card.to_dict(), indent=2, default=str) + "\n"


def to_text(card: Scorecard, *, color: bool = False, width: int = 100) -> str:
    """A rich table (item, verdict, evidence), the evidence lines of failures and warnings,
    then the summary line."""
    from rich.console import Console
    from rich.table import Table

    console = Console(
        file=io.StringIO(), record=True, width=width, color_system="standard" if color else None
    )
    console.print(f"prodready verify {card.app} ({card.root})", highlight=False)
    for line in card.boot:
        console.print(f"  {line}", highlight=False, style="dim")
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("item")
    table.add_column("result")
    table.add_column("evidence", overflow="fold")
    table.add_column("time", justify="right")
    for item in card.items:
        table.add_row(
            item.title,
            f"[{STYLES[item.status]}]{MARKS[item.status]}[/]",
            item.summary,
            f"{item.seconds:.1f}s",
        )
    console.print(table)
    for item in card.items:
        if item.status in (Status.FAIL, Status.WARN) and (item.details or item.log):
            console.print(f"\n{item.title}: {MARKS[item.status]}", style=STYLES[item.status])
            for line in item.details:
                console.print(f"  {line}", highlight=False, markup=False)
            if item.log:
                for line in item.log.rstrip().splitlines()[-12:]:
                    console.print(f"  | {line}", highlight=False, markup=False)
    console.print(f"\n{card.summary_line()}", highlight=False)
    return console.export_text(styles=color)

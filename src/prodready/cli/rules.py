"""`prodready rules [ID]`: list every rule, or explain one; `--markdown` renders docs/rules.md."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from prodready.errors import UsageError


def rules(
    rule_id: str | None = typer.Argument(None, help="A rule id such as PR203 to explain."),
    markdown: bool = typer.Option(
        False, "--markdown", help="Print the rule reference as Markdown."
    ),
) -> None:
    """List every check rule, or explain one (why, fix, example)."""
    from prodready.check.docs import rules_markdown
    from prodready.check.registry import load_rules

    registry = load_rules()
    console = Console(highlight=False, soft_wrap=True)
    if markdown:
        typer.echo(rules_markdown(registry.values()), nl=False)
        return
    if rule_id is None:
        table = Table(show_edge=False, box=None, pad_edge=False)
        for column in ("id", "severity", "runs on", "title"):
            table.add_column(column)
        for rule in registry.values():
            table.add_row(rule.id, rule.severity.value, rule.kind, rule.title)
        console.print(table)
        console.print(f"\n{len(registry)} rules. `prodready rules PRxxx` explains one.")
        return
    rule = registry.get(rule_id.upper())
    if rule is None:
        raise UsageError(f"no rule {rule_id}", "`prodready rules` lists every rule id")
    console.print(f"[bold]{rule.id} {rule.name}[/bold]: {escape(rule.title)}")
    console.print(
        f"severity: {escape(rule.severity_text)}   runs on: {rule.kind}   family: {rule.family}"
    )
    console.print(f"source: {rule.source} ({rule.func.__name__})")
    if rule.guideline:
        console.print(f"guideline: {escape(rule.guideline)}")
    console.print(f"\n[bold]Why[/bold]\n{escape(rule.why)}\n\n[bold]Fix[/bold]\n{escape(rule.fix)}")
    console.print(
        f"\n[bold]Bad[/bold]\n{escape(rule.bad)}\n\n[bold]Good[/bold]\n{escape(rule.good)}"
    )


def register(app: typer.Typer) -> None:
    app.command("rules")(rules)

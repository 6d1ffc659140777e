"""Migrations the running release cannot live with.

During a deploy the old release keeps serving after the new release's migrations ran. A
migration that drops or renames a column or table breaks the old code's queries for that
window (and makes a rollback impossible). Expand/contract avoids it: add the new shape first,
deploy code that uses it, and drop the old shape in a later release."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ALEMBIC_BREAKING = {
    "drop_column": "drops a column",
    "drop_table": "drops a table",
    "rename_table": "renames a table",
}
DJANGO_BREAKING = {
    "RemoveField": "removes a field (drops its column)",
    "RenameField": "renames a field (renames its column)",
    "DeleteModel": "deletes a model (drops its table)",
    "RenameModel": "renames a model (renames its table)",
}
EXPAND_CONTRACT = (
    "the running release still uses the old column or table until the switch, and a rollback "
    "needs it again: expand/contract instead (add the new one and deploy code that writes "
    "both; drop the old one in a later release), or pass --allow-breaking-migration"
)


@dataclass(frozen=True)
class BreakingChange:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def scan(files: list[Path], root: Path) -> list[BreakingChange]:
    found: list[BreakingChange] = []
    for path in files:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (OSError, SyntaxError, UnicodeDecodeError):
            continue
        rel = str(path.relative_to(root))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                what = _breaking_call(node)
                if what:
                    found.append(BreakingChange(rel, node.lineno, what))
    return found


def _breaking_call(call: ast.Call) -> str | None:
    func = call.func
    name = (
        func.attr
        if isinstance(func, ast.Attribute)
        else func.id
        if isinstance(func, ast.Name)
        else ""
    )
    owner = (
        func.value.id
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
        else ""
    )
    if owner == "op" and name in ALEMBIC_BREAKING:
        return f"op.{name} {ALEMBIC_BREAKING[name]}"
    renames = any(k.arg == "new_column_name" for k in call.keywords)
    if owner == "op" and name == "alter_column" and renames:
        return "op.alter_column(new_column_name=...) renames a column"
    if owner in ("migrations", "") and name in DJANGO_BREAKING:
        return f"migrations.{name} {DJANGO_BREAKING[name]}"
    return None


def new_migration_files(files: list[Path], root: Path, running: Path | None) -> list[Path]:
    """The files of `root` that the running release (at `running`) does not have."""
    if running is None:
        return files
    return [f for f in files if not (running / f.relative_to(root)).exists()]

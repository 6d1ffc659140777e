"""The plan and the result as text for people and as JSON for machines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prodready.db.migrate.plan import MigrationPlan
from prodready.db.migrate.run import Outcome


def _table(rows: list[list[str]], header: list[str]) -> list[str]:
    """Left-aligned columns, two spaces apart (plain text: logs and CI keep it readable)."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(header), *(line(r) for r in rows)]


def plan_text(plan: MigrationPlan) -> str:
    out = [f"plan: {len(plan.tables)} tables, {plan.rows:,} rows; {'; '.join(plan.notes)}"]
    for table in plan.tables:
        out.append("")
        out.append(f"{table.name} ({table.rows:,} rows)")
        rows = []
        for col in table.columns:
            target = col.target_type + (" identity" if col.identity else "")
            if col.default is not None:
                target += f" default {col.default}"
            rows.append(
                ["  " + col.name, col.source_type, target, col.cast.kind, "; ".join(col.notes)]
            )
        out += _table(rows, ["  column", "source", "postgresql", "cast", "notes"])
        extras = []
        if table.foreign_keys:
            extras.append(
                "foreign keys: "
                + ", ".join(
                    f"{','.join(f.columns)} → {f.ref_table}({','.join(f.ref_columns)})"
                    for f in table.foreign_keys
                )
                + " (added NOT VALID, then validated)"
            )
        if table.indexes or table.uniques:
            extras.append(
                f"indexes: {len(table.indexes)}, unique constraints: {len(table.uniques)}"
            )
        out += [f"  {e}" for e in extras]
    out.append("")
    out.append(
        "lossy: a value its cast cannot keep (not 0/1 for a boolean, text that is not a "
        "timestamp, a number out of range, text longer than varchar) stops the run with its "
        "row, unless --on-error skip"
    )
    return "\n".join(out)


def result_text(outcome: Outcome, rejects: Path | None) -> str:
    plan = outcome.plan
    out = [
        f"migrated {len(plan.tables)} tables, {plan.rows:,} rows in {outcome.seconds:.1f} s "
        f"({'app schema kept' if plan.mode == 'data' else 'schema created'}"
        f"{', resumed' if outcome.resumed else ''})"
    ]
    if outcome.rejected:
        rows = "row" if outcome.rejected == 1 else "rows"
        out.append(f"skipped {outcome.rejected} {rows} that could not be kept: {rejects}")
    out += [f"warning: {w}" for w in outcome.warnings]
    verdict = outcome.verdict
    if verdict is None:
        out.append("not verified (--no-verify)")
        return "\n".join(out)
    rows = [
        [
            check.table,
            f"{check.source.rows:,}",
            f"{check.target.rows:,}",
            check.hash_hex,
            "ok" if check.ok else "DIFFERS",
        ]
        for check in verdict.tables
    ]
    out.append("")
    out += _table(rows, ["table", "source rows", "target rows", "hash", "verified"])
    out.append("")
    out.append(
        "sequences ≥ max(pk), no orphaned foreign keys: "
        + ("ok" if not verdict.problems else f"{len(verdict.problems)} problems")
    )
    out.append("verification: " + ("every row matches" if verdict.ok else "DIFFERENCES FOUND"))
    return "\n".join(out)


def summary(outcome: Outcome, rejects: Path | None) -> dict[str, Any]:
    verdict = outcome.verdict
    return {
        "plan": outcome.plan.to_json(),
        "rows": outcome.plan.rows,
        "seconds": round(outcome.seconds, 3),
        "resumed": outcome.resumed,
        "rejected": outcome.rejected,
        "reject_file": str(rejects) if rejects and outcome.rejected else None,
        "warnings": outcome.warnings,
        "verified": None if verdict is None else verdict.ok,
        "tables": [
            {
                "table": c.table,
                "source_rows": c.source.rows,
                "target_rows": c.target.rows,
                "hash": c.hash_hex,
                "ok": c.ok,
            }
            for c in (verdict.tables if verdict else [])
        ],
        "differences": verdict.differences() if verdict else [],
    }

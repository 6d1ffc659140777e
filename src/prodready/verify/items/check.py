"""check: `prodready check` on the app finds no error."""

from __future__ import annotations

from prodready.check.model import Severity
from prodready.verify.model import ItemResult, counted
from prodready.verify.stage import Stage

TITLE = "check"


def verify(stage: Stage) -> ItemResult:
    findings = stage.check_findings
    errors = [f for f in findings if f.severity is Severity.ERROR]
    warnings = [f for f in findings if f.severity is Severity.WARNING]
    measures = {"errors": len(errors), "warnings": len(warnings), "findings": len(findings)}
    details = [f"{f.path}:{f.line} {f.rule_id} {f.message}" for f in errors[:20]]
    if errors:
        rules = sorted({f.rule_id for f in errors})
        return ItemResult.failed(
            "check", TITLE, f"{counted(len(errors), 'error')} ({', '.join(rules[:8])}"
            + (", ..." if len(rules) > 8 else "") + f"), {counted(len(warnings), 'warning')}",
            measures=measures, details=details,
        )  # fmt: skip
    return ItemResult.passed(
        "check", TITLE, f"0 errors, {counted(len(warnings), 'warning')}", measures=measures
    )

"""Renders a CheckResult: text for people (grouped by file, colour, a hint per finding, a summary
line), JSON and SARIF 2.1.0 for machines (clean stdout, paths relative to DIR)."""

from __future__ import annotations

import json
from collections import Counter
from itertools import groupby
from typing import Any

from rich.console import Console
from rich.markup import escape

from prodready import __version__
from prodready.check.engine import CheckResult
from prodready.check.model import Finding, Rule, Severity
from prodready.project.model import EnvFact, FileKind, Project

SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/prodready/prodready"


def summary_counts(findings: list[Finding]) -> dict[str, int]:
    counts = Counter(f.severity.value for f in findings)
    return {s.value: counts.get(s.value, 0) for s in Severity}


def render_text(result: CheckResult, console: Console, unsafe_fixes: bool = False) -> None:
    """`unsafe_fixes`: label behaviour-changing fixes too; by default they are hidden, as in
    ruff, and only counted in the summary line."""
    findings = result.findings
    for path, group in groupby(findings, key=lambda f: f.path):
        console.print(f"[bold]{escape(path)}[/bold]")
        for finding in group:
            style = SEVERITY_STYLE[finding.severity]
            location = f"{finding.line}:{finding.column}"
            label = _fix_label(finding, unsafe_fixes) if finding.fix else ""
            fixable = f" [dim]{label}[/dim]" if label else ""
            console.print(
                f"  {location:>7}  [{style}]{finding.severity.value:<7}[/{style}] "
                f"[bold]{finding.rule_id}[/bold]  {escape(finding.message)}{fixable}"
            )
            if finding.hint:
                console.print(f"  {'':>7}  [dim]fix: {escape(finding.hint)}[/dim]")
        console.print()
    console.print(summary_line(result, unsafe_fixes))


def render_environments(project: Project, console: Console) -> None:
    """Where each deployment file, compose service, Dockerfile stage and launch runs, and
    why (`check --show-env`). Python modules are left out: only tests are not production."""
    rows = [
        (source.rel, source.env)
        for source in project.files
        if source.kind != FileKind.PYTHON or not source.env.production
    ]
    for (rel, service), fact in project.services_env.items():
        rows.append((f"{rel} service {service}", fact))
    for dockerfile in project.dockerfiles:
        if len(dockerfile.stages) > 1:
            for stage in dockerfile.stages:
                fact = project.stages_env[(dockerfile.rel, stage.index)]
                rows.append((f"{dockerfile.rel} stage {stage.alias or stage.index}", fact))
    console.print("[bold]Environments[/bold]")
    width = max((len(what) for what, _ in rows), default=0)
    for what, fact in sorted(rows, key=lambda row: row[0]):
        reason = escape(fact.reason)
        console.print(f"  {escape(what):<{width}}  {fact.env.value:<11}  [dim]{reason}[/dim]")
    console.print()


def environments_json(project: Project) -> dict[str, list[dict[str, Any]]]:
    """Each file's, compose service's, Dockerfile stage's and launch's environment and reason."""
    return {
        "files": [
            {"path": s.rel, "kind": s.kind.value, **_fact_json(s.env)} for s in project.files
        ],
        "services": [
            {"path": rel, "service": service, **_fact_json(fact)}
            for (rel, service), fact in project.services_env.items()
        ],
        "stages": [
            {
                "path": dockerfile.rel,
                "stage": stage.alias or str(stage.index),
                "built": stage is dockerfile.built,
                **_fact_json(project.stages_env[(dockerfile.rel, stage.index)]),
            }
            for dockerfile in project.dockerfiles
            for stage in dockerfile.stages
        ],
        "launches": [
            {
                "path": launch.rel,
                "line": launch.line,
                "source": launch.source,
                "context": launch.context,
                "command": list(launch.argv),
                **_fact_json(launch.env),
            }
            for launch in project.launches
        ],
    }


def _fact_json(fact: EnvFact) -> dict[str, str]:
    return {"environment": fact.env.value, "reason": fact.reason}


def _fix_label(finding: Finding, unsafe_fixes: bool) -> str:
    assert finding.fix is not None
    if finding.fix.safe:
        return "(fixable)"
    return "(unsafe fix available)" if unsafe_fixes else ""


def summary_line(result: CheckResult, unsafe_fixes: bool = False) -> str:
    findings = result.findings
    counts = summary_counts(findings)
    files = len({f.path for f in findings})
    scanned = len(result.project.files)
    if not findings:
        head = f"No findings in {scanned} files"
    else:
        parts = ", ".join(
            f"{n} {name}{'s' if n != 1 and name != 'info' else ''}"
            for name, n in counts.items()
            if n
        )
        head = (
            f"{len(findings)} finding{'s' if len(findings) != 1 else ''} ({parts}) "
            f"in {files} of {scanned} files"
        )
    extras = []
    if result.suppressed:
        extras.append(f"{result.suppressed} suppressed")
    if result.baselined:
        extras.append(f"{result.baselined} in baseline")
    safe = sum(1 for f in findings if f.fix and f.fix.safe)
    unsafe = sum(1 for f in findings if f.fix and not f.fix.safe)
    if safe:
        extras.append(f"{safe} fixable with --fix")
    if unsafe and unsafe_fixes:
        extras.append(f"{unsafe} more with --fix --unsafe-fixes")
    elif unsafe:
        hidden = f"{unsafe} hidden fix{'es' if unsafe != 1 else ''}"
        extras.append(f"{hidden} can be enabled with --fix --unsafe-fixes")
    return head + (f"; {', '.join(extras)}" if extras else "") + "."


def render_json(result: CheckResult) -> str:
    data = {
        "tool": "prodready",
        "version": __version__,
        "root": str(result.project.root),
        "summary": {
            **summary_counts(result.findings),
            "total": len(result.findings),
            "files_scanned": len(result.project.files),
            "suppressed": result.suppressed,
            "baselined": result.baselined,
        },
        "findings": [
            {
                "rule": f.rule_id,
                "title": f.title,
                "severity": f.severity.value,
                "path": f.path,
                "line": f.line,
                "column": f.column,
                "message": f.message,
                "hint": f.hint,
                "fix": None
                if f.fix is None
                else {"description": f.fix.description, "safe": f.fix.safe},
            }
            for f in result.findings
        ],
        "environments": environments_json(result.project),
    }
    return json.dumps(data, indent=2)


def render_sarif(result: CheckResult) -> str:
    rules = list(result.rules.values())
    index = {rule.id: position for position, rule in enumerate(rules)}
    fingerprints = {id(f): fp for f, fp in result.fingerprints}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "prodready",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_sarif_rule(rule) for rule in rules],
            }
        },
        "originalUriBaseIds": {"SRCROOT": {"uri": result.project.root.resolve().as_uri() + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": [
            _sarif_result(f, index[f.rule_id], fingerprints.get(id(f))) for f in result.findings
        ],
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2)


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    help_text = f"{rule.why}\n\nFix: {rule.fix}"
    markdown = (
        f"{rule.why}\n\n**Fix:** {rule.fix}\n\nBad:\n```\n{rule.bad}\n```\n\n"
        f"Good:\n```\n{rule.good}\n```"
    )
    return {
        "id": rule.id,
        "name": _pascal(rule.name),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.why},
        "help": {"text": help_text, "markdown": markdown},
        "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
        "properties": {"tags": [rule.kind], "problem.severity": rule.severity.value},
    }


def _sarif_result(finding: Finding, rule_index: int, fingerprint: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": SARIF_LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": finding.path, "uriBaseId": "SRCROOT"},
                    "region": {"startLine": finding.line, "startColumn": finding.column},
                }
            }
        ],
    }
    if fingerprint:
        result["partialFingerprints"] = {"prodready/v1": fingerprint}
    return result


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))

"""Runs the rules: Python rules inside the detection pass's parallel workers (each module parsed
once), file rules on each parsed deployment file, cross-file rules on the Project; then applies
inline suppressions, the config and the baseline."""

from __future__ import annotations

import ast
import dataclasses
import functools
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from prodready.check import baseline as baseline_module
from prodready.check.config import CheckConfig, load_config
from prodready.check.context import FileContext
from prodready.check.model import Finding, Hit, Rule, Severity
from prodready.check.pycontext import PyContext
from prodready.check.registry import RULES, load_rules
from prodready.check.suppress import suppressed_by_config, suppressed_inline
from prodready.project import detect
from prodready.project.environments import by_name
from prodready.project.files import project_text
from prodready.project.limits import TOO_DEEP
from prodready.project.model import FileKind, Project

PROBLEM_RULE = "PR001"


@dataclass
class CheckResult:
    project: Project
    findings: list[Finding]
    rules: dict[str, Rule]
    config: CheckConfig
    suppressed: int = 0
    baselined: int = 0
    fingerprints: list[tuple[Finding, str]] = field(default_factory=list)


def run_check(
    root: Path,
    baseline: Path | None = None,
    select: set[str] | None = None,
) -> CheckResult:
    rules = load_rules()
    if not root.is_dir():
        detect(root)  # raises the right InputError for a missing path or a file
    config = load_config(root, set(rules))
    enabled = frozenset(
        rid for rid in rules if rid not in config.ignore and (select is None or rid in select)
    )
    hook = functools.partial(_python_rules, enabled)
    project = detect(root, exclude=config.exclude, python_hook=hook)
    raw: list[Finding] = []
    for findings in project.hook_results.values():
        raw.extend(findings or [])
    raw.extend(_file_rules(project, rules, enabled))
    raw.extend(_project_rules(project, rules, enabled))
    raw.extend(_problems(project, rules, enabled))
    raw = _calibrated(project, rules, raw)
    raw = [f for f in raw if (f.path, f.setting) not in project.settings_overrides]
    return _filter(project, rules, config, raw, baseline)


def first_paragraph(text: str) -> str:
    """The fix hint shown under a finding: the first paragraph of the rule's fix, on one line."""
    return " ".join(text.split("\n\n", 1)[0].split())


def _finding(rule: Rule, path: str, hit: Hit) -> Finding:
    return Finding(
        rule_id=rule.id,
        severity=hit.severity or rule.severity,
        path=hit.path or path,
        line=max(1, hit.line),
        column=max(1, hit.column),
        message=hit.message,
        hint=first_paragraph(rule.fix),
        title=rule.title,
        fix=hit.fix,
        setting=hit.setting,
        direct_run=hit.direct_run,
    )


@functools.cache
def _python_rule_ids(enabled: frozenset[str]) -> tuple[str, ...]:
    """Which enabled rules are Python rules: worked out once per worker, not once per module.
    Ids, not Rule objects, so the registry stays the one source of the rules themselves."""
    return tuple(
        r.id for r in load_rules().values() if r.kind == FileKind.PYTHON and r.id in enabled
    )


def _python_rules(
    enabled: frozenset[str], rel: str, source: str, tree: ast.Module | None
) -> list[Finding]:
    """Runs in the detection workers. Test modules get dev_files rules only (a Python file's
    environment comes from its path alone, so the worker can know it)."""
    if tree is None:
        return []
    rules = [RULES[rule_id] for rule_id in _python_rule_ids(enabled)]  # ids loaded the rules
    if not rules:
        return []
    ctx = PyContext.build(rel, source, tree)
    dev = not by_name(rel, FileKind.PYTHON).deployed
    found = []
    for rule in rules:
        if dev and not rule.dev_files:
            continue
        found.extend(_run_rule(rule, ctx, rel))
    return found


PARSED_BY_KIND = {
    FileKind.DOCKERFILE: "dockerfiles",
    FileKind.COMPOSE: "compose_files",
    FileKind.NGINX: "nginx_confs",
    FileKind.SYSTEMD: "systemd_units",
    FileKind.GUNICORN: "gunicorn_configs",
    FileKind.ENV: "env_files",
}


def _file_rules(project: Project, rules: dict[str, Rule], enabled: frozenset[str]) -> list[Finding]:
    parsed: dict[str, object] = {}
    for attribute in PARSED_BY_KIND.values():
        for item in getattr(project, attribute):
            parsed[item.rel] = item
    by_kind: dict[str, list[Rule]] = {}
    for rule in rules.values():
        if rule.id in enabled and rule.kind not in ("project", FileKind.PYTHON):
            by_kind.setdefault(rule.kind, []).append(rule)
    found: list[Finding] = []
    for source in project.files:
        kind_rules = by_kind.get(source.kind)
        if not kind_rules:
            continue
        text = project.texts.get(source.rel)
        if text is None:
            continue
        ctx = FileContext(project, source, parsed.get(source.rel), text.splitlines())
        if ctx.parsed is None and source.kind in PARSED_BY_KIND:
            continue
        everywhere = replace(ctx, everywhere=True)
        for rule in kind_rules:
            if rule.dev_files:
                found.extend(_run_rule(rule, everywhere, source.rel))
            elif source.env.deployed:
                found.extend(_run_rule(rule, ctx, source.rel))
    return found


def _project_rules(
    project: Project, rules: dict[str, Rule], enabled: frozenset[str]
) -> list[Finding]:
    found: list[Finding] = []
    for rule in rules.values():
        if rule.kind == "project" and rule.id in enabled:
            found.extend(_run_rule(rule, project, None))
    return found


def _run_rule(rule: Rule, ctx: object, path: str | None) -> list[Finding]:
    """The rule's findings on one file (or, with no path, on the project). A rule that raises is
    a bug in prodready, not in the user's files: it becomes one PR001 finding naming the rule,
    and the rest of the check goes on instead of ending in a traceback."""
    try:
        hits = list(rule.func(ctx))
    except RecursionError:  # the user's file, not the rule, is too deep to walk
        message = f"{TOO_DEEP} (rule {rule.id})"
        return [_problem(path or ".", message, "simplify the expression, or exclude the file")]
    except Exception as error:  # any rule bug must not end the whole check
        message = (
            f"rule {rule.id} stopped with an internal error here "
            f"({type(error).__name__}: {error}); the rest of the check ran. "
            "This is a prodready bug: please report it"
        )
        return [
            _problem(path or ".", message[:400], "report the bug; suppress this rule meanwhile")
        ]
    if path is None and any(hit.path is None for hit in hits):
        raise ValueError(f"cross-file rule {rule.id} must give a path")
    return [_finding(rule, hit.path or path or ".", hit) for hit in hits]


def _calibrated(project: Project, rules: dict[str, Rule], raw: list[Finding]) -> list[Finding]:
    """Findings with the severity their rule's `calibrate` gives them in this project, without
    those it drops."""
    out = []
    for finding in raw:
        calibrate = rules[finding.rule_id].calibrate
        if calibrate is not None:
            severity = calibrate(project, finding)
            if severity is None:
                continue
            finding = dataclasses.replace(finding, severity=severity)
        out.append(finding)
    return out


def _problem(path: str, message: str, hint: str) -> Finding:
    """A PR001 finding for a file no rule could finish on."""
    return Finding(PROBLEM_RULE, Severity.WARNING, path, 1, 1, message, hint, "Rule failed")


def _problems(project: Project, rules: dict[str, Rule], enabled: frozenset[str]) -> list[Finding]:
    """Unreadable and unparsable files become PR001 findings, so the scan goes on."""
    if PROBLEM_RULE not in enabled:
        return []
    rule = rules[PROBLEM_RULE]
    seen = set()
    found = []
    for problem in project.problems:
        key = (problem.rel, problem.line, problem.message)
        if key not in seen:
            seen.add(key)
            found.append(_finding(rule, problem.rel, Hit(problem.line, problem.message)))
    return found


def _filter(
    project: Project,
    rules: dict[str, Rule],
    config: CheckConfig,
    raw: list[Finding],
    baseline: Path | None,
) -> CheckResult:
    result = CheckResult(project, [], rules, config)
    lines_cache: dict[str, list[str]] = {}
    known = Counter(baseline_module.read(baseline)) if baseline else Counter()
    unique = {(f.rule_id, f.path, f.line, f.column, f.message): f for f in raw}
    for finding in sorted(unique.values(), key=Finding.sort_key):
        lines = lines_cache.get(finding.path)
        if lines is None:
            text = project_text(project, finding.path)
            lines = lines_cache[finding.path] = (text or "").splitlines()
        if suppressed_by_config(finding, config) or suppressed_inline(finding, lines):
            result.suppressed += 1
            continue
        line_text = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
        fp = baseline_module.fingerprint(finding, line_text)
        result.fingerprints.append((finding, fp))
        if known[fp] > 0:
            known[fp] -= 1
            result.baselined += 1
            continue
        result.findings.append(finding)
    return result


def exit_code(findings: list[Finding], fail_on: str) -> int:
    if fail_on == "never":
        return 0
    threshold = Severity(fail_on).rank
    return 1 if any(f.severity.rank >= threshold for f in findings) else 0

"""The rule registry. Rule modules register with `@rule(...)`; ids are stable forever."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable

from prodready.check.model import Rule, RuleFunc, Severity

RULES: dict[str, Rule] = {}
RULE_ID = re.compile(r"^PR\d{3}$")
RULE_MODULES = (
    "prodready.check.rules.meta",
    "prodready.check.rules.python",
    "prodready.check.rules.python_settings",
    "prodready.check.rules.python_secrets",
    "prodready.check.rules.python_io",
    "prodready.check.rules.python_net",
    "prodready.check.rules.dockerfile",
    "prodready.check.rules.compose",
    "prodready.check.rules.nginx",
    "prodready.check.rules.systemd",
    "prodready.check.rules.gunicorn",
    "prodready.check.rules.envfile",
    "prodready.check.rules.dependencies",
    "prodready.check.rules.crossfile",
)


def rule(
    id: str,
    name: str,
    *,
    title: str,
    severity: Severity,
    kind: str,
    why: str,
    fix: str,
    bad: str,
    good: str,
    guideline: str | None = None,
    dev_files: bool = False,
    severity_note: str | None = None,
) -> Callable[[RuleFunc], RuleFunc]:
    """Registers a rule function. `why` and `fix` are shown by `prodready rules ID`;
    `severity_note` documents when a finding's severity differs from `severity`."""
    if not RULE_ID.match(id):
        raise ValueError(f"rule id {id!r} must look like PR123")

    def register(func: RuleFunc) -> RuleFunc:
        if id in RULES:
            raise ValueError(f"rule id {id} registered twice ({RULES[id].name} and {name})")
        RULES[id] = Rule(
            id,
            name,
            title,
            severity,
            kind,
            why.strip(),
            fix.strip(),
            bad.strip("\n"),
            good.strip("\n"),
            func,
            guideline,
            dev_files,
            severity_note,
        )
        return func

    return register


def load_rules() -> dict[str, Rule]:
    """Imports every rule module once and returns the registry, ordered by id."""
    for module in RULE_MODULES:
        importlib.import_module(module)
    return dict(sorted(RULES.items()))

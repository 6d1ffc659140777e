"""The rule registry. Every rule module is listed in RULE_MODULES; its rules register with
`@rule(...)` when load_rules() imports it. Ids are stable forever."""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from pathlib import Path

from prodready.check.model import Calibration, Rule, RuleFunc, Severity

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
    "prodready.check.rules.dockerfile_build",
    "prodready.check.rules.compose",
    "prodready.check.rules.nginx",
    "prodready.check.rules.systemd",
    "prodready.check.rules.gunicorn",
    "prodready.check.rules.envfile",
    "prodready.check.rules.dependencies",
    "prodready.check.rules.crossfile",
    "prodready.check.rules.crossfile_apps",
    "prodready.check.rules.crossfile_ports",
    "prodready.check.rules.crossfile_launch",
    "prodready.check.rules.streams",
)
FAMILY_OF_KIND = {
    "requirements": "dependencies",
    "pyproject": "dependencies",
    "pipfile": "dependencies",
    "project": "crossfile",
}
"""A rule's family (its section in the docs) when the rule does not name one: its kind's."""
PACKAGE_ROOT = Path(__file__).resolve().parents[2]


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
    family: str | None = None,
    calibrate: Calibration | None = None,
    severity_note: str | None = None,
) -> Callable[[RuleFunc], RuleFunc]:
    """Registers a rule function. `why` and `fix` are shown by `prodready rules ID`. `kind`
    is what the rule runs on; `family` groups it in the docs (default: from the kind);
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
            family or FAMILY_OF_KIND.get(str(kind), str(kind)),
            _source_of(func),
            calibrate,
            severity_note,
        )
        return func

    return register


def _source_of(func: RuleFunc) -> str:
    """`prodready/check/rules/dockerfile.py`: the file the rule's function is written in."""
    path = Path(inspect.getsourcefile(inspect.unwrap(func)) or "?").resolve()
    shown = path.relative_to(PACKAGE_ROOT) if path.is_relative_to(PACKAGE_ROOT) else path
    return shown.as_posix()


def load_rules() -> dict[str, Rule]:
    """Imports every rule module once and returns the registry, ordered by id."""
    for module in RULE_MODULES:
        importlib.import_module(module)
    return dict(sorted(RULES.items()))

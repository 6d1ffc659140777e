"""The vocabulary of `check`: severities, rules, hits, findings and fixes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


@dataclass(frozen=True)
class Edit:
    """Replace `old` with `new` in lines `line`..`end_line` of a file (first occurrence).
    An empty `old` inserts `new` (one or more whole lines) before `line`."""

    rel: str
    line: int
    old: str
    new: str
    end_line: int | None = None


@dataclass(frozen=True)
class Fix:
    description: str
    edits: tuple[Edit, ...]
    safe: bool = True
    """False when the fix changes behaviour (e.g. naive -> aware datetimes): --unsafe-fixes."""


@dataclass(frozen=True)
class Hit:
    """What a rule reports: a place and a message. `path` defaults to the file being checked
    (cross-file rules always give it)."""

    line: int
    message: str
    column: int = 1
    path: str | None = None
    fix: Fix | None = None
    severity: Severity | None = None
    """Overrides the rule's severity for this hit (e.g. CORS * is worse with credentials)."""
    setting: str | None = None
    """The module-level name the hit is about (SECRET_KEY, DATABASES): the hit is dropped when
    a production module that copies this one with `import *` assigns that name again."""
    direct_run: bool = False
    """The code is reached only when the file is run as a script (`python serve.py`): a rule's
    calibration can ask whether production does that."""


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: Severity
    path: str
    line: int
    column: int
    message: str
    hint: str
    title: str
    fix: Fix | None = None
    setting: str | None = None
    """See Hit.setting."""
    direct_run: bool = False
    """See Hit.direct_run."""

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.rule_id)


RuleFunc = Callable[[Any], Iterable[Hit]]
Calibration = Callable[[Any, "Finding"], Severity | None]
"""(project, finding) -> the severity the finding has in this project, or None when a project
fact shows it is not a problem there."""


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    title: str
    severity: Severity
    kind: str
    """What the rule runs on: a FileKind value, "project" (the whole Project) or "meta"."""
    why: str
    fix: str
    bad: str
    good: str
    func: RuleFunc = field(repr=False, compare=False)
    guideline: str | None = None
    dev_files: bool = False
    """Also run on development-only files (compose overrides, .env.example, tests ...)."""
    family: str = ""
    """How the docs group the rule (dependencies, crossfile, ...), apart from its kind."""
    source: str = ""
    """The file the rule is written in: `prodready/check/rules/<module>.py`."""
    calibrate: Calibration | None = field(default=None, repr=False, compare=False)
    """For a rule whose weight depends on a project fact that per-file rules cannot see (the
    target Python version, known only once every file is read): applied to each finding,
    which it may drop."""
    severity_note: str | None = None
    """When a finding gets another severity than `severity`, and why (shown in the docs)."""

    @property
    def severity_text(self) -> str:
        """The severity as documented: 'error', or 'error; warning when ...'."""
        if self.severity_note is None:
            return self.severity.value
        return f"{self.severity.value}; {self.severity_note}"

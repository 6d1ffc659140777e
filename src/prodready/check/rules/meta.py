"""PR001: files that could not be read or parsed. The scan goes on; this says what was skipped."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from prodready.check.model import Finding, Hit, Severity
from prodready.check.registry import rule
from prodready.check.rules._common import target_python
from prodready.project.model import Project
from prodready.project.pyscan import SYNTAX_ERROR


def _newer_syntax(project: Project, finding: Finding) -> Severity:
    """A syntax error in a project that targets a newer Python than the one prodready runs on
    may be valid syntax there (PEP 695 `type X = ...`, PEP 701 f-strings, PEP 758 `except A,
    B:`): info, not a warning, and the message says which Python parsed it."""
    target = target_python(project)
    if finding.message.startswith(SYNTAX_ERROR) and target and target > sys.version_info[:2]:
        return Severity.INFO
    return finding.severity


@rule(
    "PR001",
    "unreadable-file",
    title="File could not be read or parsed",
    severity=Severity.WARNING,
    kind="meta",
    why="""
A deployment file that prodready cannot parse is one that the real tool (Python, Docker,
Compose, nginx, systemd) will likely reject too, or read differently from what you meant.
Files that are binary, not UTF-8, too large, unreadable, or behind a broken or looping
symlink are reported here and skipped; the rest of the scan goes on.
""",
    fix="Fix the syntax error named in the message, or exclude the file in [tool.prodready].",
    bad="services:\n  web:\n    image: app\n   ports: [80]   # bad indentation",
    good="services:\n  web:\n    image: app\n    ports: ['80:8000']",
    dev_files=True,
    calibrate=_newer_syntax,
)
def unreadable_file(project: Project) -> Iterable[Hit]:
    """Reported by the engine from project.problems; registered here for docs and SARIF."""
    return ()

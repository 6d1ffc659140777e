"""PR001: files that could not be read or parsed. The scan goes on; this says what was skipped."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable

from prodready.check.model import Finding, Hit, Severity
from prodready.check.registry import rule
from prodready.check.rules._common import target_python
from prodready.project.files import project_text
from prodready.project.model import Project
from prodready.project.pyscan import SYNTAX_ERROR

PEP_701 = (3, 12)
F_STRING_ERROR = "): f-string"
"""How 3.11 words a PEP 701 f-string it cannot parse: `(parsed as Python 3.11): f-string: ...`."""
UNTERMINATED = "unterminated string literal"
F_STRING_OPENING = re.compile(r"""(?<![\w])[rRbB]?[fF][rR]?(?:'|")(?!'|")""")
"""An f-string's opening quote (not a triple quote, which may span lines anyway)."""


def _multiline_f_string(project: Project, finding: Finding) -> bool:
    """3.11 words a PEP 701 f-string whose replacement field spans lines (`f"-{` then the
    expression on the next lines, polar's backoffice) as an unterminated string literal on the
    line that opens it."""
    if UNTERMINATED not in finding.message:
        return False
    lines = (project_text(project, finding.path) or "").splitlines()
    line = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
    return bool(F_STRING_OPENING.search(line))


def _newer_syntax(project: Project, finding: Finding) -> Severity | None:
    """A syntax error in a project that targets a newer Python than the one prodready runs on
    may be valid syntax there: info, not a warning, and the message says which Python parsed
    it. An f-string error under a 3.12+ target is PEP 701 (quotes reused inside, backslashes
    in the expression), valid there and only unparsable here: not reported. (PEP 695 and 758
    are rewritten and parsed, project/newsyntax.py.)"""
    target = target_python(project)
    if not finding.message.startswith(SYNTAX_ERROR) or not target:
        return finding.severity
    if target >= PEP_701 and (
        F_STRING_ERROR in finding.message or _multiline_f_string(project, finding)
    ):
        return None
    return Severity.INFO if target > sys.version_info[:2] else finding.severity


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

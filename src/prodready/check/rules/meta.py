"""PR001: files that could not be read or parsed. The scan goes on; this says what was skipped."""

from __future__ import annotations

from collections.abc import Iterable

from prodready.check.model import Hit, Severity
from prodready.check.registry import rule
from prodready.project.model import Project


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
)
def unreadable_file(project: Project) -> Iterable[Hit]:
    """Reported by the engine from project.problems; registered here for docs and SARIF."""
    return ()

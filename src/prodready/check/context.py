"""What non-Python file rules read: the project, the file, its parsed form and its lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prodready.project.model import EnvFact, Project, SourceFile


@dataclass
class FileContext:
    project: Project
    source: SourceFile
    parsed: Any
    lines: list[str]
    everywhere: bool = False
    """The rule runs in every environment (`dev_files`), not only on what reaches production."""

    @property
    def rel(self) -> str:
        return self.source.rel

    @property
    def env(self) -> EnvFact:
        """Where this file runs (project.environments)."""
        return self.source.env

    def in_development(self, service: str | None = None) -> bool:
        """The file (or one of its compose services) never reaches production."""
        fact = self.project.service_env(self.rel, service) if service else self.env
        return not fact.deployed

    def checks_service(self, name: str) -> bool:
        """The rule looks at this compose service: it reaches production, or the rule runs
        everywhere."""
        return self.everywhere or self.project.service_env(self.rel, name).deployed

    def line_text(self, line: int) -> str:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""

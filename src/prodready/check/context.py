"""What non-Python file rules read: the project, the file, its parsed form and its lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prodready.project.model import Project, SourceFile


@dataclass
class FileContext:
    project: Project
    source: SourceFile
    parsed: Any
    lines: list[str]

    @property
    def rel(self) -> str:
        return self.source.rel

    def line_text(self, line: int) -> str:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""

"""`.env` files through python-dotenv's parser (the one the apps themselves use to read them)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from dotenv.parser import parse_stream

from prodready.project.model import FileProblem


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str
    line: int


@dataclass
class EnvFile:
    rel: str
    variables: list[EnvVar] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def get(self, name: str) -> EnvVar | None:
        found = [v for v in self.variables if v.name == name]
        return found[-1] if found else None


def parse(rel: str, text: str) -> EnvFile:
    result = EnvFile(rel, lines=text.splitlines())
    for binding in parse_stream(io.StringIO(text)):
        # python-dotenv's binding starts at the blank lines before it: count them out
        raw = binding.original.string
        line = binding.original.line + raw[: len(raw) - len(raw.lstrip())].count("\n")
        if binding.error:
            snippet = binding.original.string.strip()[:60]
            result.problems.append(FileProblem(rel, line, f"malformed line: {snippet}"))
        elif binding.key:
            result.variables.append(EnvVar(binding.key, binding.value or "", line))
    return result

"""systemd unit files: sections of `Key=Value` with line numbers, continuations and repeats."""

from __future__ import annotations

from dataclasses import dataclass, field

from prodready.project.model import FileProblem
from prodready.project.parsers.commands import shell_words


@dataclass(frozen=True)
class UnitSetting:
    section: str
    key: str
    value: str
    line: int


@dataclass
class Unit:
    rel: str
    settings: list[UnitSetting] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def all(self, section: str, key: str) -> list[UnitSetting]:
        return [s for s in self.settings if s.section == section and s.key == key]

    def get(self, section: str, key: str) -> UnitSetting | None:
        """The effective setting: the last one (an empty assignment resets lists in systemd)."""
        found = self.all(section, key)
        return found[-1] if found else None

    def value(self, section: str, key: str, default: str = "") -> str:
        found = self.get(section, key)
        return found.value if found else default

    def has_section(self, section: str) -> bool:
        return any(s.section == section for s in self.settings)


def parse(rel: str, text: str) -> Unit:
    unit = Unit(rel, lines=text.splitlines())
    section = ""
    pending: tuple[str, list[str], int] | None = None
    for number, raw in enumerate(unit.lines, start=1):
        line = raw.rstrip()
        if pending is not None:
            key, parts, start = pending
            if line.endswith("\\"):
                parts.append(line[:-1].strip())
                continue
            parts.append(line.strip())
            unit.settings.append(UnitSetting(section, key, " ".join(parts).strip(), start))
            pending = None
            continue
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1].strip()
            continue
        key, sep, value = stripped.partition("=")
        if not sep or not key.strip():
            unit.problems.append(FileProblem(rel, number, f"not a Key=Value line: {stripped[:60]}"))
            continue
        if not section:
            unit.problems.append(FileProblem(rel, number, "setting outside any [Section]"))
        if value.endswith("\\"):
            pending = (key.strip(), [value[:-1].strip()], number)
            continue
        unit.settings.append(UnitSetting(section, key.strip(), value.strip(), number))
    if pending is not None:
        key, parts, start = pending
        unit.settings.append(UnitSetting(section, key, " ".join(parts).strip(), start))
    return unit


def environment_assignments(value: str) -> list[tuple[str, str]]:
    """`Environment=A=1 "B=two words"` -> [("A", "1"), ("B", "two words")]."""
    words = shell_words(value)
    pairs = []
    for word in words:
        name, sep, assigned = word.partition("=")
        if sep and name:
            pairs.append((name, assigned))
    return pairs

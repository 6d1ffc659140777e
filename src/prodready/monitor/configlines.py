"""Where a key of a parsed TOML or YAML config was written: the parsers give values, not
positions, so the line of `endpoints[2].max_latency` is found in the text (the n-th
`[[endpoints]]` table or YAML list item, then the key after it)."""

from __future__ import annotations

import re


class KeyLines:
    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def line_of(self, key: str) -> int | None:
        """The line of a dotted key such as `endpoints[2].max_latency`, found in the text:
        the n-th `[[endpoints]]` table (TOML) or list item (YAML), then the key after it."""
        parts = re.findall(r"[\w-]+|\[\d+\]", key)
        start = 0
        for part in parts:
            if part.startswith("["):
                index = int(part[1:-1])
                found = self._nth_item(start, index)
                if found is None:
                    return None
                start = found
            else:
                found = self._key_line(start, part)
                if found is None:
                    return None
                start = found
        return start + 1 if parts else None

    def _key_line(self, start: int, name: str) -> int | None:
        pattern = re.compile(rf"^\s*(-\s+)?(\[\[?)?\s*(\w+\.)*{re.escape(name)}\s*(\]\]?|[:=])")
        for number in range(start, len(self.lines)):
            if pattern.match(self.lines[number]):
                return number
        return None

    def _nth_item(self, start: int, index: int) -> int | None:
        header = self.lines[start] if start < len(self.lines) else ""
        if "[[" in header:
            name = header.strip().strip("[]").strip()
            hits = [
                n for n in range(start, len(self.lines)) if self.lines[n].strip() == f"[[{name}]]"
            ]
        elif re.search(r"=\s*\[", header):  # a TOML array: one item a line, or all on this one
            if header.rstrip().endswith("]"):
                return start
            hits = []
            for n in range(start + 1, len(self.lines)):
                stripped = self.lines[n].strip()
                if stripped.startswith("]"):
                    break
                if stripped and not stripped.startswith("#"):
                    hits.append(n)
        else:
            hits = []
            indent: int | None = None
            for n in range(start + 1, len(self.lines)):
                line = self.lines[n]
                stripped = line.lstrip()
                if not stripped or stripped.startswith("#"):
                    continue
                depth = len(line) - len(stripped)
                if stripped.startswith("- ") or stripped == "-":
                    indent = depth if indent is None else indent
                    if depth == indent:
                        hits.append(n)
                elif (indent is not None and depth < indent) or (indent is None and depth == 0):
                    break
        return hits[index] if index < len(hits) else None

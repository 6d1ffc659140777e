"""A small JSONPath: `$.a.b`, `$.items[0].status`, `$['key with space']` — the paths a health
check needs, without a dependency for filters and wildcards the monitor never uses."""

from __future__ import annotations

import re
from typing import Any

_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")

_MISSING = object()


def compile_path(path: str) -> tuple[str | int, ...]:
    """The steps of a path; ValueError when it is not of the supported form."""
    if not path.startswith("$"):
        raise ValueError(f"{path!r}: a JSONPath starts with $")
    steps: list[str | int] = []
    position = 1
    while position < len(path):
        match = _STEP.match(path, position)
        if not match:
            raise ValueError(
                f"{path!r}: cannot read it from {path[position:]!r} "
                "(supported: $.key, $.list[0], $['key'])"
            )
        name, index, quoted, double = match.groups()
        steps.append(int(index) if index is not None else name or quoted or double or "")
        position = match.end()
    return tuple(steps)


def find(document: Any, path: str) -> Any:
    """The value at `path`, or raises KeyError naming the first step that is missing."""
    value = document
    for step in compile_path(path):
        if isinstance(step, int):
            value = value[step] if isinstance(value, list) and step < len(value) else _MISSING
        else:
            value = value.get(step, _MISSING) if isinstance(value, dict) else _MISSING
        if value is _MISSING:
            raise KeyError(f"{path}: no {step!r}")
    return value

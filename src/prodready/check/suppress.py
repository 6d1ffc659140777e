"""Inline suppression: `prodready: ignore[PR101] reason` in a comment on the finding's line or
alone on the line above, in each file kind's comment syntax (#, ;, //)."""

from __future__ import annotations

import fnmatch
import re

from prodready.check.config import CheckConfig
from prodready.check.model import Finding

MARKER = re.compile(r"(?:#|;|//)\s*prodready:\s*ignore\[(?P<ids>[A-Z0-9,\s]+)\]")
COMMENT_ONLY = re.compile(r"^\s*(#|;|//)")


def inline_ids(line: str) -> set[str]:
    match = MARKER.search(line)
    return {i.strip() for i in match["ids"].split(",") if i.strip()} if match else set()


def suppressed_inline(finding: Finding, lines: list[str]) -> bool:
    index = finding.line - 1
    if 0 <= index < len(lines) and finding.rule_id in inline_ids(lines[index]):
        return True
    above = index - 1
    while 0 <= above < len(lines) and COMMENT_ONLY.match(lines[above]):
        if finding.rule_id in inline_ids(lines[above]):
            return True
        above -= 1
    return False


def suppressed_by_config(finding: Finding, config: CheckConfig) -> bool:
    if finding.rule_id in config.ignore:
        return True
    return any(
        finding.rule_id in ids and fnmatch.fnmatch(finding.path, pattern)
        for pattern, ids in config.per_path_ignores.items()
    )

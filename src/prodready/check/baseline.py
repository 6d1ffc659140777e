"""Baselines: record today's findings, report only new ones later.

A finding is identified by rule, file and the text of its line (not the line number), so edits
elsewhere in the file do not make old findings look new."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

from prodready.check.model import Finding
from prodready.errors import InputError

VERSION = 1


def fingerprint(finding: Finding, line_text: str) -> str:
    key = f"{finding.rule_id}\0{finding.path}\0{' '.join(line_text.split())}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def write(path: Path, fingerprints: list[tuple[Finding, str]]) -> None:
    entries = [
        {"rule": f.rule_id, "path": f.path, "line": f.line, "fingerprint": fp}
        for f, fp in fingerprints
    ]
    data = {"version": VERSION, "tool": "prodready", "findings": entries}
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise InputError(
            f"cannot write baseline {path}: {error.strerror or error}",
            "give a writable file path",
        ) from None


def read(path: Path) -> Counter[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"baseline {path} does not exist", "create it with --write-baseline FILE"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(
            f"cannot read baseline {path}: {error}", "recreate it with --write-baseline FILE"
        ) from None
    if (
        not isinstance(data, dict)
        or data.get("version") != VERSION
        or not isinstance(data.get("findings"), list)
    ):
        raise InputError(f"{path} is not a prodready baseline", "recreate it with --write-baseline")
    return Counter(str(e.get("fingerprint")) for e in data["findings"] if isinstance(e, dict))

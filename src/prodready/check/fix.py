"""Applies the fixes findings carry: safe ones with --fix, behaviour-changing ones only with
--unsafe-fixes. Edits are applied bottom-up per file, overlapping edits are skipped, and each
file is replaced atomically (temp file + rename) so an interrupted run never half-writes it."""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from prodready.check.model import Edit, Finding, Fix
from prodready.errors import InputError


@dataclass(frozen=True)
class AppliedFix:
    finding: Finding
    description: str


def applicable(findings: list[Finding], unsafe: bool) -> list[tuple[Finding, Fix]]:
    return [(f, f.fix) for f in findings if f.fix and (f.fix.safe or unsafe)]


def apply_fixes(root: Path, findings: list[Finding], unsafe: bool = False) -> list[AppliedFix]:
    """Applies the fixes and returns those applied. A fix whose edits no longer match the file
    (already fixed, or overlapping another) is skipped whole. Each file keeps its line endings.
    If any file to change cannot be written, nothing is written (InputError)."""
    by_file: dict[str, list[tuple[Finding, Fix]]] = defaultdict(list)
    for finding, fix in applicable(findings, unsafe):
        for rel in dict.fromkeys(edit.rel for edit in fix.edits):
            by_file[rel].append((finding, fix))
    applied: list[AppliedFix] = []
    rewrites: dict[Path, str] = {}
    for rel, fixes in sorted(by_file.items()):
        path = root / rel
        try:
            raw = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        crlf = "\r\n" in raw and raw.count("\r\n") == raw.count("\n")
        text = raw.replace("\r\n", "\n") if crlf else raw
        lines = text.splitlines(keepends=True)
        touched: set[int] = set()
        for finding, fix in sorted(fixes, key=lambda item: -max(e.line for e in item[1].edits)):
            if _apply_all(lines, [e for e in fix.edits if e.rel == rel], touched):
                applied.append(AppliedFix(finding, fix.description))
        new_text = "".join(lines)
        if new_text != text:
            rewrites[path] = new_text.replace("\n", "\r\n") if crlf else new_text
    for path in rewrites:
        _require_writable(root, path)
    for path, new_text in rewrites.items():
        _write_atomic(path, new_text)
    return applied


def _require_writable(root: Path, path: Path) -> None:
    """A read-only file (or directory) is the user's choice: --fix does not replace it."""
    for target, what in ((path, "file"), (path.parent, "directory")):
        if not os.access(target, os.W_OK):
            rel = path.relative_to(root).as_posix()
            raise InputError(
                f"cannot apply fixes to {rel}: the {what} is read-only; nothing was changed",
                "make it writable, or run without --fix",
            )


def _apply_all(lines: list[str], edits: list[Edit], touched: set[int]) -> bool:
    spans = [range(e.line, (e.end_line or e.line) + 1) for e in edits]
    if any(line in touched for span in spans for line in span):
        return False
    trial = list(lines)
    for edit in sorted(edits, key=lambda e: -e.line):
        if not _apply(trial, edit):
            return False
    lines[:] = trial
    for span in spans:
        touched.update(span)
    return True


def _apply(lines: list[str], edit: Edit) -> bool:
    start = edit.line - 1
    if not 0 <= start <= len(lines):
        return False
    if edit.old == "":
        ending = "\n"
        new = edit.new if edit.new.endswith("\n") else edit.new + ending
        lines[start:start] = [new]
        return True
    end = (edit.end_line or edit.line) - 1
    if end >= len(lines):
        return False
    chunk = "".join(lines[start : end + 1])
    if edit.old not in chunk:
        return False
    replaced = chunk.replace(edit.old, edit.new, 1)
    lines[start : end + 1] = replaced.splitlines(keepends=True) if replaced else []
    return True


def _write_atomic(path: Path, text: str) -> None:
    mode = path.stat().st_mode
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(tmp, mode & 0o7777)
        os.replace(tmp, path)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"cannot write fixes to {path}: {error.strerror or error}", None) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

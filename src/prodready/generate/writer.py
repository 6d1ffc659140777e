"""Writes rendered files without clobbering: a new file is created, an identical one is left
as is, a different one is left alone (its diff shown on request) unless `force`.

All or nothing: every file is first written to a temporary file beside its target, and only
when all of them are written are they renamed into place, so a full disk or an unwritable
directory leaves no half-written deployment behind."""

from __future__ import annotations

import contextlib
import difflib
import os
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from prodready.errors import InputError
from prodready.generate.artifact import Rendered


class Status(StrEnum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    DIFFERS = "differs, left alone"
    OVERWRITTEN = "overwritten"
    LEFT_OUT = "left out"
    """Not written: the file that would refer to it (Rendered.used_by) differs, left alone."""


@dataclass(frozen=True)
class Outcome:
    rendered: Rendered
    status: Status
    diff: str = ""

    @property
    def writes(self) -> bool:
        return self.status in (Status.CREATED, Status.OVERWRITTEN)


def plan(root: Path, files: list[Rendered], force: bool) -> list[Outcome]:
    outcomes = []
    for rendered in files:
        target = root / rendered.rel
        if target.is_symlink() and not target.exists():
            # A dangling link is still the user's: replace it only with --force.
            status = Status.OVERWRITTEN if force else Status.DIFFERS
            note = f"{rendered.rel} is a symlink to {os.readlink(target)}, which does not exist\n"
            outcomes.append(Outcome(rendered, status, note))
            continue
        if not target.exists():
            outcomes.append(Outcome(rendered, Status.CREATED))
            continue
        try:
            existing = target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise InputError(f"cannot read {target}: {error}", "fix or move the file") from error
        if existing == rendered.text:
            outcomes.append(Outcome(rendered, Status.UNCHANGED))
            continue
        diff = "".join(
            difflib.unified_diff(
                existing.splitlines(keepends=True),
                rendered.text.splitlines(keepends=True),
                f"a/{rendered.rel}",
                f"b/{rendered.rel}",
            )
        )
        outcomes.append(Outcome(rendered, Status.OVERWRITTEN if force else Status.DIFFERS, diff))
    left_alone = {o.rendered.rel for o in outcomes if o.status == Status.DIFFERS}
    return [
        Outcome(o.rendered, Status.LEFT_OUT, f"{o.rendered.used_by} is left alone")
        if o.rendered.used_by in left_alone and o.status != Status.UNCHANGED
        else o
        for o in outcomes
    ]


def write(root: Path, outcomes: list[Outcome]) -> None:
    pending: list[tuple[Path, Path]] = []
    made: list[Path] = []
    target = root
    try:
        for outcome in outcomes:
            if outcome.writes:
                target = root / outcome.rendered.rel
                _make_parents(target.parent, made)
                pending.append((_write_temporary(target, outcome.rendered.text), target))
        for temporary, target in pending:
            os.replace(temporary, target)
    except OSError as error:
        for temporary, _ in pending:
            temporary.unlink(missing_ok=True)
        for directory in reversed(made):
            _remove_if_empty(directory)
        raise InputError(
            f"cannot write {target}: {error.strerror or error}",
            "check the directory's permissions and free space; nothing was written",
        ) from error


def _make_parents(directory: Path, made: list[Path]) -> None:
    """Creates `directory` and its missing parents, recording each in `made` (outermost first)
    as soon as it exists, so a failure half-way can still be undone."""
    missing = [d for d in (directory, *directory.parents) if not d.exists()]
    for created in reversed(missing):
        created.mkdir()
        made.append(created)


def _remove_if_empty(directory: Path) -> None:
    with contextlib.suppress(OSError):
        directory.rmdir()


def _write_temporary(target: Path, text: str) -> Path:
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.chmod(name, 0o644)
    return Path(name)

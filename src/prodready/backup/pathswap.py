"""Swapping a restored file or folder in beside the live one, keeping the live one.

A file is swapped atomically: a hard link keeps the old one as `<path>.prev-<ts>`, then the
restored file replaces the name in one rename. A folder takes two renames (the old one aside,
the new one in): for a moment the name is missing, never half-filled."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from prodready.backup.files import fsync_dir, fsync_file
from prodready.errors import InputError


def swap_path(live: Path, incoming: Path, previous: Path) -> None:
    if previous.exists():
        raise InputError(f"{previous} exists already", "wait a second and run it again")
    if live.is_dir() and not live.is_symlink():
        os.rename(live, previous)
        os.rename(incoming, live)
    else:
        if live.exists():
            os.link(live, previous)
        os.replace(incoming, live)
    fsync_dir(live.parent)


def stage_file(source: Path, live: Path, stamp: str) -> Path:
    """A copy of `source` beside `live` as `<live>.restore-<stamp>`, on disk before it is used."""
    staged = live.with_name(f"{live.name}.restore-{stamp}")
    shutil.copyfile(source, staged)
    fsync_file(staged)
    return staged


def refuse_open_sqlite(live: Path) -> None:
    """A non-empty write-ahead log means the app has the database open (or crashed with
    unwritten pages): replacing the file under it would corrupt both."""
    wal = live.with_name(live.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise InputError(
            f"{live} is in use: its write-ahead log {wal.name} is not empty",
            "stop the app (or checkpoint the database) and run the restore again",
        )

"""SQLite sources: copied with the online backup API (a consistent copy of a live database,
whatever the app writes meanwhile; a file copy of a live database can be torn), checked with
`PRAGMA integrity_check` and counted; restored beside the live file and swapped in."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

from prodready.backup.files import fsync_dir, fsync_file, sha256_of
from prodready.backup.manifest import Part
from prodready.errors import InputError

SQLITE_URL = re.compile(r"^sqlite(?:\+\w+)?:///(?P<path>.+)$", re.IGNORECASE)
PAGES_PER_STEP = 1024


def sqlite_path(url: str, root: Path) -> Path:
    """The file of `sqlite:///relative.db` (relative to the app's folder) or
    `sqlite:////absolute.db`."""
    match = SQLITE_URL.match(url.strip())
    if not match or match["path"] in (":memory:", ""):
        raise InputError(f"not a SQLite file URL: {url}", "e.g. sqlite:///instance/app.db")
    path = Path(match["path"].split("?", 1)[0])
    path = path if path.is_absolute() else root / path
    if not path.is_file():
        raise InputError(f"the SQLite database {path} does not exist", "check the URL's path")
    return path.resolve()


def _readonly(path: Path) -> sqlite3.Connection:
    """Opens a backup copy without writing to it (no -wal or -shm files beside it)."""
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)


def row_counts(path: Path) -> dict[str, int]:
    conn = _readonly(path)
    try:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {
            f"main.{t}": conn.execute(
                f'SELECT count(*) FROM "{t.replace(chr(34), 2 * chr(34))}"'
            ).fetchone()[0]
            for t in tables
        }
    finally:
        conn.close()


def integrity_problem(path: Path) -> str | None:
    """SQLite's own verdict on a copy; None when it is sound."""
    try:
        conn = _readonly(path)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        return f"SQLite cannot read it: {error}"
    return None if result == "ok" else f"integrity_check: {result}"


def dump_sqlite(source: Path, work: Path, name: str) -> tuple[Part, dict[str, int]]:
    """Copies `source` into `work/name` with the online backup API; returns its part and
    row counts (counted on the copy: the same rows by construction)."""
    tmp = work / f".{name}.tmp"
    try:
        live = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise InputError(f"cannot open {source}: {error}", "check the path and its mode") from None
    copy = sqlite3.connect(tmp)
    try:
        live.backup(copy, pages=PAGES_PER_STEP)
    except sqlite3.DatabaseError as error:
        raise InputError(f"cannot back up {source}: {error}", "is it a SQLite file?") from None
    finally:
        copy.close()
        live.close()
    fsync_file(tmp)
    final = work / name
    os.rename(tmp, final)
    fsync_dir(work)
    return Part(name, "sqlite", final.stat().st_size, sha256_of(final), str(source)), row_counts(
        final
    )

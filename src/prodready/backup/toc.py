"""A custom-format dump's table of contents (`pg_restore --list`): read at backup time into the
manifest, read again before a restore; a dump whose TOC differs has been changed."""

from __future__ import annotations

import os
from pathlib import Path

from prodready.backup.tools import run_tool


def read_toc(pg_restore: str, dump: Path) -> list[str]:
    """The TOC entries without comment lines (they hold the dump's date and file name)."""
    listing = run_tool(
        [pg_restore, "--list", str(dump)],
        dict(os.environ),
        "reading the dump's table of contents",
        capture=True,
    )
    return [line for line in listing.splitlines() if line.strip() and not line.startswith(";")]


def tables_in(toc: list[str]) -> set[str]:
    """`schema.table` of every TABLE DATA entry (`3360; 0 16390 TABLE DATA public t owner`)."""
    found = set()
    for line in toc:
        words = line.split()
        for i in range(len(words) - 3):
            if words[i : i + 2] == ["TABLE", "DATA"]:
                found.add(f"{words[i + 2]}.{words[i + 3]}")
                break
    return found

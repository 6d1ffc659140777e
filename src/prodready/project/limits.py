"""The bounds every parser keeps, so a hostile or machine-made file costs bounded time and
memory and becomes one finding instead of a hang, a traceback or an exhausted machine.

File size is bounded where files are read (`files.MAX_BYTES`); these bound what a file of that
size can make the parsers do."""

from __future__ import annotations

TOO_DEEP = "nested too deeply to analyse (recursion limit); the rest of the check ran"
"""The problem reported for a file whose structure (Python expression, TOML, YAML, nginx
blocks) is deeper than Python's recursion allows."""

YAML_EXPANSION_FLOOR = 20_000
YAML_EXPANSION_RATIO = 10
"""YAML aliases may expand a document to at most max(FLOOR, RATIO x its written nodes) nodes:
generous for compose anchors and merge keys, far below a "billion laughs" bomb."""

SHELL_SPLIT_MAX_CHARS = 16_384
"""Shell words are split with shlex, whose cost grows with the square of a word's length; a
longer command line is split on whitespace instead (no real command line is this long)."""

"""The bounds every parser keeps, so a hostile or machine-made file costs bounded time and
memory and becomes one finding instead of a hang, a traceback or an exhausted machine.

File size is bounded where files are read (`files.MAX_BYTES`); these bound what a file of that
size can make the parsers do."""

from __future__ import annotations

TOO_DEEP = "nested too deeply to analyse (recursion limit); the rest of the check ran"
"""The problem reported for a file whose structure (Python expression, TOML, YAML, nginx
blocks) is deeper than Python's recursion allows."""

SHELL_SPLIT_MAX_CHARS = 16_384
"""Shell words are split with shlex, whose cost grows with the square of a word's length; a
longer command line is split on whitespace instead (no real command line is this long)."""

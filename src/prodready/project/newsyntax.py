"""Parse Python written for a newer interpreter than the one prodready runs on.

`ast.parse` only knows the grammar of the running Python. A project on Python 3.12+ uses
PEP 695 (`type Alias = ...`, `def f[T](...)`, `class C[T]:`) and, on 3.14, PEP 758
(`except A, B:`); parsed with 3.11 each file that does is a "syntax error" and every rule
loses it. These forms are rewritten token by token into the older spelling of the same
program (`Alias = ...`, `def f(...)`, `except (A, B):`), on the same lines, and parsed again.
Type parameters carry nothing a rule reads. PEP 701 f-strings (quotes reused inside) cannot be
tokenized by an older Python and stay a reported syntax error.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterator

Edit = tuple[int, int, int, int, str]
"""(line, column, end line, end column, replacement). A span over several lines is only ever
removed: blanked, with a backslash ending each of its lines, so that no line moves."""

STATEMENT_START = frozenset({tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT})


def parse_newer(source: str, filename: str) -> ast.Module | None:
    """The tree of `source` once its newer-only syntax is rewritten, or None when it has none
    that can be rewritten or the rewritten text does not parse either."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    edits = list(_type_aliases(tokens)) + list(_type_params(tokens)) + list(_except_groups(tokens))
    if not edits:
        return None
    try:
        return ast.parse(_apply(source, edits), filename=filename)
    except (SyntaxError, ValueError):
        return None


def _significant(tokens: list[tokenize.TokenInfo]) -> list[tokenize.TokenInfo]:
    skip = (tokenize.COMMENT, tokenize.NL)
    return [token for token in tokens if token.type not in skip]


def _type_aliases(tokens: list[tokenize.TokenInfo]) -> Iterator[Edit]:
    """`type Name[T] = value` -> `Name = value`, when the head is on one line."""
    significant = _significant(tokens)
    for index, token in enumerate(significant[:-2]):
        previous = significant[index - 1] if index else None
        at_start = previous is None or previous.type in STATEMENT_START
        name = significant[index + 1]
        if not (at_start and token.string == "type" and name.type == tokenize.NAME):
            continue
        end = _after_brackets(significant, index + 2)
        if end is None or significant[end].string != "=":
            continue
        equals = significant[end]
        if equals.start[0] != token.start[0]:
            continue
        line, column = token.start
        yield line, column, line, equals.start[1], name.string + " "


def _type_params(tokens: list[tokenize.TokenInfo]) -> Iterator[Edit]:
    """`def f[T](...)` / `class C[T](...)` -> the same without `[T]`."""
    significant = _significant(tokens)
    for index, token in enumerate(significant[:-2]):
        if token.string not in ("def", "class") or significant[index + 1].type != tokenize.NAME:
            continue
        opening = significant[index + 2]
        if opening.string != "[":
            continue
        end = _after_brackets(significant, index + 2)
        if end is None:
            continue
        closing = significant[end - 1]
        yield *opening.start, *closing.end, ""


def _except_groups(tokens: list[tokenize.TokenInfo]) -> Iterator[Edit]:
    """`except A, B:` / `except* A, B as e:` -> `except (A, B):`, when on one line."""
    significant = _significant(tokens)
    for index, token in enumerate(significant):
        if token.string != "except":
            continue
        first = index + 1
        if first < len(significant) and significant[first].string == "*":
            first += 1
        depth, comma, stop = 0, False, None
        for position in range(first, len(significant)):
            current = significant[position]
            if current.string in "([{" and current.type == tokenize.OP:
                depth += 1
            elif current.string in ")]}" and current.type == tokenize.OP:
                depth -= 1
            elif depth == 0 and current.string == ",":
                comma = True
            elif depth == 0 and current.string in (":", "as"):
                stop = position
                break
        if not comma or stop is None:
            continue
        start, end = significant[first], significant[stop - 1]
        if start.start[0] != end.end[0]:
            continue
        yield *end.end, *end.end, ")"
        yield *start.start, *start.start, "("


def _after_brackets(significant: list[tokenize.TokenInfo], index: int) -> int | None:
    """The index after a `[...]` starting at `index` (or `index` itself if none starts there)."""
    if index >= len(significant) or significant[index].string != "[":
        return index
    depth = 0
    for position in range(index, len(significant)):
        text = significant[position].string
        if significant[position].type != tokenize.OP:
            continue
        depth += text in "([{"
        depth -= text in ")]}"
        if depth == 0:
            return position + 1
    return None


def _apply(source: str, edits: list[Edit]) -> str:
    """Apply the edits from the last to the first, so earlier positions stay valid."""
    lines = source.splitlines(keepends=True)
    for line, start, end_line, end, text in sorted(edits, reverse=True):
        if line == end_line:
            old = lines[line - 1]
            lines[line - 1] = old[:start] + text + old[end:]
            continue
        lines[line - 1] = lines[line - 1][:start] + " \\\n"
        for middle in range(line, end_line - 1):
            lines[middle] = "\\\n"
        lines[end_line - 1] = " " * end + lines[end_line - 1][end:]
    return "".join(lines)

"""Where a naive UTC datetime goes wrong. `datetime.utcnow()` and `utcfromtimestamp()` hold UTC
only by convention; an app that keeps naive UTC everywhere (naive DateTime columns, naive
comparisons, JWT `exp` encoded by the library) is correct. The value is misread only when it
meets something that assumes local time or an offset:

- `.timestamp()` / `.astimezone()` on it: Python reads a naive datetime as the server's local
  time, so the result is off by the host's UTC offset;
- a comparison or subtraction with an aware datetime: TypeError at run time;
- the default of a timezone-aware column (`DateTime(timezone=True)`, `TIMESTAMP(timezone=True)`):
  the database reads it in the session's time zone;
- `.isoformat()` of it in a route handler: a timestamp without an offset, which clients such as
  JavaScript's `Date` read as their own local time.

The value is followed through `+`/`-` with a timedelta and through names assigned in the same
function, which is how real code reaches those uses (`now = datetime.utcnow()`, then
`(now + ttl).timestamp()`)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from prodready.check.pycontext import PyContext
from prodready.check.rules.pyhelpers import dotted, literal

LOCAL_TIME_READERS = frozenset({"timestamp", "astimezone"})
AWARE_COLUMN_TYPES = frozenset({"DateTime", "TIMESTAMP", "TIMESTAMPTZ"})
COLUMN_DEFAULTS = frozenset({"default", "onupdate", "insert_default"})
ROUTE_DECORATORS = frozenset(
    {"route", "get", "post", "put", "patch", "delete", "api_route", "websocket"}
)
MAX_HOPS = 4
"""Assignments followed from the call to its use; real code needs one or two."""


def misuse(ctx: PyContext, node: ast.expr) -> tuple[int, str] | None:
    """(line, what goes wrong) for the first misreading of the naive value `node` (a call of
    utcnow()/utcfromtimestamp(), or `datetime.utcnow` passed as a callable), else None."""
    column = _aware_column_default(ctx, node)
    if column is not None:
        return column
    return next(_misreadings(ctx, node, MAX_HOPS), None)


def _misreadings(ctx: PyContext, node: ast.expr, hops: int) -> Iterator[tuple[int, str]]:
    value: ast.AST = node
    parent = ctx.parent(value)
    while isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Add | ast.Sub):
        other = parent.right if parent.left is value else parent.left
        if _is_aware(ctx, other):
            yield parent.lineno, "subtracted from an aware datetime: TypeError at run time"
            return
        value, parent = parent, ctx.parent(parent)
    if isinstance(parent, ast.Attribute) and isinstance(ctx.parent(parent), ast.Call):
        if parent.attr in LOCAL_TIME_READERS:
            yield (
                parent.lineno,
                f"`.{parent.attr}()` reads it as the server's local time: off by the host's "
                "UTC offset",
            )
        elif parent.attr == "isoformat" and _in_route_handler(ctx, parent):
            yield (
                parent.lineno,
                "sent to clients by `.isoformat()` without an offset: they read it as their "
                "own local time",
            )
        return
    if isinstance(parent, ast.Compare):
        if any(_is_aware(ctx, side) for side in (parent.left, *parent.comparators)):
            yield parent.lineno, "compared with an aware datetime: TypeError at run time"
        return
    if hops and isinstance(parent, ast.Assign | ast.AnnAssign):
        target = parent.targets[0] if isinstance(parent, ast.Assign) else parent.target
        if isinstance(target, ast.Name):
            for use in _later_uses(ctx, target, parent):
                yield from _misreadings(ctx, use, hops - 1)


def _later_uses(ctx: PyContext, target: ast.Name, assignment: ast.AST) -> Iterator[ast.Name]:
    scope = ctx.enclosing_function(assignment)
    uses = [
        node
        for node in ctx.nodes(ast.Name)
        if isinstance(node, ast.Name)
        and node.id == target.id
        and isinstance(node.ctx, ast.Load)
        and node.lineno >= target.lineno
        and ctx.enclosing_function(node) is scope
    ]
    yield from sorted(uses, key=lambda node: (node.lineno, node.col_offset))


def _is_aware(ctx: PyContext, node: ast.expr, hops: int = MAX_HOPS) -> bool:
    """An expression that makes an aware datetime: `now(tz)`, `fromtimestamp(ts, tz)`,
    `.replace(tzinfo=tz)`, `.astimezone()`, Django's `timezone.now()`, or a name of this
    function assigned from one of them."""
    if isinstance(node, ast.Name):
        return hops > 0 and any(
            isinstance(assign, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == node.id for t in assign.targets)
            and ctx.enclosing_function(assign) is ctx.enclosing_function(node)
            and _is_aware(ctx, assign.value, hops - 1)
            for assign in ctx.nodes(ast.Assign)
        )
    if isinstance(node, ast.BinOp):
        return _is_aware(ctx, node.left, hops) or _is_aware(ctx, node.right, hops)
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    method, keywords = node.func.attr, {k.arg: k.value for k in node.keywords}
    if method == "now":
        return bool(node.args) or "tz" in keywords or dotted(node.func.value) == "timezone"
    if method == "fromtimestamp":
        return len(node.args) > 1 or "tz" in keywords
    if method == "replace":
        tzinfo = keywords.get("tzinfo")
        return tzinfo is not None and not (
            isinstance(tzinfo, ast.Constant) and tzinfo.value is None
        )
    return method == "astimezone"


def _aware_column_default(ctx: PyContext, node: ast.expr) -> tuple[int, str] | None:
    """`Column(DateTime(timezone=True), default=datetime.utcnow)`, also as a lambda."""
    value: ast.AST = node
    parent = ctx.parent(value)
    if isinstance(parent, ast.Lambda):
        value, parent = parent, ctx.parent(parent)
    if not isinstance(parent, ast.keyword) or parent.arg not in COLUMN_DEFAULTS:
        return None
    column = ctx.parent(parent)
    if isinstance(column, ast.Call) and any(_aware_type(arg) for arg in column.args):
        return (
            column.lineno,
            "the default of a timezone-aware column: the database reads it in the session's "
            "time zone, not as UTC",
        )
    return None


def _aware_type(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call) or dotted(node.func).rsplit(".", 1)[-1] not in (
        AWARE_COLUMN_TYPES
    ):
        return False
    return any(k.arg == "timezone" and literal(k.value) is True for k in node.keywords)


def _in_route_handler(ctx: PyContext, node: ast.AST) -> bool:
    function = ctx.enclosing_function(node)
    if function is None:
        return False
    for decorator in function.decorator_list:
        call = decorator.func if isinstance(decorator, ast.Call) else decorator
        if dotted(call).rsplit(".", 1)[-1] in ROUTE_DECORATORS:
            return True
    return False

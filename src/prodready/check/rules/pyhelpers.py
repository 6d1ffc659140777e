"""Small AST helpers shared by the Python rule modules (python*.py): import resolution, literals,
environment reads, settings modules. Each helper reads PyContext indexes, never the whole tree."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

from prodready.check.pycontext import PyContext
from prodready.project.pyscan import dotted, is_main_guard, keyword, literal

__all__ = ["dotted", "is_main_guard", "keyword", "literal"]

SETTINGS_MODULE = re.compile(r"(?:^|/)settings(?:[_/.]|$)")
ENV_GETTERS = frozenset({"os.getenv", "os.environ.get", "environ.get", "getenv"})
CONFIG_GETTERS = frozenset(
    {"config", "decouple.config", "env", "env.str", "env.bool", "env.list", "env.get_value"}
)
WEB_FRAMEWORKS = frozenset(
    {"flask", "fastapi", "starlette", "django", "quart", "sanic", "falcon", "bottle", "litestar"}
)
SERVED_MODULES = frozenset({"wsgi.py", "asgi.py"})
"""Modules a server imports by definition (`gunicorn wsgi:app`), even when they only import
the app's factory: never scripts."""


def imported_names(ctx: PyContext) -> dict[str, str]:
    """Local name -> what it was imported as: `import datetime as dt` gives dt -> datetime,
    `from requests import get` gives get -> requests.get. Computed once per module (most rules
    ask) and kept on the context; callers must not change it."""
    cache = vars(ctx)
    if "_imported_names" not in cache:
        cache["_imported_names"] = _imported_names(ctx)
    return cache["_imported_names"]


def _imported_names(ctx: PyContext) -> dict[str, str]:
    names: dict[str, str] = {}
    for node in ctx.nodes(ast.Import):
        for alias in node.names:  # type: ignore[attr-defined]
            if alias.asname:
                names[alias.asname] = alias.name
            else:
                root = alias.name.split(".")[0]
                names[root] = root
    for node in ctx.nodes(ast.ImportFrom):
        if node.module and node.level == 0:  # type: ignore[attr-defined]
            for alias in node.names:  # type: ignore[attr-defined]
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"  # type: ignore[attr-defined]
    return names


def qualify(names: dict[str, str], name: str) -> str:
    """`dt.datetime.utcnow` -> `datetime.datetime.utcnow` given `import datetime as dt`."""
    first, dot, rest = name.partition(".")
    return names.get(first, first) + dot + rest


def str_value(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def is_false(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


TRUTHY_TEXT = frozenset({"1", "true", "yes", "on"})


def is_truthy_text(node: ast.AST | None) -> bool:
    value = str_value(node)
    return value is not None and value.strip().lower() in TRUTHY_TEXT


def is_settings_module(rel: str) -> bool:
    """Django-style settings: settings.py, settings_prod.py, settings/production.py ... (the
    development and test ones, settings/dev.py, never reach Python rules that run only on what
    production loads: project.environments marks them)."""
    return bool(SETTINGS_MODULE.search(rel))


def module_assignments(ctx: PyContext) -> list[tuple[str, ast.expr, ast.stmt]]:
    """`NAME = value` statements that run at import time (module body, and inside top-level
    if/try/with blocks), as (name, value, statement). Computed once per module."""
    cache = vars(ctx)
    if "_module_assignments" not in cache:
        cache["_module_assignments"] = list(_module_assignments(ctx))
    return cache["_module_assignments"]


def _module_assignments(ctx: PyContext) -> Iterator[tuple[str, ast.expr, ast.stmt]]:
    stack: list[ast.stmt] = list(reversed(ctx.tree.body))
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    yield target.id, stmt.value, stmt
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            if isinstance(stmt.target, ast.Name):
                yield stmt.target.id, stmt.value, stmt
        elif isinstance(stmt, ast.If | ast.With | ast.Try):
            nested: list[ast.stmt] = list(stmt.body) + list(getattr(stmt, "orelse", []))
            nested += list(getattr(stmt, "finalbody", []))
            for handler in getattr(stmt, "handlers", []):
                nested += handler.body
            stack.extend(reversed(nested))


def module_value(ctx: PyContext, node: ast.expr | None) -> ast.expr | None:
    """`origins` -> the value of the module's last `origins = [...]`; other nodes unchanged.
    (FastAPI's docs pass CORS origins through such a variable.)"""
    if not isinstance(node, ast.Name):
        return node
    found = [value for name, value, _ in module_assignments(ctx) if name == node.id]
    return found[-1] if found else node


@dataclass(frozen=True)
class EnvRead:
    """`os.getenv("NAME", default)` and its kin: the variable name and the fallback, if any."""

    call: ast.Call
    name: str
    default: ast.expr | None


def env_read(
    call: ast.Call, names: dict[str, str], *, config_getters: bool = True
) -> EnvRead | None:
    """Reads of an environment variable: os.getenv, os.environ.get, and (with config_getters)
    python-decouple `config(...)` and django-environ/environs `env(...)`, `env.str(...)`."""
    name = str_value(call.args[0]) if call.args else None
    if name is None:  # checked first: cheap, and most calls named get() fail it
        return None
    callee = qualify(names, dotted(call.func))
    if callee not in ENV_GETTERS and not (config_getters and callee in CONFIG_GETTERS):
        return None
    default = call.args[1] if len(call.args) > 1 else keyword(call, "default")
    return EnvRead(call, name, default)


def environ_subscript(node: ast.AST, names: dict[str, str]) -> str | None:
    """`os.environ["NAME"]` -> NAME."""
    if isinstance(node, ast.Subscript) and qualify(names, dotted(node.value)) in (
        "os.environ",
        "environ",
    ):
        return str_value(node.slice)
    return None


def subscript_key(target: ast.AST) -> tuple[str, str] | None:
    """`app.config["KEY"]` -> ("app.config", "KEY")."""
    if isinstance(target, ast.Subscript):
        key = str_value(target.slice)
        if key is not None:
            return dotted(target.value), key
    return None


def is_script(ctx: PyContext) -> bool:
    """A module that imports no web framework and is run rather than imported: it has a
    `__main__` block, or it sits alone at the project root (train.py, seed_db.py). Its
    module-level work is its job, not a side effect of importing it."""
    if part_of_the_web_app(ctx):
        return False
    return (
        "/" not in ctx.rel
        or ctx.rel.rsplit("/", 1)[-1] in ("manage.py", "setup.py", "noxfile.py", "fabfile.py")
        or any(isinstance(stmt, ast.If) and is_main_guard(stmt) for stmt in ctx.tree.body)
    )


SCRIPT_FOLDERS = frozenset({"bin", "scripts", "script", "tools", "cli-tool"})


def run_by_hand(ctx: PyContext) -> bool:
    """A script run by hand, or by a probe with its own time limit (a release script, a
    command-line client, a HEALTHCHECK helper): no web framework, and run directly (a
    `__main__` block) or kept in a scripts folder. A module alone at the root is not enough:
    the app imports notify.py."""
    if part_of_the_web_app(ctx):
        return False
    folders = set(ctx.rel.split("/")[:-1])
    return bool(folders & SCRIPT_FOLDERS) or any(
        isinstance(stmt, ast.If) and is_main_guard(stmt) for stmt in ctx.tree.body
    )


def part_of_the_web_app(ctx: PyContext) -> bool:
    """Imports a web framework or one of its extensions (flask_migrate, django_extensions,
    fastapi_users), or is a module a server imports by definition (wsgi.py)."""
    if ctx.imports & WEB_FRAMEWORKS or ctx.rel.rsplit("/", 1)[-1] in SERVED_MODULES:
        return True
    return any(name.split("_", 1)[0] in WEB_FRAMEWORKS for name in ctx.imports)


def in_main_guard(ctx: PyContext, node: ast.AST) -> bool:
    return any(isinstance(a, ast.If) and is_main_guard(a) for a in ctx.ancestors(node))


def parses_arguments_when_loaded(ctx: PyContext) -> bool:
    """`args = parser.parse_args()` at module level: a command-line script (CTFd's serve.py),
    which no server imports (it would parse the server's own arguments)."""
    return any(
        ctx.at_import_time(call) for call, _ in ctx.calls_named("parse_args", "parse_known_args")
    )


def reached_only_when_run(ctx: PyContext, node: ast.AST) -> bool:
    """In the `if __name__ == "__main__":` block, or in a module-level function that only that
    block calls (`def main(): app.run(...)` ... `if __name__ == "__main__": main()`), or anywhere
    in a script that parses its command line when loaded: a server importing the module never
    gets there."""
    if in_main_guard(ctx, node) or parses_arguments_when_loaded(ctx):
        return True
    function = ctx.enclosing_function(node)
    if function is None or not isinstance(ctx.parent(function), ast.Module):
        return False
    calls = [c for c in ctx.calls.get(function.name, []) if isinstance(c.func, ast.Name)]
    return bool(calls) and all(in_main_guard(ctx, call) for call in calls)


def names_assigned_from(
    ctx: PyContext, *callees: str, qualified: frozenset[str] | None = None
) -> set[str]:
    """Names (and `self.x` attributes) bound to the result of calls named `callees`, including
    `with X() as name:`. With `qualified`, only calls that resolve (through the imports) to one
    of those names count: `requests.Session()` but not SQLAlchemy's `Session()`."""
    names = imported_names(ctx) if qualified else {}
    bound: set[str] = set()
    for call, callee in ctx.calls_named(*callees):
        if qualified and qualify(names, callee) not in qualified:
            continue
        parent = ctx.parent(call)
        if isinstance(parent, ast.Assign):
            bound.update(dotted(t) for t in parent.targets if dotted(t))
        elif isinstance(parent, ast.AnnAssign | ast.withitem):
            target = parent.target if isinstance(parent, ast.AnnAssign) else parent.optional_vars
            if target is not None and dotted(target):
                bound.add(dotted(target))
    return bound


def under_debug_branch(ctx: PyContext, node: ast.AST) -> bool:
    """In the debug branch of `if DEBUG:` / `if settings.DEBUG:` (its body), or of
    `if not DEBUG:` (its else): dev-only code."""
    child = node
    for ancestor in ctx.ancestors(node):
        if isinstance(ancestor, ast.If) and "DEBUG" in ctx.segment(ancestor.test).upper():
            negated = isinstance(ancestor.test, ast.UnaryOp) and isinstance(
                ancestor.test.op, ast.Not
            )
            in_body = any(child is statement for statement in ancestor.body)
            if in_body != negated:
                return True
        child = ancestor
    return False


# --- outbound HTTP (PR110, PR113, PR115) ---------------------------------------------------

HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request"})
URLOPEN = frozenset(
    {"urllib.request.urlopen", "urllib2.urlopen", "six.moves.urllib.request.urlopen"}
)
REQUESTS_SESSION = frozenset({"requests.Session", "requests.session", "requests.sessions.Session"})


def requests_call(callee: str, names: dict[str, str], sessions: set[str]) -> bool:
    """`requests.get(...)`, `from requests import post; post(...)`, `session.get(...)` on a
    `requests.Session()`, and `requests.Session().get(...)`."""
    base, _, verb = qualify(names, callee).rpartition(".")
    if verb not in HTTP_VERBS:
        return False
    return (
        base in ("requests", "requests.api")
        or base in REQUESTS_SESSION
        or callee.rpartition(".")[0] in sessions
    )


def requests_sessions(ctx: PyContext) -> set[str]:
    return names_assigned_from(ctx, "Session", "session", qualified=REQUESTS_SESSION)


DEV_CLASS = re.compile(r"Dev|Test|Local|Debug")


def in_dev_config_class(ctx: PyContext, node: ast.AST) -> bool:
    """Inside `class DevelopmentConfig(Config):` / `TestingConfig`: Flask-style config classes
    for development and tests, which production does not load."""
    for ancestor in ctx.ancestors(node):
        if isinstance(ancestor, ast.ClassDef):
            return bool(DEV_CLASS.search(ancestor.name))
    return False


def env_default_on(value: ast.expr, names: dict[str, str]) -> str | None:
    """The variable name when `value` reads the environment with a fallback that means on:
    `os.getenv("DEBUG", True)`, `config("DEBUG", default=True, cast=bool)`,
    `os.environ.get("DEBUG", "True") == "True"`, `... .lower() in ("1", "true")`."""
    if isinstance(value, ast.Call):
        read = env_read(value, names)
        if read and (is_true(read.default) or is_truthy_text(read.default)):
            return read.name
        return None
    if isinstance(value, ast.Compare) and len(value.ops) == 1:
        read = env_read(_strip_string_methods(value.left), names)  # type: ignore[arg-type]
        fallback = str_value(read.default) if read else None
        if read is None or fallback is None:
            return None
        compared = literal(value.comparators[0])
        options = compared if isinstance(compared, list | tuple | set) else [compared]
        if isinstance(value.ops[0], ast.Eq | ast.In) and fallback.lower() in {
            str(o).lower() for o in options
        }:
            return read.name
    return None


def _strip_string_methods(node: ast.expr) -> ast.expr:
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("lower", "strip", "upper", "casefold")
    ):
        node = node.func.value
    return node

"""Python rules, part 1: naive UTC datetimes, debug modes, dev servers and SQL echo
(PR101-PR103, PR116, PR117, PR121, PR122). Settings values: python_settings.py; secrets and
CORS: python_secrets.py; work at import time, static roots and error leaks: python_io.py;
timeouts, TLS and blocking calls in async code: python_net.py."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

from prodready.check.model import Edit, Fix, Hit, Severity
from prodready.check.pycontext import PyContext
from prodready.check.registry import rule
from prodready.check.rules import naiveutc
from prodready.check.rules.crossfile_facts import only_when_run_directly
from prodready.check.rules.pyhelpers import (
    dotted,
    env_default_on,
    environ_subscript,
    imported_names,
    in_dev_config_class,
    in_main_guard,
    is_settings_module,
    is_true,
    is_truthy_text,
    keyword,
    names_assigned_from,
    parses_arguments_when_loaded,
    qualify,
    reached_only_when_run,
    str_value,
    subscript_key,
    under_debug_branch,
)
from prodready.project.environments import DEV_WORD, WORD_SPLIT
from prodready.project.model import FileKind

PY = FileKind.PYTHON.value

# --- PR101 -------------------------------------------------------------------------------------

NAIVE_UTC = {"utcnow": "now", "utcfromtimestamp": "fromtimestamp"}


@rule(
    "PR101",
    "naive-utc-datetime",
    title="a naive datetime.utcnow() / utcfromtimestamp() value read as local time or mixed "
    "with aware ones",
    severity=Severity.WARNING,
    kind=PY,
    why="""
`datetime.utcnow()` and `datetime.utcfromtimestamp()` return *naive* datetimes that hold UTC
only by convention. An app that keeps naive UTC everywhere is correct, so the call alone is not
reported (its Python 3.12 deprecation is a warning at run time, not a fault). It is reported
where the value is misread, following it through `+`/`-` with a timedelta and through names
assigned in the same function:

- `.timestamp()` or `.astimezone()` on it: Python reads a naive datetime as the server's local
  time, so a JWT `exp` or an epoch is off by the host's UTC offset outside a UTC container;
- compared with or subtracted from an aware datetime: TypeError at run time;
- the default of a timezone-aware column (`DateTime(timezone=True)`,
  `TIMESTAMP(timezone=True)`): the database reads it in the session's time zone;
- `.isoformat()` of it in a route handler: clients (JavaScript's `Date`) read a timestamp
  without an offset as their own local time.
""",
    fix="""Use `datetime.now(UTC)` / `datetime.fromtimestamp(ts, UTC)` (aware datetimes).
`datetime.UTC` needs Python 3.11+. The autofix is unsafe: aware and naive datetimes do not
compare, so check code that mixes them (and naive DateTime columns).""",
    bad="from datetime import datetime\nexpires = datetime.utcnow().timestamp() + 3600",
    good="from datetime import UTC, datetime\nexpires = datetime.now(UTC).timestamp() + 3600",
)
def naive_utc_datetime(ctx: PyContext) -> Iterable[Hit]:
    if "utc" not in ctx.source:
        return
    names = imported_names(ctx)
    utc_local = next((local for local, full in names.items() if full == "datetime.UTC"), None)
    for call, callee in ctx.calls_named(*NAIVE_UTC):
        base, _, method = callee.rpartition(".")
        if qualify(names, base) != "datetime.datetime":
            continue
        found = naiveutc.misuse(ctx, call)
        if found is None:
            continue
        line, what = found
        replacement = "now(UTC)" if method == "utcnow" else "fromtimestamp(ts, UTC)"
        where = "" if line == call.lineno else f" (line {line})"
        message = f"`{callee}()` makes a naive datetime, {what}{where}; use `{base}.{replacement}`"
        fix = _call_fix(ctx, call, base, method, names, utc_local)
        yield Hit(call.lineno, message, call.col_offset + 1, fix=fix)
    yield from _utcnow_references(ctx, names, utc_local)


def _utcnow_references(
    ctx: PyContext, names: dict[str, str], utc_local: str | None
) -> Iterator[Hit]:
    """`Column(DateTime(timezone=True), default=datetime.utcnow)`: passed as a callable."""
    for node in ctx.nodes(ast.Attribute):
        assert isinstance(node, ast.Attribute)
        if node.attr != "utcnow" or qualify(names, dotted(node.value)) != "datetime.datetime":
            continue
        parent = ctx.parent(node)
        if isinstance(parent, ast.Call) and parent.func is node:
            continue
        found = naiveutc.misuse(ctx, node)
        if found is None:
            continue
        base = dotted(node.value)
        utc = _utc_and_import(ctx, base, names, utc_local)
        fix = None
        if utc is not None:
            name, edits = utc
            edits.append(
                Edit(ctx.rel, node.lineno, ctx.segment(node), f"lambda: {base}.now({name})")
            )
            fix = Fix(f"{base}.utcnow -> lambda: {base}.now({name})", tuple(edits), safe=False)
        yield Hit(
            node.lineno,
            f"`{base}.utcnow` makes naive datetimes, {found[1]}; use `lambda: {base}.now(UTC)`",
            node.col_offset + 1,
            fix=fix,
        )


def _utc_and_import(
    ctx: PyContext, base: str, names: dict[str, str], utc_local: str | None
) -> tuple[str, list[Edit]] | None:
    """How to spell UTC here, and the import edit that makes it exist: `dt.UTC` when the
    datetime module is imported (no edit), else `UTC` plus `from datetime import UTC`.
    Each fix carries the import it needs: the fix engine applies the first and skips the others
    (they overlap on the import line) until the next run, so no fix uses an unimported name."""
    first = base.split(".")[0]
    if names.get(first) == "datetime":  # import datetime [as dt]
        return f"{first}.UTC", []
    if utc_local is not None:
        return utc_local, []
    anchor = _datetime_import(ctx)
    if anchor is None:
        return None
    indent = " " * anchor.col_offset
    return "UTC", [Edit(ctx.rel, anchor.lineno, "", indent + "from datetime import UTC")]


def _call_fix(
    ctx: PyContext,
    call: ast.Call,
    base: str,
    method: str,
    names: dict[str, str],
    utc_local: str | None,
) -> Fix | None:
    """`datetime.utcnow()` -> `datetime.now(UTC)`, `utcfromtimestamp(ts)` ->
    `fromtimestamp(ts, UTC)`."""
    utc = _utc_and_import(ctx, base, names, utc_local)
    if call.keywords or not isinstance(call.func, ast.Attribute) or utc is None:
        return None
    name, edits = utc
    base_text = ctx.segment(call.func.value)
    if method == "utcnow" and not call.args:
        new = f"{base_text}.now({name})"
    elif method == "utcfromtimestamp" and len(call.args) == 1:
        new = f"{base_text}.fromtimestamp({ctx.segment(call.args[0])}, {name})"
    else:
        return None
    edits.append(Edit(ctx.rel, call.lineno, ctx.segment(call), new, call.end_lineno))
    return Fix(f"{method}() -> {NAIVE_UTC[method]}(..., {name})", tuple(edits), safe=False)


def _datetime_import(ctx: PyContext) -> ast.ImportFrom | None:
    found = [
        node
        for node in ctx.nodes(ast.ImportFrom)
        if node.module == "datetime"  # type: ignore[attr-defined]
        and any(a.name == "datetime" for a in node.names)  # type: ignore[attr-defined]
    ]
    return min(found, key=lambda n: n.lineno, default=None)  # type: ignore[return-value]


# --- PR102 -------------------------------------------------------------------------------------

NOT_APP_RUNNERS = frozenset({"uvicorn", "subprocess", "asyncio", "hypercorn", "granian", "trio"})
FLASK_ROOTS = frozenset({"flask", "flask_socketio", "quart"})


@rule(
    "PR102",
    "flask-debug-on",
    title="Flask debug mode switched on in code",
    severity=Severity.ERROR,
    kind=PY,
    why="""
Flask's debug mode serves the Werkzeug interactive debugger on every unhandled error: a
browser console that runs arbitrary Python in your server process (protected only by a PIN
that has been brute-forced and derived from public machine facts), plus full tracebacks with
source and local variables. Exposed Werkzeug consoles are scanned for and exploited on the
public internet. Debug mode also enables the reloader, which forks a second process.
""",
    fix="""Remove `debug=True`; turn debug on only for local runs (`flask run --debug`).
If you need a switch, read it from the environment with a proper boolean parse.""",
    bad='app.run(host="0.0.0.0", debug=True)',
    good='if __name__ == "__main__":\n    app.run(host="127.0.0.1")',
    severity_note='warning when the call is inside `if __name__ == "__main__":` (or a function '
    "only it calls), which Gunicorn and uWSGI never run; not reported there when production "
    "starts a server another way, an error when production runs the file as a script",
    calibrate=only_when_run_directly,
)
def flask_debug_on(ctx: PyContext) -> Iterable[Hit]:
    names = imported_names(ctx)
    for call, callee in ctx.calls_named("run", "run_server"):  # run_server: Plotly Dash
        if qualify(names, callee).split(".")[0] in NOT_APP_RUNNERS or not is_true(
            keyword(call, "debug")
        ):
            continue
        if under_debug_branch(ctx, call):
            continue  # `if settings.DEBUG: app.run(debug=True)`: on only when switched on
        if reached_only_when_run(ctx, call):
            yield Hit(
                call.lineno,
                f"`{callee}(debug=True)` runs when this file is run directly (`python "
                f"{ctx.rel}`), with the Werkzeug debugger on; a server importing it never runs it",
                call.col_offset + 1,
                severity=Severity.WARNING,
                direct_run=True,
            )
        else:
            yield Hit(
                call.lineno,
                f"`{callee}(debug=True)` turns on the Werkzeug debugger (remote code execution)",
                call.col_offset + 1,
            )
    for call, callee in ctx.calls_named("update", "from_mapping"):
        if ".config." in f".{callee}" and is_true(keyword(call, "DEBUG")):
            yield Hit(call.lineno, f"`{callee}(DEBUG=True)` turns on Flask debug mode")
    yield from _debug_defaults_on(ctx, names)
    if not _may_switch_debug(ctx.source):
        return
    flask_module = bool(ctx.imports & FLASK_ROOTS)
    for node in ctx.nodes(ast.Assign):
        if type(node.value) is not ast.Constant:  # type: ignore[attr-defined]
            continue  # True or "1": most assignments are skipped by this one test
        for target in node.targets:  # type: ignore[attr-defined]
            message = _debug_assignment(target, node.value, names, flask_module)  # type: ignore[attr-defined]
            if message and not under_debug_branch(ctx, node):
                yield Hit(node.lineno, message)
    for call, callee in ctx.calls_named("setdefault", "putenv"):
        if (
            qualify(names, callee) in ("os.environ.setdefault", "os.putenv")
            and len(call.args) == 2
            and str_value(call.args[0]) == "FLASK_DEBUG"
            and is_truthy_text(call.args[1])
        ):
            yield Hit(call.lineno, f'`{callee}("FLASK_DEBUG", ...)` turns on Flask debug mode')


def _debug_defaults_on(ctx: PyContext, names: dict[str, str]) -> Iterator[Hit]:
    """Debug read from the environment with a fallback that means on: production runs with
    the debugger whenever the variable is not set (`debug=os.getenv("DEBUG", "True") ==
    "True"`, `app.config["DEBUG"] = ...`, `DEBUG = ...` in a Flask module or config class)."""
    if not ctx.imports & FLASK_ROOTS and "DEBUG" not in ctx.source:
        return
    for call, callee in ctx.calls_named("run"):
        debug = keyword(call, "debug")
        variable = env_default_on(debug, names) if debug is not None else None
        if variable and qualify(names, callee).split(".")[0] not in NOT_APP_RUNNERS:
            yield Hit(
                call.lineno,
                f"`{callee}(debug=...)` is on whenever {variable} is unset: its fallback is true",
                call.col_offset + 1,
                severity=Severity.WARNING if in_main_guard(ctx, call) else None,
            )
    for node in ctx.nodes(ast.Assign):
        assert isinstance(node, ast.Assign)
        if type(node.value) is ast.Constant or in_dev_config_class(ctx, node):
            continue
        if not any(_names_debug(target, ctx) for target in node.targets):
            continue
        variable = env_default_on(node.value, names)
        if variable:
            yield Hit(
                node.lineno,
                f"Flask debug mode is on whenever {variable} is unset: its fallback is true",
            )


def _names_debug(target: ast.expr, ctx: PyContext) -> bool:
    """`app.debug`, `app.config["DEBUG"]`, or `DEBUG` in a Flask module (config classes too)."""
    if isinstance(target, ast.Attribute) and target.attr == "debug":
        return True
    key = subscript_key(target)
    if key is not None:
        return key[0].endswith("config") and key[1] == "DEBUG"
    if is_settings_module(ctx.rel):
        return False  # Django settings: PR104
    flask_config = bool(ctx.imports & FLASK_ROOTS) or ctx.rel.rsplit("/", 1)[-1] == "config.py"
    return isinstance(target, ast.Name) and target.id == "DEBUG" and flask_config


def _may_switch_debug(source: str) -> bool:
    """Substring tests (fast) before looking at every assignment of the module."""
    return "FLASK_" in source or ("True" in source and ("debug" in source or "DEBUG" in source))


def _debug_assignment(
    target: ast.expr, value: ast.expr, names: dict[str, str], flask_module: bool
) -> str | None:
    if isinstance(target, ast.Attribute) and target.attr == "debug" and is_true(value):
        owner = dotted(target.value)
        if flask_module and owner not in ("self", "cls", ""):
            return f"`{owner}.debug = True` turns on Flask debug mode"
    key = subscript_key(target)
    if key and key[0].endswith("config") and key[1] == "DEBUG" and is_true(value):
        return f'`{key[0]}["DEBUG"] = True` turns on Flask debug mode'
    variable = environ_subscript(target, names)
    if variable == "FLASK_DEBUG" and is_truthy_text(value):
        return '`os.environ["FLASK_DEBUG"]` set to a true value turns on Flask debug mode'
    if variable == "FLASK_ENV" and str_value(value) == "development":
        return '`os.environ["FLASK_ENV"] = "development"` turns on Flask debug mode'
    return None


# --- PR103 -------------------------------------------------------------------------------------

SERVER_STARTERS = frozenset(
    {
        "uvicorn.run",
        "werkzeug.serving.run_simple",
        "werkzeug.run_simple",
        "waitress.serve",
        "aiohttp.web.run_app",
        "hypercorn.run.run",
        "bottle.run",
    }
)
APP_FACTORIES = (
    "Flask",
    "Quart",
    "FastAPI",
    "Starlette",
    "Sanic",
    "Bottle",
    "Litestar",
    "SocketIO",
    "create_app",
    "make_app",
    "get_app",
    "build_app",
)


@rule(
    "PR103",
    "server-started-at-import",
    title="Development server started when the module is imported",
    severity=Severity.ERROR,
    kind=PY,
    why="""
A server started at module level runs whenever the module is imported, not only when the file
is run. Gunicorn, uvicorn and Granian import your app module to find `app`: the import then
blocks in Flask's development server (or a second uvicorn) inside the master or every worker,
so the real server never starts, binds the port twice, or silently serves with the
single-threaded dev server instead. Tests and tools that import the module hang too.
""",
    fix="""Put the call under `if __name__ == "__main__":`; serve with Gunicorn `module:app`.
uvicorn and Granian take the same `module:app` target.""",
    bad='app = Flask(__name__)\napp.run(host="0.0.0.0", port=8000)',
    good='app = Flask(__name__)\n\nif __name__ == "__main__":\n    app.run(port=8000)',
    severity_note="not reported in a script that parses its command line when loaded (no "
    "server imports it) when production starts a server another way",
    calibrate=only_when_run_directly,
)
def server_started_at_import(ctx: PyContext) -> Iterable[Hit]:
    names = imported_names(ctx)
    apps = {"app", "application"} | names_assigned_from(ctx, *APP_FACTORIES)
    for call, callee in ctx.calls_named("run", "run_simple", "serve", "run_app"):
        base = callee.rpartition(".")[0]
        if qualify(names, callee) not in SERVER_STARTERS and not (
            callee.endswith(".run") and base in apps
        ):
            continue
        if ctx.at_import_time(call):
            yield Hit(
                call.lineno,
                f"`{callee}()` runs when the module is imported: a Gunicorn/uvicorn worker "
                "importing it starts this server instead of serving the app",
                call.col_offset + 1,
                direct_run=parses_arguments_when_loaded(ctx),
            )
            continue
        caller = _called_at_import(ctx, call)
        if caller:
            yield Hit(
                call.lineno,
                f"`{callee}()` runs when the module is imported: `{caller.func.id}()` is called "  # type: ignore[attr-defined]
                f"at module level on line {caller.lineno}",
                call.col_offset + 1,
            )


def _called_at_import(ctx: PyContext, node: ast.AST) -> ast.Call | None:
    """`def main(): app.run()` followed by a bare module-level `main()`."""
    function = ctx.enclosing_function(node)
    if function is None or not isinstance(ctx.parent(function), ast.Module):
        return None
    for call in ctx.calls.get(function.name, []):
        if isinstance(call.func, ast.Name) and ctx.at_import_time(call):
            return call
    return None


# --- PR116 -------------------------------------------------------------------------------------


@rule(
    "PR116",
    "uvicorn-reload-in-code",
    title="uvicorn.run(..., reload=True) in code",
    severity=Severity.WARNING,
    kind=PY,
    why="""
`reload=True` runs uvicorn's file watcher: a supervisor process that restarts the server on
every file change, ignores `workers=`, and polls or inotify-watches the whole tree (CPU and
file-descriptor cost). In production a log file or upload written under the app directory
restarts the server mid-request. In a `__main__` block (or a function only it calls) it only
matters if production runs `python main.py`. A CLI command named for development
(`@cli.command("develop")` beside a `start` command) is left alone: reloading is its purpose.
""",
    fix="""Remove `reload=True`; use `uvicorn --reload` on your laptop only.
In production run `gunicorn -k uvicorn_worker.UvicornWorker module:app` or
`uvicorn module:app --workers N`.""",
    bad='def main():\n    uvicorn.run("app.main:app", host="0.0.0.0", reload=True)',
    good='def main():\n    uvicorn.run("app.main:app", host="0.0.0.0", workers=4)',
    severity_note='info when the call is inside `if __name__ == "__main__":` (or a function '
    "only it calls); not reported there when production starts a server another way, an error "
    "when production runs the file as a script",
    calibrate=only_when_run_directly,
)
def uvicorn_reload_in_code(ctx: PyContext) -> Iterable[Hit]:
    names = imported_names(ctx)
    for call, callee in ctx.calls_named("run"):
        if qualify(names, callee) != "uvicorn.run" or not is_true(keyword(call, "reload")):
            continue
        if _in_development_command(ctx, call):
            continue
        if reached_only_when_run(ctx, call):
            yield Hit(
                call.lineno,
                f"`{callee}(reload=True)` runs when this file is run directly (`python "
                f"{ctx.rel}`): fine locally, never for production runs of this file",
                call.col_offset + 1,
                severity=Severity.INFO,
                direct_run=True,
            )
        else:
            yield Hit(
                call.lineno,
                f"`{callee}(reload=True)` runs uvicorn's file-watching reloader",
                call.col_offset + 1,
            )


def _in_development_command(ctx: PyContext, call: ast.Call) -> bool:
    """The call is the body of a CLI command named for development (`@server.command("develop")`,
    typer's `@app.command()` on `def dev()`): a command the developer types, beside the ones that
    serve production; reloading is its purpose."""
    function = ctx.enclosing_function(call)
    if function is None:
        return False
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if not (isinstance(target, ast.Attribute) and target.attr == "command"):
            continue
        args = decorator.args if isinstance(decorator, ast.Call) else []
        named = str_value(args[0]) if args else None
        return any(DEV_WORD.match(word) for word in WORD_SPLIT.split(named or function.name))
    return False


# --- PR117 -------------------------------------------------------------------------------------


@rule(
    "PR117",
    "werkzeug-debugger-exposed",
    title="Werkzeug debugger enabled in code",
    severity=Severity.ERROR,
    kind=PY,
    why="""
`DebuggedApplication(app, evalex=True)` and `use_debugger=True` put Werkzeug's interactive
debugger in front of the app: any error page offers a Python console running in your server
process. The PIN that guards it is derived from machine facts an attacker can often read
(and `WERKZEUG_DEBUG_PIN=off` removes it). Without `evalex` the debugger still serves full
tracebacks with source code and local variables to anyone.
""",
    fix="""Remove the debugger middleware and `use_debugger`; log exceptions server-side.
Sentry or structured logs give you tracebacks without giving them to visitors.""",
    bad="app.wsgi_app = DebuggedApplication(app.wsgi_app, evalex=True)",
    good="app.wsgi_app = app.wsgi_app  # errors go to logs, not to the browser",
)
def werkzeug_debugger_exposed(ctx: PyContext) -> Iterable[Hit]:
    names = imported_names(ctx)
    for call, callee in ctx.calls_named("DebuggedApplication"):
        evalex = keyword(call, "evalex") or (call.args[1] if len(call.args) > 1 else None)
        if (evalex is not None and not isinstance(evalex, ast.Constant)) or under_debug_branch(
            ctx, call
        ):
            continue  # decided at runtime (werkzeug's run_simple passes use_evalex), or dev-only
        if is_true(evalex):
            yield Hit(
                call.lineno,
                f"`{callee}(..., evalex=True)` serves an interactive Python console on error pages",
                call.col_offset + 1,
            )
        else:
            yield Hit(
                call.lineno,
                f"`{callee}(...)` serves tracebacks with source and locals to clients",
                call.col_offset + 1,
                severity=Severity.WARNING,
            )
    for call, callee in ctx.calls_named("run", "run_simple"):
        if (
            is_true(keyword(call, "use_debugger"))
            and qualify(names, callee).split(".")[0] not in NOT_APP_RUNNERS
        ):
            severity = Severity.WARNING if in_main_guard(ctx, call) else None
            yield Hit(
                call.lineno,
                f"`{callee}(use_debugger=True)` turns on the Werkzeug debugger",
                call.col_offset + 1,
                severity=severity,
            )
    if "WERKZEUG_DEBUG_PIN" not in ctx.source:
        return
    for node in ctx.nodes(ast.Assign):
        for target in node.targets:  # type: ignore[attr-defined]
            if (
                environ_subscript(target, names) == "WERKZEUG_DEBUG_PIN"
                and str_value(node.value) == "off"
            ):  # type: ignore[attr-defined]
                yield Hit(
                    node.lineno,
                    "WERKZEUG_DEBUG_PIN=off removes the debugger PIN: the console is open",
                )


# --- PR121 -------------------------------------------------------------------------------------

ASGI_DEBUG_APPS = frozenset(
    {
        "fastapi.FastAPI",
        "fastapi.applications.FastAPI",
        "starlette.applications.Starlette",
        "litestar.Litestar",
        "quart.Quart",
    }
)


@rule(
    "PR121",
    "asgi-app-debug-on",
    title="FastAPI/Starlette app created with debug=True",
    severity=Severity.ERROR,
    kind=PY,
    why="""
`FastAPI(debug=True)` and `Starlette(debug=True)` make the error middleware answer every
unhandled exception with the full traceback: source lines, file paths, library versions and
the values in the failing expression, sent to whoever triggered the error. It is the ASGI
counterpart of Django's DEBUG = True and is easy to leave on from development.
""",
    fix="""Remove `debug=True` (or read it from the environment with a false default).
Log exceptions server-side instead (`logger.exception`, Sentry).""",
    bad='app = FastAPI(title="Flashcards", debug=True)',
    good='app = FastAPI(title="Flashcards")',
)
def asgi_app_debug_on(ctx: PyContext) -> Iterable[Hit]:
    names = imported_names(ctx)
    for call, callee in ctx.calls_named("FastAPI", "Starlette", "Litestar"):
        if qualify(names, callee) not in ASGI_DEBUG_APPS:
            continue
        debug = keyword(call, "debug")
        if is_true(debug):
            yield Hit(
                call.lineno,
                f"`{callee}(debug=True)` sends full tracebacks to clients on every error",
                call.col_offset + 1,
            )
        elif debug is not None and (variable := env_default_on(debug, names)):
            yield Hit(
                call.lineno,
                f"`{callee}(debug=...)` is on whenever {variable} is unset: its fallback is "
                "true, so production sends tracebacks to clients",
                call.col_offset + 1,
            )


# --- PR122 -------------------------------------------------------------------------------------


@rule(
    "PR122",
    "sql-echo-on",
    title="SQLAlchemy echo turned on in code",
    severity=Severity.WARNING,
    kind=PY,
    why="""
`create_engine(url, echo=True)` (and Flask-SQLAlchemy's `SQLALCHEMY_ECHO = True`) logs every
SQL statement with its bound parameters: password hashes, tokens, emails and other personal
data end up in your log pipeline, and the extra logging costs CPU and log volume on every
query. It is a debugging switch that tends to ship.
""",
    fix="""Remove `echo=True`; turn it on locally through an environment variable if needed.
For SQL diagnostics in production, log slow queries instead (`hide_parameters=True` keeps
parameters out of error messages).""",
    bad="engine = create_engine(DATABASE_URL, echo=True)",
    good="engine = create_engine(DATABASE_URL, pool_pre_ping=True)",
)
def sql_echo_on(ctx: PyContext) -> Iterable[Hit]:
    if "echo" not in ctx.source and "ECHO" not in ctx.source:
        return
    for call, callee in ctx.calls_named("create_engine", "create_async_engine"):
        if is_true(keyword(call, "echo")) and not under_debug_branch(ctx, call):
            yield Hit(
                call.lineno,
                f"`{callee}(echo=True)` logs every SQL statement with its parameters",
                call.col_offset + 1,
            )
    for node in ctx.nodes(ast.Assign):
        if not is_true(node.value):  # type: ignore[attr-defined]
            continue
        for target in node.targets:  # type: ignore[attr-defined]
            key = subscript_key(target)
            name = key[1] if key else (target.id if isinstance(target, ast.Name) else "")
            if name != "SQLALCHEMY_ECHO" or in_dev_config_class(ctx, node):
                continue
            if not under_debug_branch(ctx, node):
                yield Hit(
                    node.lineno,
                    "`SQLALCHEMY_ECHO = True` logs every SQL statement with its parameters",
                )

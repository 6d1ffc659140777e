"""Python rules, part 4: work at import time, static files served from the project root and
exception text sent to clients (PR110-PR112). Outbound calls (timeouts, TLS, blocking calls in
async code) are in python_net.py."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator

from prodready.check.model import Hit, Severity
from prodready.check.pycontext import PyContext
from prodready.check.registry import rule
from prodready.check.rules.crossfile_facts import outside_probes
from prodready.check.rules.pyhelpers import (
    HTTP_VERBS,
    URLOPEN,
    dotted,
    imported_names,
    is_script,
    keyword,
    literal,
    module_assignments,
    names_assigned_from,
    qualify,
    str_value,
)
from prodready.project.model import FileKind

PY = FileKind.PYTHON.value

# --- PR110 -------------------------------------------------------------------------------------

CONNECT = "opens a database connection"
HTTP = "makes an HTTP request"
MODEL = "loads a model"
MIGRATE = "changes the database schema"
WORK_BY_NAME: dict[str, str] = {
    **{
        f"{module}.connect": CONNECT
        for module in (
            "psycopg",
            "psycopg2",
            "pymysql",
            "MySQLdb",
            "mysql.connector",
            "cx_Oracle",
            "oracledb",
            "pyodbc",
            "pymssql",
        )
    },
    **{f"{client}.{verb}": HTTP for client in ("requests", "httpx") for verb in HTTP_VERBS},
    **dict.fromkeys(URLOPEN, HTTP),
    **{
        name: MODEL
        for name in (
            "joblib.load",
            "pickle.load",
            "cloudpickle.load",
            "dill.load",
            "torch.load",
            "spacy.load",
            "tensorflow.saved_model.load",
            "transformers.pipeline",
            "onnxruntime.InferenceSession",
        )
    },
    "nltk.download": "downloads data",
    "alembic.command.upgrade": MIGRATE,
    "alembic.config.main": MIGRATE,
    "flask_migrate.upgrade": MIGRATE,
    "flask_migrate.stamp": MIGRATE,
    "django.core.management.call_command": "runs a management command",
}
WORK_BY_LAST_NAME = {
    "apply_migrations": MIGRATE,  # yoyo
    "from_pretrained": MODEL,
    "load_model": MODEL,
    "SentenceTransformer": MODEL,
    "create_all": "creates database tables",
}
WORK_LAST_NAMES = tuple({name.rsplit(".", 1)[-1] for name in WORK_BY_NAME})
SCRIPT_DIRS = re.compile(r"(?:^|/)(?:migrations|alembic|scripts|bin|tools|notebooks|examples)/")


@rule(
    "PR110",
    "work-at-import-time",
    title="Heavy work at import time (connections, HTTP calls, model loads, migrations)",
    severity=Severity.WARNING,
    kind=PY,
    why="""
Module-level code runs on import: in every Gunicorn worker, in the master before it forks
when `preload_app` is on (a database socket or client opened there is then shared by all
workers, which corrupts the protocol stream), in every test, every `manage.py` command and
every Celery worker that imports the module. It slows each boot and each autoscaled replica,
a dependency that is down makes the import itself crash (so the container restarts in a loop
instead of reporting unready), and `create_all()` / migrations run concurrently in every
worker and race each other.
""",
    fix="""Do it lazily on first use, in a startup hook, or (migrations) as a release step.
`functools.cache` on a loader function, FastAPI lifespan, Gunicorn `post_fork`, or a one-off
`alembic upgrade head` / `manage.py migrate` before the new version starts.""",
    bad='model = joblib.load("model.pkl")\nBase.metadata.create_all(bind=engine)',
    good="@functools.cache\ndef model():\n    return joblib.load(MODEL_PATH)",
    severity_note="not reported in a script a healthcheck runs",
    calibrate=outside_probes,
)
def work_at_import_time(ctx: PyContext) -> Iterable[Hit]:
    if is_script(ctx) or SCRIPT_DIRS.search(ctx.rel):
        return
    names = imported_names(ctx)
    for call, callee, what in _heavy_calls(ctx, names):
        if ctx.at_import_time(call):
            yield Hit(
                call.lineno,
                f"`{callee}()` {what} when the module is imported: in every worker, on every "
                "boot, and the import fails when the dependency is down",
                call.col_offset + 1,
            )


def _heavy_calls(ctx: PyContext, names: dict[str, str]) -> Iterator[tuple[ast.Call, str, str]]:
    for last in WORK_LAST_NAMES:
        for call, callee in ctx.calls_named(last):
            what = WORK_BY_NAME.get(qualify(names, callee))
            if what:
                yield call, callee, what
    for call, callee in ctx.calls_named(*WORK_BY_LAST_NAME):
        yield call, callee, WORK_BY_LAST_NAME[callee.rsplit(".", 1)[-1]]
    engines = names_assigned_from(ctx, "create_engine")
    for call, callee in ctx.calls_named("connect", "ping"):
        base = call.func.value if isinstance(call.func, ast.Attribute) else None
        if base is None:
            continue
        if callee.endswith(".connect") and (
            dotted(base) in engines
            or (isinstance(base, ast.Call) and dotted(base.func).endswith("create_engine"))
        ):
            yield call, callee, CONNECT
        elif callee.endswith(".ping") and "redis" in ctx.imports:
            yield call, callee, "connects to Redis"


# --- PR111 -------------------------------------------------------------------------------------

ROOT_NAMES = frozenset(
    {"BASE_DIR", "ROOT_DIR", "PROJECT_ROOT", "PROJECT_DIR", "APP_ROOT", "APP_DIR", "ROOT"}
)
ROOT_TEXT = re.compile(
    r"^(?:os\.getcwd\(\)|Path\.cwd\(\)|Path\(\)|Path\(['\"]\.?/?['\"]\)|\w+\.root_path|"
    r"os\.path\.dirname\((?:os\.path\.(?:abspath|realpath)\()?__file__\)?\)|"
    r"Path\(__file__\)(?:\.resolve\(\)|\.absolute\(\))?(?:\.parent)+)$"
)


def _is_project_root(ctx: PyContext, node: ast.AST | None, *, empty: bool = True) -> bool:
    """ ".", "" (with `empty`), os.getcwd(), BASE_DIR, Path(__file__).parent, app.root_path,
    str(BASE_DIR)."""
    if node is None:
        return False
    if isinstance(node, ast.Call) and dotted(node.func) == "str" and len(node.args) == 1:
        node = node.args[0]
    text = str_value(node)
    if text is not None:
        return text.strip() in (".", "./") or (empty and not text.strip())
    if isinstance(node, ast.Name):
        return node.id in ROOT_NAMES
    return bool(ROOT_TEXT.match(re.sub(r"\s+", "", ctx.segment(node))))


@rule(
    "PR111",
    "static-files-from-project-root",
    title="Static files served from the project root",
    severity=Severity.ERROR,
    kind=PY,
    why="""
Pointing a static-file handler at the project root (".", BASE_DIR, the package directory)
makes every file under it downloadable by URL: `/static/.env`, `/static/settings.py`,
`/static/app.py`, the SQLite database, `.git/config`. Attackers request these paths
routinely; an exposed `.env` hands over database passwords and API keys.
""",
    fix="""Serve a dedicated directory that holds only public assets.
`StaticFiles(directory="static")`, `STATIC_ROOT = BASE_DIR / "staticfiles"`.""",
    bad='app.mount("/static", StaticFiles(directory="."), name="static")',
    good='app.mount("/static", StaticFiles(directory="static"), name="static")',
)
def static_files_from_project_root(ctx: PyContext) -> Iterable[Hit]:
    for call, callee in ctx.calls_named("StaticFiles"):
        if _is_project_root(ctx, keyword(call, "directory") or _arg(call, 0)):
            yield Hit(
                call.lineno,
                f"`{callee}(directory=...)` serves the project root",
                call.col_offset + 1,
            )
    for call, callee in ctx.calls_named("Flask", "Quart"):
        folder = keyword(call, "static_folder")
        if folder is not None and _is_project_root(ctx, folder):
            yield Hit(
                call.lineno,
                f"`{callee}(static_folder=...)` serves the application directory",
                call.col_offset + 1,
            )
    for call, callee in ctx.calls_named("send_from_directory"):
        directory = _arg(call, 0) or keyword(call, "directory")
        filename = _arg(call, 1) or keyword(call, "path") or keyword(call, "filename")
        if _is_project_root(ctx, directory) and str_value(filename) is None:
            yield Hit(
                call.lineno,
                f"`{callee}()` sends any requested file from the project root",
                call.col_offset + 1,
            )
    for call, callee in ctx.calls_named("static_file"):
        directory, filename = keyword(call, "root"), _arg(call, 0)
        if _is_project_root(ctx, directory) and str_value(filename) is None:
            yield Hit(
                call.lineno,
                f"`{callee}()` sends any requested file from the project root",
                call.col_offset + 1,
            )
    for call, callee in ctx.calls_named("add_static", "WhiteNoise"):
        directory = _arg(call, 1) if callee.endswith("add_static") else keyword(call, "root")
        if _is_project_root(ctx, directory):
            yield Hit(call.lineno, f"`{callee}()` serves the project root", call.col_offset + 1)
    for name, value, stmt in module_assignments(ctx):
        # "" is Django's default MEDIA_ROOT ("not configured"), not the project root
        if name in ("STATIC_ROOT", "MEDIA_ROOT") and _is_project_root(ctx, value, empty=False):
            yield Hit(
                stmt.lineno,
                f"`{name}` is the project root: the web server serves your source and .env",
            )
        elif (
            name == "STATICFILES_DIRS"
            and isinstance(value, ast.List | ast.Tuple)
            and any(_is_project_root(ctx, item) for item in value.elts)
        ):
            yield Hit(
                stmt.lineno,
                "`STATICFILES_DIRS` includes the project root: collectstatic publishes the source",
            )


def _arg(call: ast.Call, index: int) -> ast.expr | None:
    return call.args[index] if len(call.args) > index else None


# --- PR112 -------------------------------------------------------------------------------------

BROAD_EXCEPTIONS = re.compile(
    r"(?:^|\.)(?:Exception|BaseException|OSError|IOError|\w*DatabaseError|OperationalError|"
    r"ProgrammingError|IntegrityError|SQLAlchemyError|DBAPIError|RequestException|"
    r"(?:psycopg2?|pymysql|redis)\.\w*Error)$"
)
RESPONSE_BUILDERS = frozenset(
    {
        "jsonify",
        "make_response",
        "Response",
        "JSONResponse",
        "PlainTextResponse",
        "HTMLResponse",
        "HttpResponse",
        "JsonResponse",
        "HttpResponseServerError",
        "HTTPException",
        "abort",
    }
)
ROUTE_DECORATORS = frozenset(
    {"route", "get", "post", "put", "patch", "delete", "api_route", "websocket", "api_view"}
)
TRACEBACK_TEXT = frozenset({"format_exc", "format_exception", "format_tb"})
DIAGNOSTIC_WORDS = frozenset({"test", "testing", "debug", "diagnose", "diagnostic", "diagnostics"})


@rule(
    "PR112",
    "exception-text-to-client",
    title="Exception text returned to the client",
    severity=Severity.WARNING,
    kind=PY,
    why="""
`str(e)` of an unexpected exception is written for developers: it carries SQL statements and
constraint names, file paths, hostnames and ports of internal services, library versions and
sometimes the data that failed (a password in a connection error, a user's record). Returned
to the client it maps your internals for an attacker (OWASP: Improper Error Handling) and
leaks personal data into browsers and third-party logs. An endpoint named as a connection
test or a debug check (`llm_test`, `MailTestingAPI`) is not reported: the error of the service
it tries is the answer an operator asks it for.
""",
    fix="""Log the exception server-side and return a generic message with an error id.
`logger.exception("...")` keeps the details in your logs, where they belong.""",
    bad="except Exception as exc:\n    return jsonify(error=str(exc)), 500",
    good=(
        'except Exception:\n    logger.exception("scoring failed")\n'
        '    return jsonify(error="internal error"), 500'
    ),
)
def exception_text_to_client(ctx: PyContext) -> Iterable[Hit]:
    for handler in ctx.nodes(ast.ExceptHandler):
        assert isinstance(handler, ast.ExceptHandler)
        if handler.type is not None and not _is_broad(handler.type):
            continue
        if handler.name is None and not ("format_" in ctx.source and _mentions_traceback(handler)):
            continue
        if _is_diagnostic_endpoint(ctx, handler):
            continue
        function = ctx.enclosing_function(handler)
        in_view = function is not None and _is_view(ctx, function)
        for statement in _statements(handler.body):
            leak = _leaking_response(statement, handler.name, in_view)
            if leak:
                yield Hit(
                    leak.lineno,  # type: ignore[attr-defined]
                    f"exception text sent to the client: `{_short(ctx, leak)}`",
                    leak.col_offset + 1,  # type: ignore[attr-defined]
                )
    for function, name in _catch_all_error_handlers(ctx):
        for statement in _statements(function.body):
            leak = _leaking_response(statement, name, True)
            if leak:
                yield Hit(
                    leak.lineno,
                    f"catch-all error handler `{function.name}` sends the exception text: "
                    f"`{_short(ctx, leak)}`",
                )


def _catch_all_error_handlers(
    ctx: PyContext,
) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]]:
    """`@app.errorhandler(Exception)` / `(500)` and `@app.exception_handler(Exception)`, with
    the name of the exception parameter (the last positional one)."""
    for call, _ in ctx.calls_named("errorhandler", "exception_handler"):
        function = ctx.parent(call)
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) or not call.args:
            continue
        if call not in function.decorator_list or not function.args.args:
            continue
        handled = call.args[0]
        if literal(handled) == 500 or _is_broad(handled):
            yield function, function.args.args[-1].arg


def _is_diagnostic_endpoint(ctx: PyContext, handler: ast.ExceptHandler) -> bool:
    """Inside a function or class named as a connection test or debug endpoint (`llm_test`,
    `MailTestingAPI`, `debug_openai`): an operator asks it whether a service answers, and the
    service's error is the answer it exists to give."""
    return any(
        isinstance(ancestor, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and bool(DIAGNOSTIC_WORDS & _words(ancestor.name))
        for ancestor in ctx.ancestors(handler)
    )


def _words(identifier: str) -> set[str]:
    """`MailTestingAPI` -> {"mail", "testing", "api"}; `llm_test` -> {"llm", "test"}."""
    return {word.lower() for word in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", identifier)}


def _is_broad(node: ast.expr) -> bool:
    types = node.elts if isinstance(node, ast.Tuple) else [node]
    return any(BROAD_EXCEPTIONS.search(dotted(t)) for t in types)


def _mentions_traceback(handler: ast.ExceptHandler) -> bool:
    return any(
        isinstance(node, ast.Call) and dotted(node.func).rsplit(".", 1)[-1] in TRACEBACK_TEXT
        for node in ast.walk(handler)
    )


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements of an except body, nested blocks included, nested functions excluded."""
    stack = list(reversed(body))
    while stack:
        statement = stack.pop()
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        yield statement
        for field in ("body", "orelse", "finalbody"):
            stack.extend(reversed(getattr(statement, field, [])))


def _leaking_response(statement: ast.stmt, name: str | None, in_view: bool) -> ast.AST | None:
    """The returned/raised value or response call that carries the exception text."""
    returned = statement.value if isinstance(statement, ast.Return) else None
    if in_view and returned is not None and _carries_error(returned, name):
        return returned
    candidates = ([statement.exc] if isinstance(statement, ast.Raise) and statement.exc else []) + [
        getattr(statement, "value", None)
    ]
    for candidate in candidates:
        for node in ast.walk(candidate) if candidate is not None else ():
            if (
                isinstance(node, ast.Call)
                and dotted(node.func).rsplit(".", 1)[-1] in RESPONSE_BUILDERS
                and _carries_error(node, name)
            ):
                return node
    return None


def _carries_error(node: ast.AST, name: str | None) -> bool:
    """`str(e)`, `repr(e)`, `f"{e}"`, `e.args`, `traceback.format_exc()` inside `node`."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call):
            callee = dotted(inner.func).rsplit(".", 1)[-1]
            if callee in TRACEBACK_TEXT:
                return True
            if callee in ("str", "repr") and _is_name(inner.args[0] if inner.args else None, name):
                return True
        elif _mentions_exception(inner, name):
            return True
    return False


def _mentions_exception(node: ast.AST, name: str | None) -> bool:
    """`f"{e}"`, `e.args`, `e.orig` (SQLAlchemy's wrapped DB-API error)."""
    if isinstance(node, ast.FormattedValue):
        return _is_name(node.value, name)
    return (
        isinstance(node, ast.Attribute)
        and node.attr in ("args", "orig")
        and _is_name(node.value, name)
    )


def _is_name(node: ast.AST | None, name: str | None) -> bool:
    return name is not None and isinstance(node, ast.Name) and node.id == name


def _is_view(ctx: PyContext, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A route handler: decorated with @app.route/@router.get/..., a Django view taking
    `request`, or a method of a class-based view."""
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if dotted(target).rsplit(".", 1)[-1] in ROUTE_DECORATORS:
            return True
    arguments = [a.arg for a in function.args.args]
    if arguments[:1] == ["request"] or arguments[:2] == ["self", "request"]:
        return True
    owner = ctx.parent(function)
    return isinstance(owner, ast.ClassDef) and any(
        dotted(base).endswith(("View", "ViewSet", "Resource", "Endpoint")) for base in owner.bases
    )


def _short(ctx: PyContext, node: ast.AST) -> str:
    text = " ".join(ctx.segment(node).split())
    return text if len(text) <= 60 else text[:57] + "..."

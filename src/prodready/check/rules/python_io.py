"""Python rules, part 4: what the code does with the outside world (PR110-PR115): work at import
time, static files served from the project root, exception text sent to clients, outbound HTTP
without a timeout, TLS verification turned off, and blocking calls inside `async def`."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator

from prodready.check.model import Hit, Severity
from prodready.check.pycontext import PyContext
from prodready.check.registry import rule
from prodready.check.rules.pyhelpers import (
    dotted,
    imported_names,
    in_main_guard,
    is_false,
    is_script,
    keyword,
    module_assignments,
    names_assigned_from,
    qualify,
    str_value,
)
from prodready.project.model import FileKind

PY = FileKind.PYTHON.value

HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request"})
URLOPEN = frozenset(
    {"urllib.request.urlopen", "urllib2.urlopen", "six.moves.urllib.request.urlopen"}
)
REQUESTS_SESSION = frozenset({"requests.Session", "requests.session", "requests.sessions.Session"})


def requests_call(callee: str, names: dict[str, str], sessions: set[str]) -> bool:
    """`requests.get(...)`, `from requests import post; post(...)`, `session.get(...)` on a
    `requests.Session()`."""
    base, _, verb = qualify(names, callee).rpartition(".")
    if verb not in HTTP_VERBS:
        return False
    return base in ("requests", "requests.api") or callee.rpartition(".")[0] in sessions


def requests_sessions(ctx: PyContext) -> set[str]:
    return names_assigned_from(ctx, "Session", "session", qualified=REQUESTS_SESSION)


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
    "alembic.command.upgrade": MIGRATE,
    "django.core.management.call_command": "runs a management command",
}
WORK_BY_LAST_NAME = {
    "from_pretrained": MODEL,
    "load_model": MODEL,
    "SentenceTransformer": MODEL,
    "create_all": "creates database tables",
}
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
    fix="""Do it lazily on first use (functools.cache), in a startup hook (FastAPI lifespan,
Gunicorn `post_fork`), or as a separate release step for migrations.""",
    bad='model = joblib.load("model.pkl")\nBase.metadata.create_all(bind=engine)',
    good="@functools.cache\ndef model():\n    return joblib.load(MODEL_PATH)",
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
    for last in {name.rsplit(".", 1)[-1] for name in WORK_BY_NAME}:
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
    fix="""Serve a dedicated directory that holds only public assets
(`StaticFiles(directory="static")`, `STATIC_ROOT = BASE_DIR / "staticfiles"`).""",
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
leaks personal data into browsers and third-party logs.
""",
    fix="""Log the exception server-side (`logger.exception(...)`) and return a generic message
with an error id the user can quote to support.""",
    bad="except Exception as exc:\n    return jsonify(error=str(exc)), 500",
    good=(
        'except Exception:\n    logger.exception("scoring failed")\n'
        '    return jsonify(error="internal error"), 500'
    ),
)
def exception_text_to_client(ctx: PyContext) -> Iterable[Hit]:
    for handler in ctx.nodes(ast.ExceptHandler):
        assert isinstance(handler, ast.ExceptHandler)
        if handler.name is None and not _mentions_traceback(handler):
            continue
        if handler.type is not None and not _is_broad(handler.type):
            continue
        function = ctx.enclosing_function(handler)
        in_view = function is not None and _is_view(ctx, function)
        for statement in _statements(handler.body):
            leak = _leaking_response(statement, handler.name, in_view)
            if leak:
                yield Hit(leak.lineno, f"exception text sent to the client: `{_short(ctx, leak)}`")


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


# --- PR113 -------------------------------------------------------------------------------------


@rule(
    "PR113",
    "http-call-without-timeout",
    title="Outbound HTTP call without a timeout",
    severity=Severity.WARNING,
    kind=PY,
    why="""
`requests` and `urllib` wait forever by default. When the service you call stops answering
(a hung load balancer, a dropped connection without RST, a slow third-party API), each request
that reaches this call holds a worker until Gunicorn kills it: a few slow upstream calls use
up every worker and the whole app stops answering, including its health check. The requests
docs: "Nearly all production code should use this parameter in nearly all requests."
(httpx has a 5 s default and is not reported.)
""",
    fix="""Pass an explicit timeout shorter than the worker timeout: `requests.post(url, json=body,
timeout=(3.05, 10))`, `urlopen(req, timeout=10)`.""",
    bad="requests.post(WEBHOOK_URL, json=payload)",
    good="requests.post(WEBHOOK_URL, json=payload, timeout=10)",
)
def http_call_without_timeout(ctx: PyContext) -> Iterable[Hit]:
    names = imported_names(ctx)
    sessions = requests_sessions(ctx)
    for call, callee in ctx.calls_named(*HTTP_VERBS, "urlopen"):
        if any(k.arg is None for k in call.keywords) or in_main_guard(ctx, call):
            continue  # **kwargs may carry the timeout; a __main__ block is a one-off script
        if requests_call(callee, names, sessions):
            limit = keyword(call, "timeout")
        elif qualify(names, callee) in URLOPEN:
            limit = keyword(call, "timeout") or _arg(call, 2)
        else:
            continue
        if limit is None:
            yield Hit(
                call.lineno,
                f"`{callee}()` has no timeout: it waits forever on a stalled server",
                call.col_offset + 1,
            )
        elif isinstance(limit, ast.Constant) and limit.value is None:
            yield Hit(
                call.lineno,
                f"`{callee}(timeout=None)` waits forever on a stalled server",
                call.col_offset + 1,
            )


# --- PR114 -------------------------------------------------------------------------------------

VERIFY_KEYWORDS = frozenset({"verify", "verify_ssl", "verify_certs", "ssl_verify"})


@rule(
    "PR114",
    "tls-verification-disabled",
    title="TLS certificate verification disabled",
    severity=Severity.ERROR,
    kind=PY,
    why="""
`verify=False`, `ssl.CERT_NONE`, `check_hostname = False` and `_create_unverified_context()`
accept any certificate, so anyone on the network path (a compromised router, a cloud
neighbour, a malicious Wi-Fi, a DNS hijack) can impersonate the API or database you call and
read or change the credentials and data you send. The usual cause is a self-signed or
internal CA certificate; the fix is to trust that CA, not to turn checking off.
""",
    fix="""Remove it; for an internal CA pass its bundle: `verify="/etc/ssl/internal-ca.pem"`
(requests/httpx) or `ssl.create_default_context(cafile=...)`.""",
    bad="requests.get(url, verify=False, timeout=5)",
    good='requests.get(url, verify="/etc/ssl/certs/internal-ca.pem", timeout=5)',
)
def tls_verification_disabled(ctx: PyContext) -> Iterable[Hit]:
    seen: set[int] = set()
    for node, message in _tls_switches(ctx):
        line = node.lineno  # type: ignore[attr-defined]
        if line not in seen and not _behind_opt_in(ctx, node):
            seen.add(line)
            yield Hit(line, message)


OPT_IN = re.compile(r"insecure|verify|self_?signed|unverified", re.IGNORECASE)


def _behind_opt_in(ctx: PyContext, node: ast.AST) -> bool:
    """`if insecure:` / `if not settings.VERIFY_TLS:`: an explicit switch, like `curl -k`."""
    return any(
        isinstance(a, ast.If | ast.IfExp) and OPT_IN.search(ctx.segment(a.test))
        for a in ctx.ancestors(node)
    )


def _is_set(ctx: PyContext, node: ast.AST) -> bool:
    """`ctx.verify_mode = ssl.CERT_NONE` or `cert_reqs=ssl.CERT_NONE`, not a comparison or a
    lookup table of modes."""
    return isinstance(ctx.parent(node), ast.Assign | ast.AnnAssign | ast.keyword)


def _tls_switches(ctx: PyContext) -> Iterator[tuple[ast.AST, str]]:
    """(node, message) for each place that turns certificate checking off."""
    if not any(word in ctx.source for word in ("verify", "ssl", "cert_reqs", "CERT_NONE")):
        return
    aiohttp = "aiohttp" in ctx.imports
    off = "disables TLS certificate verification"
    for node in ctx.nodes(ast.keyword):
        assert isinstance(node, ast.keyword)
        call = ctx.parent(node)
        callee = dotted(call.func) if isinstance(call, ast.Call) else "call"
        if callee.startswith("jwt."):
            continue  # PyJWT 1.x `verify=False` skips the signature check, not TLS
        if is_false(node.value) and (
            node.arg in VERIFY_KEYWORDS or (node.arg == "ssl" and aiohttp)
        ):
            yield node, f"`{callee}(..., {node.arg}=False)` {off}"
        elif node.arg == "cert_reqs" and str_value(node.value) == "CERT_NONE":
            yield node, f'`{callee}(..., cert_reqs="CERT_NONE")` {off}'
    if "_create_unverified_context" in ctx.source:
        for node in ctx.nodes(ast.Attribute):
            if node.attr == "_create_unverified_context":  # type: ignore[attr-defined]
                yield node, f"`{dotted(node)}` {off}"
    if "CERT_NONE" in ctx.source:
        for kind in (ast.Attribute, ast.Name):
            for node in ctx.nodes(kind):
                if dotted(node).endswith("CERT_NONE") and _is_set(ctx, node):
                    yield node, f"`{dotted(node)}` {off}"
    for node in ctx.nodes(ast.Assign):
        assert isinstance(node, ast.Assign)
        for target in node.targets:
            if not (isinstance(target, ast.Attribute) and is_false(node.value)):
                continue
            if target.attr == "check_hostname":
                yield node, f"`{dotted(target)} = False` accepts certificates for any host"
            elif target.attr == "verify" and "requests" in ctx.imports:
                yield node, f"`{dotted(target)} = False` {off}"


# --- PR115 -------------------------------------------------------------------------------------

BLOCKING: dict[str, str] = {
    "time.sleep": "sleeps",
    **dict.fromkeys(URLOPEN, "waits on HTTP"),
    **{
        f"{module}.connect": "opens a blocking database connection"
        for module in ("psycopg2", "psycopg", "pymysql", "MySQLdb", "sqlite3")
    },
    **{
        f"subprocess.{name}": "waits for a subprocess"
        for name in ("run", "call", "check_call", "check_output")
    },
    "os.system": "waits for a subprocess",
}


@rule(
    "PR115",
    "blocking-call-in-async",
    title="Blocking call inside async def",
    severity=Severity.WARNING,
    kind=PY,
    why="""
An `async def` handler runs on the worker's single event-loop thread. A blocking call in it
(time.sleep, requests, urlopen, a sync database driver, subprocess.run) freezes that thread:
every other request on the worker, health checks included, waits until it returns, so one
slow upstream call turns into timeouts for all concurrent users. FastAPI runs plain `def`
endpoints in a thread pool precisely to avoid this.
""",
    fix="""Use the async counterpart (`await asyncio.sleep`, httpx.AsyncClient, psycopg
AsyncConnection, asyncio.create_subprocess_exec), `await run_in_threadpool(fn, ...)`, or make
the endpoint a plain `def`.""",
    bad="async def translate(text):\n    return requests.post(URL, json={'q': text}).json()",
    good=(
        "async def translate(text):\n    async with httpx.AsyncClient(timeout=5) as client:\n"
        "        return (await client.post(URL, json={'q': text})).json()"
    ),
)
def blocking_call_in_async(ctx: PyContext) -> Iterable[Hit]:
    if not ctx.nodes(ast.AsyncFunctionDef):
        return
    names = imported_names(ctx)
    sessions = requests_sessions(ctx)
    lasts = {name.rsplit(".", 1)[-1] for name in BLOCKING} | HTTP_VERBS
    for call, callee in ctx.calls_named(*lasts):
        function = ctx.enclosing_function(call)
        if not isinstance(function, ast.AsyncFunctionDef):
            continue
        if requests_call(callee, names, sessions):
            what = "waits on HTTP"
        else:
            what = BLOCKING.get(qualify(names, callee), "")
        if what and not _inside_lambda(ctx, call):
            yield Hit(
                call.lineno,
                f"`{callee}()` {what} inside `async def {function.name}`: the whole event loop "
                "stalls",
                call.col_offset + 1,
            )


def _inside_lambda(ctx: PyContext, call: ast.Call) -> bool:
    """`run_in_executor(None, lambda: requests.get(url))` runs the call in a thread; the
    lambda is not a FunctionDef, so enclosing_function() still names the async def."""
    return any(isinstance(a, ast.Lambda) for a in ctx.ancestors(call))

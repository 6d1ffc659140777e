"""Reads one Python module's AST, once, into a `ModuleSummary`: apps, routes, dev-server runs,
connection pools, environment reads, proxy trust and Django settings. Never imports user code."""

from __future__ import annotations

import ast
import builtins
import dataclasses
import re
import sys
from typing import Any

from prodready.project.limits import TOO_DEEP
from prodready.project.model import (
    AppCandidate,
    FileProblem,
    ModuleSummary,
    PoolSetting,
    RouteInfo,
    RouterMount,
    RunCall,
)
from prodready.project.newsyntax import parse_newer

APP_CLASSES: dict[str, tuple[str, str]] = {
    "Flask": ("flask", "wsgi"),
    "Quart": ("quart", "asgi"),
    "FastAPI": ("fastapi", "asgi"),
    "Starlette": ("starlette", "asgi"),
    "Litestar": ("litestar", "asgi"),
    "Bottle": ("bottle", "wsgi"),
    "Falcon": ("falcon", "wsgi"),
    "App": ("falcon", "wsgi"),
}
APP_IMPORT_ROOTS = {
    "flask": "Flask",
    "quart": "Quart",
    "fastapi": "FastAPI",
    "starlette": "Starlette",
    "litestar": "Litestar",
    "bottle": "Bottle",
    "falcon": "App",
}
DJANGO_ENTRY = {"get_wsgi_application": "wsgi", "get_asgi_application": "asgi"}
ROUTER_CLASSES = {"Blueprint": "url_prefix", "APIRouter": "prefix", "Router": "prefix"}
ROUTE_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "websocket"}
DJANGO_METHOD_DECORATORS = {
    "require_POST": ("POST",),
    "require_GET": ("GET",),
    "require_safe": ("GET", "HEAD"),
}
"""django.views.decorators.http's fixed ones; require_http_methods([...]) names its own."""
FACTORY_NAMES = {"create_app", "make_app", "app_factory", "get_app", "build_app"}
ENV_GETTERS = {"getenv", "get", "config", "env", "str", "int", "bool", "get_value"}
BLOCKING_CALLS = {
    "sleep",
    "execute",
    "executemany",
    "fetchall",
    "fetchone",
    "query",
    "urlopen",
    "connect",
    "get",
    "post",
    "put",
    "delete",
    "request",
    "commit",
    "scalars",
    "scalar",
    "first",
    "all",
}
BLOCKING_ROOTS = {
    "requests",
    "time",
    "urllib",
    "psycopg",
    "psycopg2",
    "db",
    "session",
    "cursor",
    "cur",
    "conn",
    "connection",
    "engine",
    "redis",
    "r",
    "cache",
    "client",
    "http",
}
SERVICE_URL = re.compile(
    r"^(postgres(?:ql)?(?:\+\w+)?|mysql(?:\+\w+)?|mariadb|redis|rediss|"
    r"mongodb(?:\+srv)?|amqps?|sqlite)://",
    re.IGNORECASE,
)
DJANGO_SETTING = re.compile(r"^[A-Z][A-Z0-9_]*$")


def module_name(rel: str) -> str:
    """`src/pkg/app.py` -> `pkg.app`, `app/__init__.py` -> `app`."""
    parts = rel[:-3].split("/")
    if parts[0] in ("src", "lib") and len(parts) > 1:
        parts = parts[1:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or "__init__"


SYNTAX_ERROR = "Python syntax error"
JINJA_TAG = re.compile(r"^\s*\{%-?\s.*%\}\s*$|\{\{\s*[\w.]+(\s*\|\s*\w+)*\s*\}\}", re.MULTILINE)
"""`{% if x %}` on a line of its own, or `{{ name }}` / `{{ value | filter }}`: in a file that
does not parse, these make it a template."""
PARSED_AS = f"Python {sys.version_info.major}.{sys.version_info.minor}"


def summarize(rel: str, source: str) -> tuple[ModuleSummary, ast.Module | None]:
    summary = ModuleSummary(rel=rel, module=module_name(rel))
    try:
        try:
            tree = ast.parse(source, filename=rel)
        except (SyntaxError, ValueError) as error:
            newer = parse_newer(source, rel)  # `type X = ...`, `except A, B:` on an older Python
            if newer is None:
                summary.template = bool(JINJA_TAG.search(source))
                line = getattr(error, "lineno", None) or 1
                summary.syntax_error = FileProblem(
                    rel, line, f"{SYNTAX_ERROR} (parsed as {PARSED_AS}): {_msg(error)}"
                )
                return summary, None
            tree = newer
    except (RecursionError, MemoryError):  # thousands of chained operators or lambdas
        summary.syntax_error = FileProblem(rel, 1, TOO_DEEP)
        return summary, None
    try:
        _Scanner(summary, _stream_names(tree, summary)).visit(tree)
    except RecursionError:
        # Parsed, but deeper than the visitors can walk: no rule could read it either.
        empty = ModuleSummary(
            rel=rel, module=summary.module, syntax_error=FileProblem(rel, 1, TOO_DEEP)
        )
        return empty, None
    return summary, tree


def _msg(error: Exception) -> str:
    return getattr(error, "msg", None) or str(error)


def dotted(node: ast.AST) -> str:
    """`a.b.c` for Name/Attribute chains, "" otherwise; calls are looked through."""
    parts: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Name):
            parts.append(node.id)
            break
        else:
            return ""
    return ".".join(reversed(parts))


def literal(node: ast.AST | None) -> Any:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def is_main_guard(node: ast.If) -> bool:
    test = node.test
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )


SERVED_NAME = re.compile(r"^(app|application|api|asgi|wsgi|\w+_app|\w+_application)$")
"""Names a wrapped app is served under (`application = WhiteNoise(...)`); an extension bound to
another name (`db = SQLAlchemy(app)`, `cors = CORS(app)`) takes the app but is not it."""


class _Scanner(ast.NodeVisitor):
    """One walk over the module. `visit` and `generic_visit` are ast.NodeVisitor's, made
    cheaper (method lookup cached per node class, no iter_fields generator): this walk is a
    large part of the cost of checking a big tree."""

    _methods: dict[type, str] = {}

    def visit(self, node: ast.AST) -> None:
        kind = type(node)
        name = self._methods.get(kind)
        if name is None:
            name = f"visit_{kind.__name__}"
            self._methods[kind] = name if hasattr(self, name) else "generic_visit"
            name = self._methods[kind]
        getattr(self, name)(node)

    def generic_visit(self, node: ast.AST) -> None:
        for field_name in node._fields:
            value = getattr(node, field_name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    def __init__(self, summary: ModuleSummary, stream_names: frozenset[str] = frozenset()) -> None:
        self.s = summary
        self.stream_names = stream_names
        """Module-level names bound to `<kit>.stream(...)`: their `.response()` streams."""
        self.depth = 0  # >0 inside a function or class body
        self.in_main = False
        self.function_stack: list[str] = []
        self.app_vars: set[str] = set()
        self.imported_app_classes: dict[str, str] = {}  # local name -> canonical class
        self.is_settings = summary.rel.rsplit("/", 1)[-1].startswith("settings") or (
            "/settings/" in f"/{summary.rel}"
        )

    # --- structure ---------------------------------------------------------------------------

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.s.imports.add(alias.name.split(".")[0])
            self.s.imported_modules.add(alias.name)
            if alias.asname:
                self.s.import_aliases[alias.asname] = alias.name

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        source = self._absolute(node.module, node.level)
        if source is not None:
            self.s.imported_modules.add(source)
            for alias in node.names:
                if alias.name != "*":
                    self.s.import_aliases[alias.asname or alias.name] = f"{source}.{alias.name}"
                    self.s.imported_modules.add(f"{source}.{alias.name}")
                elif self.depth == 0:
                    self.s.star_imports.append(source)
        if node.module and node.level == 0:
            root = node.module.split(".")[0]
            self.s.imports.add(root)
            for alias in node.names:
                if alias.name in APP_CLASSES or alias.name in ROUTER_CLASSES:
                    self.imported_app_classes[alias.asname or alias.name] = alias.name
        if self.depth == 0:
            for alias in node.names:
                self.s.top_level_names.add(alias.asname or alias.name)

    def _absolute(self, module: str | None, level: int) -> str | None:
        """The absolute name of `from <level dots><module> import ...` in this module."""
        if level == 0:
            return module
        package = self.s.module.split(".")
        if not self.s.rel.endswith("__init__.py"):
            package = package[:-1]
        if level - 1 > len(package):
            return None
        base = package[: len(package) - (level - 1)]
        return ".".join([*base, module] if module else base) or None

    def visit_If(self, node: ast.If) -> None:
        if self.depth == 0 and is_main_guard(node):
            self.in_main = True
            self.generic_visit(node)
            self.in_main = False
        else:
            self.generic_visit(node)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if self.depth == 0:
            self.s.top_level_names.add(node.name)
            if node.name in FACTORY_NAMES:
                self._maybe_factory(node)
            methods = _django_view_methods(node)
            if methods:
                self.s.view_methods[node.name] = methods
        self._routes_from_decorators(node)
        self.depth += 1
        self.function_stack.append(node.name)
        self.generic_visit(node)
        self.function_stack.pop()
        self.depth -= 1

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if self.depth == 0:
            self.s.top_level_names.add(node.name)
            self._settings_class_fields(node)
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    # --- assignments: apps, routers, Django settings --------------------------------------------

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._assigned(target, node.value, node.lineno)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._assigned(node.target, node.value, node.lineno)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if (
            self.depth == 0
            and isinstance(node.target, ast.Name)
            and node.target.id == "urlpatterns"
        ):
            self._url_patterns(node.value)
        self.generic_visit(node)

    def _url_patterns(self, value: ast.expr) -> None:
        """Django `urlpatterns = [path("x/", view), path("api/", include("api.urls"))]`."""
        if not isinstance(value, ast.List | ast.Tuple):
            return
        for element in value.elts:
            if not isinstance(element, ast.Call) or not element.args:
                continue
            if dotted(element.func).rsplit(".", 1)[-1] not in ("path", "re_path", "url"):
                continue
            route = literal(element.args[0])
            if not isinstance(route, str):
                continue
            included = None
            second = element.args[1] if len(element.args) > 1 else None
            if isinstance(second, ast.Call) and dotted(second.func).endswith("include"):
                target = second.args[0] if second.args else None
                found = literal(target)
                if isinstance(found, tuple | list) and found:
                    found = found[0]
                included = found if isinstance(found, str) else None
            self.s.url_patterns.append((element.lineno, route, included))
            if included is None and isinstance(second, ast.Name | ast.Attribute):
                self.s.url_views[element.lineno] = dotted(second)

    def _assigned(self, target: ast.expr, value: ast.expr, line: int) -> None:
        if not isinstance(target, ast.Name):
            return
        name = target.id
        if self.depth == 0 and name == "urlpatterns":
            self._url_patterns(value)
        if self.depth == 0:
            self.s.top_level_names.add(name)
            if self.is_settings and DJANGO_SETTING.match(name):
                self.s.django_settings[name] = (line, literal(value))
                if name == "SECURE_PROXY_SSL_HEADER":
                    self.s.trusts_proxy.append((line, "Django SECURE_PROXY_SSL_HEADER"))
                if name == "USE_X_FORWARDED_HOST" and literal(value) is True:
                    self.s.trusts_proxy.append((line, "Django USE_X_FORWARDED_HOST"))
        if not isinstance(value, ast.Call):
            return
        if self.depth == 0 and SERVED_NAME.match(name):
            wrapped = self._wrapped_app(value)
            if isinstance(wrapped, ast.Name):
                self._app_rebound(wrapped.id, name, dotted(value.func), line)
                return
            value = wrapped or value
        callee = dotted(value.func)
        last = callee.rsplit(".", 1)[-1]
        if self.depth == 0 and last in FACTORY_NAMES:
            self.s.factory_calls.append((name, last, line))
        canonical = self.imported_app_classes.get(last, last)
        if self.depth == 0 and canonical in APP_CLASSES and self._is_app_class(callee, canonical):
            framework, interface = APP_CLASSES[canonical]
            self.app_vars.add(name)
            self.s.apps.append(
                AppCandidate(
                    self.s.module,
                    name,
                    framework,
                    interface,
                    self.s.rel,
                    line,
                    f"{callee}() assigned to {name} at {self.s.rel}:{line}",
                )
            )
        elif self.depth == 0 and last in DJANGO_ENTRY:
            self.s.apps.append(
                AppCandidate(
                    self.s.module,
                    name,
                    "django",
                    DJANGO_ENTRY[last],
                    self.s.rel,
                    line,
                    f"{last}() assigned to {name} at {self.s.rel}:{line}",
                )
            )
        elif canonical in ROUTER_CLASSES:
            prefix = literal(keyword(value, ROUTER_CLASSES[canonical]))
            self.s.routers[name] = prefix if isinstance(prefix, str) else None

    def _makes_app(self, call: ast.Call) -> bool:
        """The call builds an app (class, Django entry point, factory) or a router."""
        callee = dotted(call.func)
        last = callee.rsplit(".", 1)[-1]
        canonical = self.imported_app_classes.get(last, last)
        return (
            (canonical in APP_CLASSES and self._is_app_class(callee, canonical))
            or last in DJANGO_ENTRY
            or last in FACTORY_NAMES
            or canonical in ROUTER_CLASSES
        )

    def _wrapped_app(self, call: ast.Call) -> ast.Call | ast.Name | None:
        """What a wrapping call wraps, if it is an app: middleware takes the app as its first
        argument (`Production(get_wsgi_application())`, `WhiteNoise(app, root=...)`,
        `ProxyFix(app)`), and what it returns is served in the app's place."""
        app_names = {c.attr for c in self.s.apps if not c.factory}
        app_names.update(var for var, _, _ in self.s.factory_calls)
        while not self._makes_app(call):
            if not call.args or dotted(call.func) in vars(builtins):  # str(app), not a wrapper
                return None
            first = call.args[0]
            if isinstance(first, ast.Name):
                return first if first.id in app_names else None
            if not isinstance(first, ast.Call):
                return None
            call = first
        return call

    def _app_rebound(self, old: str, new: str, wrapper: str, line: int) -> None:
        """`new = Wrapper(old)`: the app is served as `new` from now on."""
        if old == new:
            return
        found_by = f"{wrapper}({old}) assigned to {new} at {self.s.rel}:{line}"
        self.s.apps = [
            dataclasses.replace(c, attr=new, line=line, found_by=found_by)
            if c.attr == old and not c.factory
            else c
            for c in self.s.apps
        ]
        self.s.factory_calls = [
            (new if var == old else var, factory, line if var == old else at)
            for var, factory, at in self.s.factory_calls
        ]
        if old in self.app_vars:
            self.app_vars.add(new)

    def _is_app_class(self, callee: str, canonical: str) -> bool:
        root = callee.split(".")[0]
        if canonical == "App":  # only falcon.App, a bare `App()` is too common a name
            return root == "falcon"
        return callee.rsplit(".", 1)[-1] in self.imported_app_classes or root in APP_IMPORT_ROOTS

    def _maybe_factory(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call):
                last = dotted(inner.func).rsplit(".", 1)[-1]
                canonical = self.imported_app_classes.get(last, last)
                if canonical in APP_CLASSES and canonical != "App":
                    framework, interface = APP_CLASSES[canonical]
                    self.s.apps.append(
                        AppCandidate(
                            self.s.module,
                            node.name,
                            framework,
                            interface,
                            self.s.rel,
                            node.lineno,
                            f"app factory {node.name}() at {self.s.rel}:{node.lineno}",
                            factory=True,
                        )
                    )
                    return

    def _settings_class_fields(self, node: ast.ClassDef) -> None:
        """pydantic-settings classes: each field is an environment variable (upper-cased)."""
        bases = {dotted(b).rsplit(".", 1)[-1] for b in node.bases}
        if not bases & {"BaseSettings", "ProdSettings", "Settings"}:
            return
        prefix = ""
        for stmt in node.body:
            if (
                isinstance(stmt, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "model_config" for t in stmt.targets)
                and isinstance(stmt.value, ast.Call)
            ):
                found = literal(keyword(stmt.value, "env_prefix"))
                prefix = found if isinstance(found, str) else ""
        for stmt in node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                field_name = stmt.target.id
                if field_name != "model_config" and not field_name.startswith("_"):
                    self.s.env_reads.setdefault((prefix + field_name).upper(), stmt.lineno)

    # --- calls --------------------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        callee = dotted(node.func)
        last = callee.rsplit(".", 1)[-1]
        self._run_call(node, callee, last)
        self._env_read(node, callee, last)
        self._pool(node, last)
        self._includes(node, callee, last)
        self._rq_queue(node, callee)
        if last == "ProxyFix":
            self.s.trusts_proxy.append((node.lineno, "werkzeug ProxyFix"))
        elif last == "ProxyHeadersMiddleware":
            self.s.trusts_proxy.append((node.lineno, "uvicorn ProxyHeadersMiddleware"))
            if literal(keyword(node, "trusted_hosts")) in ("*", ["*"]):
                self.s.trusts_proxy_from_anyone.append((node.lineno, "trusted_hosts='*'"))
        reloader = literal(keyword(node, "reload")) is True  # a development launcher
        if literal(keyword(node, "forwarded_allow_ips")) == "*" and not reloader:
            self.s.trusts_proxy_from_anyone.append((node.lineno, "forwarded_allow_ips='*'"))
        if (
            last == "run"
            and callee.startswith("uvicorn")
            and literal(keyword(node, "proxy_headers"))
        ):
            self.s.trusts_proxy.append((node.lineno, "uvicorn proxy_headers"))
        self.generic_visit(node)

    def _rq_queue(self, node: ast.Call, callee: str) -> None:
        """`rq.Queue("name")`: a queue name only when the call really is RQ's Queue, so that
        queue.Queue(10) or kombu's Queue("celery") never count."""
        head, dot, rest = callee.partition(".")
        if f"{self.s.import_aliases.get(head, head)}{dot}{rest}" != "rq.Queue":
            return
        given = node.args[0] if node.args else keyword(node, "name")
        name = "default" if given is None else literal(given)
        if isinstance(name, str) and name and name not in self.s.rq_queues:
            self.s.rq_queues.append(name)

    def _run_call(self, node: ast.Call, callee: str, last: str) -> None:
        base = callee.rsplit(".", 1)[0] if "." in callee else ""
        is_dev_run = (
            (
                last == "run"
                and (
                    base in self.app_vars
                    or base in ("app", "application", "socketio", "uvicorn", "web")
                )
            )
            or last == "run_server"
            or callee in ("run_simple", "werkzeug.serving.run_simple", "werkzeug.run_simple")
        )
        if not is_dev_run:
            return
        kwargs = {k.arg: literal(k.value) for k in node.keywords if k.arg}
        self.s.run_calls.append(
            RunCall(self.s.rel, node.lineno, callee, self.in_main or self.depth > 0, kwargs)
        )

    def _env_read(self, node: ast.Call, callee: str, last: str) -> None:
        if not node.args or last not in ENV_GETTERS:
            return
        if last == "get" and not callee.endswith(("environ.get", "env.get")):
            return
        if last in ("config", "env", "str", "int", "bool") and callee.split(".")[0] not in (
            "config",
            "env",
            "environ",
            "decouple",
        ):
            return
        name = literal(node.args[0])
        if isinstance(name, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            self.s.env_reads.setdefault(name, node.lineno)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if dotted(node.value).endswith("environ"):
            name = literal(node.slice)
            if isinstance(name, str):
                self.s.env_reads.setdefault(name, node.lineno)
        self.generic_visit(node)

    def _pool(self, node: ast.Call, last: str) -> None:
        if last in ("create_engine", "create_async_engine"):
            size = literal(keyword(node, "pool_size"))
            overflow = literal(keyword(node, "max_overflow"))
            null = dotted(keyword(node, "poolclass") or ast.Constant(None)).endswith("NullPool")
            self.s.pools.append(
                PoolSetting(
                    self.s.rel,
                    node.lineno,
                    size if isinstance(size, int) else None,
                    overflow if isinstance(overflow, int) else None,
                    null,
                )
            )
        elif last in ("ConnectionPool", "AsyncConnectionPool", "create_pool"):
            size = literal(keyword(node, "max_size"))
            if isinstance(size, int):
                self.s.pools.append(PoolSetting(self.s.rel, node.lineno, size, 0))

    def _includes(self, node: ast.Call, callee: str, last: str) -> None:
        """`register_blueprint(bp, url_prefix=...)` and `include_router(r, prefix=...)` move a
        router's routes under a prefix (resolved across modules by `project.routers`)."""
        if last not in ("register_blueprint", "include_router") or not node.args:
            return
        if not isinstance(node.func, ast.Attribute):
            return
        flask = last == "register_blueprint"
        prefix = literal(keyword(node, "url_prefix" if flask else "prefix"))
        self.s.router_mounts.append(
            RouterMount(
                parent=dotted(node.func.value),
                child=dotted(node.args[0]),
                prefix=prefix if isinstance(prefix, str) else None,
                replaces_own_prefix=flask,
            )
        )

    # --- routes -------------------------------------------------------------------------------

    def _routes_from_decorators(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            if not isinstance(decorator, ast.Call) or not isinstance(decorator.func, ast.Attribute):
                continue
            method = decorator.func.attr
            owner = dotted(decorator.func.value)
            if method == "route":
                methods_node = literal(keyword(decorator, "methods"))
                methods = (
                    tuple(m.upper() for m in methods_node)
                    if isinstance(methods_node, list | tuple)
                    else ("GET",)
                )
            elif method in ROUTE_METHODS:
                methods = (method.upper(),)
            elif method == "api_route":
                methods = tuple(
                    m.upper() for m in literal(keyword(decorator, "methods")) or ["GET"]
                )
            else:
                continue
            path = (
                literal(decorator.args[0])
                if decorator.args
                else literal(keyword(decorator, "path") or keyword(decorator, "rule"))
            )
            if not isinstance(path, str):
                continue
            self.s.routes.append(
                RouteInfo(
                    path=path,
                    methods=methods,
                    rel=self.s.rel,
                    line=node.lineno,
                    handler=f"{owner}:{node.name}",
                    is_async=isinstance(node, ast.AsyncFunctionDef),
                    blocking_io=_waits_on_io(node),
                    streams=_answers_a_stream(node, self.stream_names),
                )
            )

    # --- literals -------------------------------------------------------------------------------

    def visit_Compare(self, node: ast.Compare) -> None:
        for operand in (node.left, *node.comparators):
            value = operand.value if isinstance(operand, ast.Constant) else None
            if isinstance(value, str) and 4 <= len(value) <= 64:
                self.s.compared_strings.add(value)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and SERVICE_URL.match(node.value):
            self.s.url_literals.append((node.lineno, node.value))


STREAM_RESPONSES = frozenset(
    {"StreamingResponse", "EventSourceResponse", "StreamingHttpResponse", "stream_with_context"}
)
EVENT_STREAM = "text/event-stream"
DEFAULT_HEARTBEAT_S = 15.0
"""prodready.runtime.streams.Stream's default heartbeat."""


def _stream_names(tree: ast.Module, summary: ModuleSummary) -> frozenset[str]:
    """Module-level names bound to `<kit>.stream(...)`; notes each one's heartbeat."""
    names = set()
    for statement in tree.body:
        if (
            isinstance(statement, ast.Assign)
            and isinstance(statement.value, ast.Call)
            and isinstance(statement.value.func, ast.Attribute)
            and statement.value.func.attr == "stream"
        ):
            names.update(t.id for t in statement.targets if isinstance(t, ast.Name))
            given = literal(keyword(statement.value, "heartbeat"))
            heartbeat = given if isinstance(given, int | float) else DEFAULT_HEARTBEAT_S
            summary.stream_heartbeats.append((statement.lineno, float(heartbeat)))
    return frozenset(names)


def _answers_a_stream(
    node: ast.FunctionDef | ast.AsyncFunctionDef, stream_names: frozenset[str]
) -> bool:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call):
            func = inner.func
            if dotted(func).rsplit(".", 1)[-1] in STREAM_RESPONSES:
                return True
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "response"
                and isinstance(func.value, ast.Name)
                and func.value.id in stream_names
            ):
                return True
        elif isinstance(inner, ast.Constant) and inner.value == EVENT_STREAM:
            return True
    return False


def _django_view_methods(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, ...]:
    """The methods Django's decorators let through to a view (django.views.decorators.http);
    empty when none of them is used."""
    for decorator in node.decorator_list:
        name = dotted(decorator.func if isinstance(decorator, ast.Call) else decorator)
        last = name.rsplit(".", 1)[-1]
        if last in DJANGO_METHOD_DECORATORS:
            return DJANGO_METHOD_DECORATORS[last]
        if last == "require_http_methods" and isinstance(decorator, ast.Call) and decorator.args:
            given = literal(decorator.args[0])
            if isinstance(given, list | tuple) and all(isinstance(m, str) for m in given):
                return tuple(m.upper() for m in given)
    return ()


def _waits_on_io(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call):
            name = dotted(inner.func)
            parts = name.split(".")
            if len(parts) >= 2 and parts[-1] in BLOCKING_CALLS and parts[0] in BLOCKING_ROOTS:
                return True
    return False

"""Python rules, part 2: settings modules and configuration values (PR104-PR106, PR118):
Django DEBUG and ALLOWED_HOSTS, booleans read from the environment, cookie security flags."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator

from prodready.check.model import Edit, Fix, Hit, Severity
from prodready.check.pycontext import PyContext
from prodready.check.registry import rule
from prodready.check.rules.pyhelpers import (
    EnvRead,
    dotted,
    env_default_on,
    env_read,
    environ_subscript,
    imported_names,
    is_false,
    is_settings_module,
    is_true,
    keyword,
    literal,
    module_assignments,
    subscript_key,
    under_debug_branch,
)
from prodready.project.model import FileKind

PY = FileKind.PYTHON.value

# --- PR104 -------------------------------------------------------------------------------------

BASE_SETTINGS = frozenset({"base", "common", "defaults", "default", "shared"})


@rule(
    "PR104",
    "django-debug-true",
    title="DEBUG = True in a production settings module",
    severity=Severity.ERROR,
    kind=PY,
    why="""
With `DEBUG = True` Django renders a technical 500 page to any visitor: the full traceback,
local variables, the SQL, and every setting whose name does not look secret (database hosts,
internal URLs, API endpoints). It also keeps every SQL query in memory (a slow leak under
load), serves media through the dev path and relaxes ALLOWED_HOSTS. Django's deployment
checklist (`manage.py check --deploy`) lists it first.
""",
    fix="""Set `DEBUG = False` in production settings (or parse it from the env, default off).
For example `DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"`.""",
    bad="# mysite/settings.py\nDEBUG = True",
    good='# mysite/settings.py\nDEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"',
)
def django_debug_true(ctx: PyContext) -> Iterable[Hit]:
    if not is_settings_module(ctx.rel):
        return
    names = imported_names(ctx)
    severity = Severity.WARNING if _is_base_settings(ctx.rel) else None
    suffix = " (unless every production settings module overrides it)" if severity else ""
    for name, value, stmt in module_assignments(ctx):
        if name != "DEBUG" or under_debug_branch(ctx, stmt):
            continue
        if is_true(value):
            yield Hit(
                stmt.lineno,
                f"`DEBUG = True` in settings module {ctx.rel}{suffix}",
                severity=severity,
                setting="DEBUG",
            )
        else:
            variable = env_default_on(value, names)
            if variable:
                yield Hit(
                    stmt.lineno,
                    f"DEBUG is on whenever {variable} is unset: its fallback is true{suffix}",
                    severity=severity,
                    setting="DEBUG",
                )


# --- PR105 -------------------------------------------------------------------------------------

VALUE_NAME = re.compile(
    r"_(URL|URI|DSN|KEY|TOKEN|SECRET|PASSWORD|PASS|PASSWD|HOST|HOSTS|PORT|PATH|DIR|FILE|NAME|ID|ADDR)$",
    re.I,
)
"""Variables that hold a value rather than a flag: bool() of them is a presence check."""
PARSE_TRUE = '.lower() in ("1", "true", "yes", "on")'


@rule(
    "PR105",
    "bool-of-env-string",
    title='Environment string used as a boolean ("0" and "false" are true)',
    severity=Severity.WARNING,
    kind=PY,
    why="""
Environment variables are strings, and `bool()` of any non-empty string is True:
`DEBUG=0`, `DEBUG=false` and `DEBUG=no` all switch the feature *on*. The same happens with
`DEBUG = os.environ.get("DEBUG", False)`: the fallback is a bool, but a set variable is the
string "False", which is truthy. The flag can then only be turned off by unsetting the
variable, which compose files and Kubernetes manifests rarely do. When the flag is DEBUG this
ships debug mode to production while the config says "false".
""",
    fix="""Parse it: `os.getenv("DEBUG", "").lower() in ("1", "true", "yes", "on")`.
pydantic-settings and `config(..., cast=bool)` parse booleans properly too.""",
    bad='DEBUG = bool(os.getenv("DEBUG", False))',
    good='DEBUG = os.getenv("DEBUG", "").lower() in ("1", "true", "yes", "on")',
)
def bool_of_env_string(ctx: PyContext) -> Iterable[Hit]:
    names = imported_names(ctx)
    for call, callee in ctx.calls_named("bool"):
        if callee != "bool" or len(call.args) != 1 or call.keywords:
            continue
        argument = call.args[0]
        read = (
            env_read(argument, names, config_getters=False)
            if isinstance(argument, ast.Call)
            else None
        )
        variable = read.name if read else environ_subscript(argument, names)
        if variable is None:
            continue
        if VALUE_NAME.search(variable) and not (read and isinstance(literal(read.default), bool)):
            continue  # `bool(os.getenv("SENTRY_DSN"))` asks "is it set?", which is right
        severity = Severity.ERROR if "DEBUG" in variable.upper() else None
        yield Hit(
            call.lineno,
            f"`bool()` of environment variable {variable} is True for any non-empty value, "
            'including "0" and "false"',
            call.col_offset + 1,
            fix=_parse_fix(ctx, call, argument, read),
            severity=severity,
        )
    yield from _raw_strings_as_flags(ctx, names)


def _raw_strings_as_flags(ctx: PyContext, names: dict[str, str]) -> Iterator[Hit]:
    """`DEBUG = os.environ.get("DJANGO_DEBUG", False)`: the bool fallback says the code wants a
    flag, but a set variable is a string, and "False" is truthy."""
    for kind in (ast.Assign, ast.AnnAssign):
        for node in ctx.nodes(kind):
            value = node.value  # type: ignore[attr-defined]
            if not isinstance(value, ast.Call):
                continue
            read = env_read(value, names, config_getters=False)
            if read is None or not isinstance(literal(read.default), bool):
                continue
            if (
                read.default is not None
                and literal(read.default) is False
                and VALUE_NAME.search(read.name)
            ):
                continue  # os.getenv("PLAYWRIGHT_DRIVER_URL", False): a value or nothing
            yield Hit(
                node.lineno,  # type: ignore[attr-defined]
                f"{read.name} is used as a flag but read as a string: a set value such as "
                '"False" or "0" is truthy',
                value.col_offset + 1,
                fix=_parse_fix(ctx, value, value, read),
                severity=Severity.ERROR if "DEBUG" in read.name.upper() else None,
            )


def _parse_fix(
    ctx: PyContext, replaced: ast.expr, argument: ast.expr, read: EnvRead | None
) -> Fix | None:
    """Replaces `replaced` (the bool() call, or the bare read) with a parse of `argument`."""
    if read is None:  # os.environ["X"]
        text = ctx.segment(argument)
    else:
        assert isinstance(argument, ast.Call)
        fallback = _fallback_text(ctx, read.default)
        if fallback is None:
            return None
        text = f"{ctx.segment(argument.func)}({ctx.segment(argument.args[0])}, {fallback})"
    new = text + PARSE_TRUE
    if isinstance(
        ctx.parent(replaced), ast.Compare | ast.BinOp | ast.Attribute | ast.Subscript | ast.UnaryOp
    ):
        new = f"({new})"
    edit = Edit(ctx.rel, replaced.lineno, ctx.segment(replaced), new, replaced.end_lineno)
    return Fix('parse the variable: "1", "true", "yes", "on" mean true', (edit,), safe=False)


def _fallback_text(ctx: PyContext, default: ast.expr | None) -> str | None:
    if default is None:
        return '""'
    if isinstance(default, ast.Constant):
        if isinstance(default.value, str):
            return ctx.segment(default)
        return '"1"' if default.value else '""'
    return None


# --- PR106 -------------------------------------------------------------------------------------


@rule(
    "PR106",
    "django-allowed-hosts",
    title="Django ALLOWED_HOSTS empty or '*'",
    severity=Severity.ERROR,
    kind=PY,
    why="""
ALLOWED_HOSTS is Django's defence against forged Host headers. With `'*'`, any Host is
accepted, and Django builds absolute URLs from it: password-reset emails and redirects can be
pointed at an attacker's domain (Host header poisoning), and caches can be poisoned. An empty
list with DEBUG off is the opposite failure: Django answers every request with
400 Bad Request, so the first production deploy is an outage.
""",
    fix="""List your domains in ALLOWED_HOSTS (from the environment, with no '*' fallback).
For example `ALLOWED_HOSTS = ["example.com", "www.example.com"]`.""",
    bad='ALLOWED_HOSTS = ["*"]',
    good='ALLOWED_HOSTS = os.environ["DJANGO_ALLOWED_HOSTS"].split(",")',
)
def django_allowed_hosts(ctx: PyContext) -> Iterable[Hit]:
    if not is_settings_module(ctx.rel):
        return
    names = imported_names(ctx)
    extended = _allowed_hosts_extended(ctx)
    for name, value, stmt in module_assignments(ctx):
        if name != "ALLOWED_HOSTS" or under_debug_branch(ctx, stmt):
            continue
        hosts = literal(value)
        if isinstance(hosts, list | tuple):
            if "*" in hosts:
                yield Hit(
                    stmt.lineno,
                    "ALLOWED_HOSTS contains '*': any Host header is accepted",
                    setting="ALLOWED_HOSTS",
                )
            elif not hosts and not extended and not _is_base_settings(ctx.rel):
                yield Hit(
                    stmt.lineno,
                    "ALLOWED_HOSTS is empty: with DEBUG off every request gets 400 Bad Request",
                    severity=Severity.WARNING,
                )
        else:
            variable = _wildcard_fallback(value, names)
            if variable:
                yield Hit(
                    stmt.lineno,
                    f"ALLOWED_HOSTS falls back to '*' when {variable} is unset",
                    setting="ALLOWED_HOSTS",
                )


def _is_base_settings(rel: str) -> bool:
    """settings/base.py: Django's startproject defaults, overridden per environment."""
    return rel.rsplit("/", 1)[-1].removesuffix(".py") in BASE_SETTINGS


def _allowed_hosts_extended(ctx: PyContext) -> bool:
    if any(
        dotted(node.target) == "ALLOWED_HOSTS"  # type: ignore[attr-defined]
        for node in ctx.nodes(ast.AugAssign)
    ):
        return True
    return any(
        callee == "ALLOWED_HOSTS." + method
        for method in ("append", "extend")
        for _, callee in ctx.calls_named(method)
    )


def _wildcard_fallback(value: ast.expr, names: dict[str, str]) -> str | None:
    """`os.getenv("HOSTS", "*").split(",")`, `env.list("HOSTS", default=["*"])`."""
    for node in _calls_in(value):
        read = env_read(node, names)
        if read is None:
            continue
        fallback = literal(read.default)
        if (isinstance(fallback, str) and "*" in fallback.split(",")) or (
            isinstance(fallback, list | tuple) and "*" in fallback
        ):
            return read.name
    return None


def _calls_in(node: ast.expr) -> Iterator[ast.Call]:
    while isinstance(node, ast.Call):
        yield node
        node = node.func.value if isinstance(node.func, ast.Attribute) else node.func  # type: ignore[assignment]


# --- PR118 -------------------------------------------------------------------------------------

COOKIE_FLAGS = {
    "SESSION_COOKIE_SECURE": "the session cookie is sent over plain HTTP",
    "CSRF_COOKIE_SECURE": "the CSRF cookie is sent over plain HTTP",
    "SESSION_COOKIE_HTTPONLY": "JavaScript (and any XSS) can read the session cookie",
}


@rule(
    "PR118",
    "insecure-cookie-settings",
    title="Session/CSRF cookie security flags explicitly turned off",
    severity=Severity.WARNING,
    kind=PY,
    why="""
`SESSION_COOKIE_SECURE = False` and `CSRF_COOKIE_SECURE = False` let browsers send the session
and CSRF cookies over plain HTTP, where anyone on the network path can copy them and take over
the session; `SESSION_COOKIE_HTTPONLY = False` lets any injected script read the session
cookie. Set explicitly to False in a production settings module (or Flask config), they are a
decision to turn the protection off. Django's `check --deploy` warns about both *_SECURE flags.
""",
    fix="""Set these flags to True in production settings; keep False in dev settings only.
Serve over HTTPS; behind a TLS-terminating proxy also set SECURE_PROXY_SSL_HEADER.""",
    bad="SESSION_COOKIE_SECURE = False\nCSRF_COOKIE_SECURE = False",
    good="SESSION_COOKIE_SECURE = True\nCSRF_COOKIE_SECURE = True",
)
def insecure_cookie_settings(ctx: PyContext) -> Iterable[Hit]:
    if "COOKIE_" not in ctx.source:
        return
    if is_settings_module(ctx.rel):
        for name, value, stmt in module_assignments(ctx):
            if name in COOKIE_FLAGS and is_false(value) and not under_debug_branch(ctx, stmt):
                yield Hit(stmt.lineno, f"`{name} = False`: {COOKIE_FLAGS[name]}")
    for node in ctx.nodes(ast.Assign):
        for target in node.targets:  # type: ignore[attr-defined]
            key = subscript_key(target)
            if (
                key
                and key[0].endswith("config")
                and key[1] in COOKIE_FLAGS
                and is_false(node.value)
            ):  # type: ignore[attr-defined]
                yield Hit(node.lineno, f'`{key[0]}["{key[1]}"] = False`: {COOKIE_FLAGS[key[1]]}')
    for call, callee in ctx.calls_named("update", "from_mapping"):
        if ".config." in f".{callee}":
            for flag in COOKIE_FLAGS:
                if is_false(keyword(call, flag)):
                    yield Hit(call.lineno, f"`{callee}({flag}=False)`: {COOKIE_FLAGS[flag]}")

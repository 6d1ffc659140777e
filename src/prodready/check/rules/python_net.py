"""Python rules, part 5: outbound calls (PR113-PR115): HTTP without a timeout, TLS verification
turned off, and blocking calls inside `async def`."""

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
    in_main_guard,
    is_false,
    keyword,
    qualify,
    requests_call,
    requests_sessions,
    run_by_hand,
    str_value,
)
from prodready.project.model import FileKind

PY = FileKind.PYTHON.value

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
    fix="""Pass an explicit timeout, shorter than the worker timeout.
`requests.post(url, json=body, timeout=(3.05, 10))`, `urlopen(req, timeout=10)`.""",
    bad="requests.post(WEBHOOK_URL, json=payload)",
    good="requests.post(WEBHOOK_URL, json=payload, timeout=10)",
    severity_note="not reported in a script a healthcheck runs (Docker's timeout ends it)",
    calibrate=outside_probes,
)
def http_call_without_timeout(ctx: PyContext) -> Iterable[Hit]:
    if run_by_hand(ctx):
        return
    names = imported_names(ctx)
    sessions = requests_sessions(ctx)
    for call, callee in ctx.calls_named(*HTTP_VERBS, "urlopen"):
        if any(k.arg is None for k in call.keywords) or in_main_guard(ctx, call):
            continue  # **kwargs may carry the timeout; a __main__ block is a one-off script
        if requests_call(callee, names, sessions):
            limit = keyword(call, "timeout")
        elif qualify(names, callee) in URLOPEN:
            limit = keyword(call, "timeout") or (call.args[2] if len(call.args) > 2 else None)
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
TLS_SWITCH_TEXT = ("=False", "= False", "CERT_NONE", "_create_unverified_context")
"""Substring tests (fast) before looking at every keyword argument of the module."""


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
    fix="""Keep verification on; for an internal CA, pass its bundle instead.
`verify="/etc/ssl/internal-ca.pem"` (requests/httpx) or
`ssl.create_default_context(cafile=...)`.""",
    bad="requests.get(url, verify=False, timeout=5)",
    good='requests.get(url, verify="/etc/ssl/certs/internal-ca.pem", timeout=5)',
)
def tls_verification_disabled(ctx: PyContext) -> Iterable[Hit]:
    if run_by_hand(ctx):
        return  # a release script or command-line client, not what the service runs
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
    """`ctx.verify_mode = ssl.CERT_NONE` or `cert_reqs=ssl.CERT_NONE` on a client, not a
    comparison, a lookup table of modes, or a server that does not ask for client certificates
    (`uvicorn.run(..., ssl_cert_reqs=ssl.CERT_NONE)`, a PROTOCOL_TLS_SERVER context)."""
    parent = ctx.parent(node)
    if isinstance(parent, ast.keyword):
        return parent.arg != "ssl_cert_reqs"
    return isinstance(parent, ast.Assign | ast.AnnAssign) and not any(
        server in ctx.source for server in ("PROTOCOL_TLS_SERVER", "Purpose.CLIENT_AUTH")
    )


def _tls_switches(ctx: PyContext) -> Iterator[tuple[ast.AST, str]]:
    """(node, message) for each place that turns certificate checking off."""
    if not any(text in ctx.source for text in TLS_SWITCH_TEXT):
        return
    aiohttp = "aiohttp" in ctx.imports
    off = "disables TLS certificate verification"
    for node in ctx.nodes(ast.keyword):
        assert isinstance(node, ast.keyword)
        turned_off = is_false(node.value) and (
            node.arg in VERIFY_KEYWORDS or (node.arg == "ssl" and aiohttp)
        )
        if not turned_off and not (
            node.arg == "cert_reqs" and str_value(node.value) == "CERT_NONE"
        ):
            continue
        call = ctx.parent(node)
        callee = dotted(call.func) if isinstance(call, ast.Call) else "call"
        if callee.startswith("jwt."):
            continue  # PyJWT 1.x `verify=False` skips the signature check, not TLS
        value = "False" if turned_off else '"CERT_NONE"'
        yield node, f"`{callee}(..., {node.arg}={value})` {off}"
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
    **{f"httpx.{verb}": "waits on HTTP (httpx's sync API)" for verb in HTTP_VERBS},
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
    fix="""Use the async counterpart, run it in a thread, or make the endpoint a plain `def`.
`await asyncio.sleep`, httpx.AsyncClient, psycopg AsyncConnection,
asyncio.create_subprocess_exec, or `await run_in_threadpool(fn, ...)`.""",
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

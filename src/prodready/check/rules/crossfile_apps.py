"""Cross-file rules about the app behind the server and the proxy (PR919-PR920): the server's
interface against the app's, and Django's ALLOWED_HOSTS against the Host nginx passes on.
Registered through crossfile.py."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from prodready.check.model import Hit, Severity
from prodready.check.registry import rule
from prodready.check.rules.crossfile_facts import (
    PROXY_URL,
    ProxyTarget,
    Served,
    app_services,
    env_value,
    gunicorn_setup,
    modules_named,
    production_nginx,
    production_servers,
    proxy_targets,
)
from prodready.project.files import project_text
from prodready.project.model import AppCandidate, Project
from prodready.project.parsers.commands import option_value
from prodready.project.parsers.nginx import Directive

KIND = "project"
WSGI_ONLY = {"waitress-serve": "waitress", "bjoern": "bjoern", "cheroot": "cheroot"}
ASGI_ONLY = {"daphne": "daphne"}


# --- PR919 -------------------------------------------------------------------------------------


@rule(
    "PR919",
    "server-interface-mismatch",
    title="The server speaks WSGI to an ASGI app, or the reverse",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
Gunicorn's default (sync, gthread, gevent) workers, waitress and bjoern call the app as WSGI
`app(environ, start_response)`; FastAPI, Starlette, Quart and Django's ASGI application
expect ASGI `app(scope, receive, send)`. Served the wrong way, every request fails with
"TypeError: __call__() missing 1 required positional argument" and a 500 (or the worker
dies), while the app works under `uvicorn --reload` on the laptop. Granian needs
`--interface asgi|wsgi` to match the app; daphne serves ASGI only.
""",
    fix="""
Serve ASGI apps with an ASGI server or worker, WSGI apps with a WSGI one.
ASGI: gunicorn -k uvicorn_worker.UvicornWorker main:app, or uvicorn main:app
""",
    bad='CMD ["gunicorn", "-w", "4", "main:app"]   # main.app = FastAPI()',
    good='CMD ["gunicorn", "-w", "4", "-k", "uvicorn_worker.UvicornWorker", "main:app"]',
)
def server_interface_mismatch(project: Project) -> Iterable[Hit]:
    for served in production_servers(project):
        app = _target_app(project, served)
        if app is None:
            continue
        problem = _mismatch(project, served, app)
        if problem:
            rel, line, text = problem
            yield Hit(line, text, path=rel)


def _target_app(project: Project, served: Served) -> AppCandidate | None:
    target = served.server.app_target
    if not target or ":" not in target:
        return None
    module, _, attr = target.partition(":")
    name = attr.split("(", 1)[0]
    found = [
        app
        for summary in modules_named(project, module)
        for app in summary.apps
        if app.attr == name
    ]
    interfaces = {app.interface for app in found}
    return found[0] if len(interfaces) == 1 else None


def _mismatch(project: Project, served: Served, app: AppCandidate) -> tuple[str, int, str] | None:
    program = served.server.program
    at = (served.launch.rel, served.launch.line)
    what = f"{app.target} is an {app.interface.upper()} app ({app.framework}, {app.rel}:{app.line})"
    what = what.replace("an WSGI", "a WSGI")
    if program == "gunicorn" and app.interface == "asgi":
        setup = gunicorn_setup(project, served)
        found = setup.setting("worker_class") if setup else None
        worker = found[0] if found else "sync"
        if not isinstance(worker, str) or re.search(r"uvicorn|asgi", worker, re.IGNORECASE):
            return None
        where = (found[1], found[2]) if found else at
        said = f"worker class {worker}" if found else "the default sync worker class"
        return *where, f"{what}, but gunicorn serves it with {said}, which speaks WSGI"
    if program in WSGI_ONLY and app.interface == "asgi":
        return *at, f"{what}, but {WSGI_ONLY[program]} speaks WSGI only"
    if program in ASGI_ONLY and app.interface == "wsgi":
        return *at, f"{what}, but {ASGI_ONLY[program]} speaks ASGI only"
    if program == "granian":
        interface = option_value(list(served.server.argv[1:]), "--interface")
        if interface is None:  # granian reads each option from $GRANIAN_<OPTION> too
            setting = env_value(project, "GRANIAN_INTERFACE")
            interface = setting.value.strip().lower() if setting else "rsgi"
        if interface != app.interface:
            return *at, f"{what}, but granian runs with --interface {interface}"
    return None


# --- PR920 -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllowedHosts:
    rel: str
    line: int
    hosts: tuple[str, ...]

    def allows(self, host: str) -> bool:
        """Django's validate_host: exact names, `.example.com` for the domain and subdomains."""
        host = host.lower().rstrip(".")
        for pattern in (h.lower() for h in self.hosts):
            if pattern == "*" or host == pattern:
                return True
            if pattern.startswith(".") and (host.endswith(pattern) or host == pattern[1:]):
                return True
        return False


@rule(
    "PR920",
    "allowed-hosts-reject-proxy-host",
    title="Django's ALLOWED_HOSTS rejects the Host nginx passes on",
    severity=Severity.ERROR,
    kind=KIND,
    why="""
Django answers 400 Bad Request (DisallowedHost) to any request whose Host header is not in
ALLOWED_HOSTS. Behind nginx, the Host the app sees is what nginx sends: the site's name
with `proxy_set_header Host $host`, and without it the upstream's address (`web:8000`,
`127.0.0.1`). A server_name added in nginx but not in settings, or a missing Host header,
takes the whole site down with a 400 on every page, and it shows only after deploying.
""",
    fix="""
Add the site's names to ALLOWED_HOSTS and have nginx pass the client's Host.
proxy_set_header Host $host;
""",
    bad='ALLOWED_HOSTS = ["shop.example.com"]   # nginx: server_name www.shop.example.com;',
    good='ALLOWED_HOSTS = [".shop.example.com"]  # the domain and its subdomains',
)
def allowed_hosts_reject_proxy_host(project: Project) -> Iterable[Hit]:
    allowed = _allowed_hosts(project)
    if allowed is None:
        return
    rejected: dict[str, str] = {}
    for conf in production_nginx(project):
        for target in proxy_targets(conf):
            if target.loopback or any(s.name == target.host for _, s in app_services(project)):
                for host, why in _hosts_sent(target):
                    if not allowed.allows(host):
                        rejected.setdefault(host, why)
    if rejected:
        listed = "; ".join(f"{host} ({why})" for host, why in sorted(rejected.items()))
        yield Hit(
            allowed.line,
            f"ALLOWED_HOSTS {list(allowed.hosts)} rejects the Host nginx sends: {listed}: "
            "those requests get 400 Bad Request",
            path=allowed.rel,
        )


def _allowed_hosts(project: Project) -> AllowedHosts | None:
    """The literal ALLOWED_HOSTS when exactly one production settings module sets it once."""
    found = []
    for summary in project.modules.values():
        source = project.file(summary.rel)
        if "ALLOWED_HOSTS" not in summary.django_settings or source is None or source.dev_only:
            continue
        line, value = summary.django_settings["ALLOWED_HOSTS"]
        text = project_text(project, source.rel) or ""
        if text.count("ALLOWED_HOSTS") != 1 or not isinstance(value, list | tuple):
            return None  # computed, extended or overridden: not known statically
        if not value or not all(isinstance(h, str) for h in value) or "*" in value:
            return None
        found.append(AllowedHosts(summary.rel, line, tuple(value)))
    return found[0] if len(found) == 1 else None


def _hosts_sent(target: ProxyTarget) -> Iterator[tuple[str, str]]:
    """The Host headers nginx sends for this proxy_pass, each with what decides it."""
    header = _host_header(target.proxy_pass)
    at = f"{target.conf.rel}:{(header or target.proxy_pass).line}"
    if header is None:
        match = PROXY_URL.match(target.proxy_pass.args[0]) if target.proxy_pass.args else None
        if match:
            yield match["host"], f"no proxy_set_header Host: nginx sends the proxy_pass host, {at}"
        return
    value = header.args[1] if len(header.args) > 1 else ""
    if value in ("$host", "$http_host", "$server_name"):
        for name in _server_names(target.proxy_pass):
            yield name, f"server_name, {at}"
    elif "$" not in value and value:
        yield value.rsplit(":", 1)[0], f"proxy_set_header Host, {at}"


def _host_header(proxy_pass: Directive) -> Directive | None:
    """proxy_set_header Host in effect (inherited only when a block sets no proxy_set_header)."""
    for block in proxy_pass.ancestors():
        headers = block.children("proxy_set_header")
        if headers:
            return next((h for h in headers if h.args and h.args[0].lower() == "host"), None)
    return None


def _server_names(directive: Directive) -> list[str]:
    server = next((d for d in directive.ancestors() if d.name == "server"), None)
    names = server.child("server_name") if server is not None else None
    return [
        name.lstrip("*") if name.startswith("*.") else name
        for name in (names.args if names else [])
        if name and name != "_" and not name.startswith("~") and not name.endswith(".*")
    ]

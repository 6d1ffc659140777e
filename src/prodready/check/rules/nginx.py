"""Rules for nginx configuration (PR401-PR449), on crossplane's Directive tree.

nginx inheritance, which most of these rules hinge on:
- a plain directive (server_tokens, ssl_protocols, proxy_http_version) is inherited from the
  enclosing level unless the current level sets it;
- "array" directives (add_header, proxy_set_header) are inherited only when the current level
  has none of them at all: one `add_header` in a location drops every inherited add_header.

A site file under conf.d/ or sites-available/ has no `http {}` of its own: the http-level
settings of the project's other nginx files (nginx.conf) are taken as its enclosing level.

`include snippets/proxy.conf;` is followed when the project ships the file: its path is looked
for below the including file's folder and each folder above it (`/etc/nginx/snippets/x.conf`
matches `deploy/nginx/snippets/x.conf`), and the directives it holds count as written at the
include's level and line. An include the project does not ship stays an unknown.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from prodready.check.context import FileContext
from prodready.check.memo import once_per_project
from prodready.check.model import Edit, Fix, Hit, Severity
from prodready.check.registry import rule
from prodready.project.files import project_text
from prodready.project.model import FileKind, Project
from prodready.project.parsers import nginx as nginx_parser
from prodready.project.parsers.nginx import Directive, NginxConf

MOZILLA_GUIDELINE = (
    "Mozilla Server Side TLS, intermediate configuration, guidelines v6.0 "
    "(https://ssl-config.mozilla.org/guidelines/6.0.json)"
)
MOZILLA_INTERMEDIATE_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
)
MOZILLA_PROTOCOLS = ("TLSv1.2", "TLSv1.3")
HSTS_MOZILLA_MAX_AGE = 63072000
HSTS_MIN_MAX_AGE = 15768000  # six months
HSTS_HEADER = "strict-transport-security"

# --- helpers -----------------------------------------------------------------------------------


def _blocks(conf: NginxConf, *names: str) -> list[Directive]:
    return [d for d in conf.walk() if d.name in names and d.block is not None]


MAX_INCLUDE_DEPTH = 4
INCLUDE_GLOB = re.compile(r"[*?\[]")


@dataclass
class ProjectNginx:
    """What rules need from all of the project's nginx files, gathered once per project."""

    project: Project
    http_blocks: list[Directive]
    servers: list[Directive]
    tls_servers: list[Directive]
    tls_servers_by_file: dict[str, list[Directive]]
    main_configurations: set[str]
    """rel of each file with its own `http {}`: one nginx loads one of them."""
    tls_names: set[str]
    """server_name entries of the TLS servers."""
    tls_in_front: bool
    """The config says TLS ends before nginx (a load balancer sets X-Forwarded-Proto)."""
    pooled_upstreams: set[str]
    owners: dict[int, str]
    """id() of each file's top-level directive -> the file's rel (to resolve its includes)."""
    confs: dict[str, NginxConf]
    """The project's nginx files by rel."""
    snippets: dict[str, list[Directive] | None] = field(default_factory=dict)
    """rel of an included file -> its top-level directives (parsed on first use), or None
    when it cannot be read (too big, binary, unreadable): the include stays an unknown."""
    targets: dict[tuple[str, str], str | None] = field(default_factory=dict)
    """(including file, include argument) -> the project file it names, looked up once."""
    file_levels: dict[str, Directive] = field(default_factory=dict)
    """rel of a file without `http {}` -> the http level it is included at: the directives
    written at file level in it and in the other http-less files of its folder (nginx.conf
    includes conf.d/*.conf and sites-enabled/* inside `http {}`, so they are http-level)."""

    def file_level(self, node: Directive) -> Directive | None:
        top = node
        while top.parent is not None:
            top = top.parent
        rel = self.owners.get(id(top))
        return self.file_levels.get(rel) if rel is not None else None

    def written(self, level: Directive) -> list[Directive]:
        """The directives written in `level`'s block, each resolvable `include` replaced by
        the directives of the file it names (reported at the include's line)."""
        return self._expand(level, level.block or [], MAX_INCLUDE_DEPTH, ())

    def _expand(
        self, level: Directive, items: list[Directive], depth: int, seen: tuple[str, ...]
    ) -> list[Directive]:
        result: list[Directive] = []
        for item in items:
            rel = self._include_target(item) if item.name == "include" and depth else None
            snippet = self._snippet(rel) if rel is not None and rel not in seen else None
            if snippet is None:
                result.append(item)
                continue
            for inner in self._expand(level, snippet, depth - 1, (*seen, rel)):
                result.append(Directive(inner.name, inner.args, item.line, inner.block, level))
        return result

    def _include_target(self, include: Directive) -> str | None:
        owner = self._owner(include)
        pattern = include.args[0] if include.args else ""
        if owner is None:
            return None
        if (owner, pattern) not in self.targets:
            self.targets[owner, pattern] = self._find_included(owner, pattern)
        return self.targets[owner, pattern]

    def _find_included(self, owner: str, pattern: str) -> str | None:
        """The project file an include names, found from the including file's folder up."""
        parts = [p for p in pattern.split("/") if p not in ("", ".")]
        if not parts or ".." in parts or INCLUDE_GLOB.search(pattern):
            return None
        root = self.project.root.resolve()
        folder = posixpath.dirname(owner)
        while True:
            for start in range(len(parts)):
                rel = posixpath.join(folder, *parts[start:])
                path = self.project.root / rel
                if rel != owner and path.is_file() and path.resolve().is_relative_to(root):
                    return rel
            if not folder:
                return None
            folder = posixpath.dirname(folder)

    def _owner(self, directive: Directive) -> str | None:
        top = directive
        while top.parent is not None:
            top = top.parent
        return self.owners.get(id(top))

    def _snippet(self, rel: str) -> list[Directive] | None:
        if rel not in self.snippets:
            conf = self.confs.get(rel)
            if conf is None:
                text = project_text(self.project, rel)
                if text is None:
                    self.snippets[rel] = None
                    return None
                conf = nginx_parser.parse(self.project.root / rel, rel, text)
                for directive in conf.directives:
                    self.owners[id(directive)] = rel
            self.snippets[rel] = conf.directives
        return self.snippets[rel]


@once_per_project
def project_nginx(project: Project) -> ProjectNginx:
    blocks_by_file = {
        conf.rel: [d for d in conf.walk() if d.block is not None] for conf in project.nginx_confs
    }
    blocks = [d for file_blocks in blocks_by_file.values() for d in file_blocks]
    servers = [d for d in blocks if d.name == "server"]
    tls_servers_by_file = {
        rel: [d for d in file_blocks if d.name == "server" and _is_tls_server(d)]
        for rel, file_blocks in blocks_by_file.items()
    }
    tls_servers = [s for file_servers in tls_servers_by_file.values() for s in file_servers]
    return ProjectNginx(
        project=project,
        http_blocks=[d for d in blocks if d.name == "http"],
        servers=servers,
        tls_servers=tls_servers,
        tls_servers_by_file=tls_servers_by_file,
        main_configurations={
            conf.rel for conf in project.nginx_confs if _is_main_configuration(conf)
        },
        tls_names=set().union(*(_server_names(s) for s in tls_servers)),
        tls_in_front=_tls_terminated_in_front(project),
        pooled_upstreams={
            d.args[0]
            for d in blocks
            if d.name == "upstream" and d.args and d.child("keepalive") is not None
        },
        owners={id(d): conf.rel for conf in project.nginx_confs for d in conf.directives},
        confs={conf.rel: conf for conf in project.nginx_confs},
        file_levels=_file_levels(project.nginx_confs),
    )


def _file_levels(confs: list[NginxConf]) -> dict[str, Directive]:
    by_folder: dict[str, list[NginxConf]] = {}
    for conf in confs:
        if not _is_main_configuration(conf):
            by_folder.setdefault(posixpath.dirname(conf.rel), []).append(conf)
    levels = {}
    for folder_confs in by_folder.values():
        written = [d for conf in folder_confs for d in conf.directives if d.block is None]
        if written:
            level = Directive("http", [], 1, written)
            levels.update({conf.rel: level for conf in folder_confs})
    return levels


def _is_main_configuration(conf: NginxConf) -> bool:
    return any(directive.name == "http" for directive in conf.directives)


def _children(level: Directive, name: str, project: Project) -> list[Directive]:
    """`level.children(name)`, with what its resolvable includes write."""
    if level.children("include"):
        return [d for d in project_nginx(project).written(level) if d.name == name]
    return level.children(name)


def _child(level: Directive, name: str, project: Project) -> Directive | None:
    found = _children(level, name, project)
    return found[-1] if found else None


def _project_http_blocks(project: Project) -> list[Directive]:
    return project_nginx(project).http_blocks


def _outer_levels(node: Directive, project: Project) -> list[Directive]:
    """The levels above `node`, nearest first; for a file without `http {}`, the project's
    http blocks stand in for the missing top level."""
    levels = list(node.ancestors())
    if not any(level.name == "http" for level in levels):
        file_level = project_nginx(project).file_level(node)
        if file_level is not None:
            levels.append(file_level)
        levels.extend(_project_http_blocks(project))
    return levels


def _effective(node: Directive, name: str, project: Project) -> Directive | None:
    """The plain directive `name` in force in `node` (set there or inherited)."""
    for level in [node, *_outer_levels(node, project)]:
        found = _child(level, name, project)
        if found is not None:
            return found
    return None


def _array_in_force(node: Directive, name: str, project: Project) -> list[Directive]:
    """The array directives (add_header, proxy_set_header) in force in `node`: those of the
    nearest level that has any."""
    for level in [node, *_outer_levels(node, project)]:
        found = _children(level, name, project)
        if found:
            return found
    return []


def _is_tls_server(server: Directive) -> bool:
    listens = server.children("listen")
    if any("ssl" in listen.args[1:] or "quic" in listen.args[1:] for listen in listens):
        return True
    ssl = server.child("ssl")
    return bool(ssl and ssl.args[:1] == ["on"])


def _is_public_plain_http(server: Directive) -> bool:
    """The server answers clear-text HTTP on a web port (80, or 8080 behind a port mapping)
    of a non-loopback address (no listen: *:80). Loopback listeners and other ports (status
    pages, internal metrics) do not count: nobody types them into a browser."""
    listens = server.children("listen")
    if not listens:
        return not _is_tls_server(server)
    for listen in listens:
        if not listen.args or {"ssl", "quic"} & set(listen.args[1:]):
            continue
        address = listen.args[0]
        if address.startswith("unix:"):
            continue
        host, sep, port = address.rpartition(":")
        if address.isdigit():
            host, port = "", address
        elif not sep or "]" in port:
            host, port = address, "80"  # `listen 10.0.0.1;` and `listen [::1];`: port 80
        if host not in LOOPBACK and port in PLAIN_WEB_PORTS:
            return True
    return False


PLAIN_WEB_PORTS = frozenset({"80", "8080"})
LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]"})


def _server_names(server: Directive) -> set[str]:
    return {name.lower() for d in server.children("server_name") for name in d.args}


def _insert_first_line(ctx: FileContext, block: Directive, text: str) -> Edit | None:
    """An edit inserting `text` as the first line inside `block`, indented like its body;
    None when the block's `{` is not at the end of its first line."""
    opening = ctx.line_text(block.line)
    if not opening.rstrip().endswith("{"):
        return None
    first = next((d for d in block.block or [] if d.line > block.line), None)
    if first is not None:
        indent = re.match(r"\s*", ctx.line_text(first.line)).group(0)  # type: ignore[union-attr]
    else:
        indent = re.match(r"\s*", opening).group(0) + "    "  # type: ignore[union-attr]
    return Edit(ctx.rel, block.line + 1, "", f"{indent}{text}")


def _header_names(directives: Iterable[Directive]) -> list[str]:
    names: list[str] = []
    for directive in directives:
        if directive.args and directive.args[0].lower() not in {n.lower() for n in names}:
            names.append(directive.args[0])
    return names


# --- PR401 -------------------------------------------------------------------------------------


@rule(
    "PR401",
    "nginx-server-tokens",
    title="nginx announces its version (server_tokens not off)",
    severity=Severity.WARNING,
    kind=FileKind.NGINX,
    why="""
By default nginx puts its exact version in the `Server` header and on every error page
(`nginx/1.18.0`). Scanners use it to pick the exploits that match: the version of an
unpatched server is the first thing an attacker wants. `server_tokens off;` in `http {}`
(or in each `server {}`) keeps only `nginx`.
""",
    fix="Add `server_tokens off;` to the http block (or to each server block).",
    bad="http {\n    server { listen 80; }\n}",
    good="http {\n    server_tokens off;\n    server { listen 80; }\n}",
)
def nginx_server_tokens(ctx: FileContext) -> Iterator[Hit]:
    conf: NginxConf = ctx.parsed
    for directive in conf.find("server_tokens"):
        if directive.args and directive.args[0] != "off":
            yield Hit(
                directive.line,
                f"`server_tokens {directive.args[0]}` sends the nginx version in every response",
                fix=Fix(
                    "set server_tokens off",
                    (Edit(ctx.rel, directive.line, directive.args[0], "off"),),
                ),
            )
    https = _blocks(conf, "http")
    for http in https:
        unset = [
            s
            for s in http.children("server")
            if _effective(s, "server_tokens", ctx.project) is None and not _never_answers(s)
        ]
        if _child(http, "server_tokens", ctx.project) is None and (
            unset or not http.children("server")
        ):
            yield _missing_tokens_hit(ctx, http, "http block")
    if not https:
        bare = [
            server
            for server in _blocks(conf, "server")
            if not _never_answers(server) and not _effective(server, "server_tokens", ctx.project)
        ]
        if bare:
            yield _grouped_tokens_hit(ctx, bare)


def _grouped_tokens_hit(ctx: FileContext, servers: list[Directive]) -> Hit:
    """One finding for the file however many server blocks lack it: one cause, one fix."""
    if len(servers) == 1:
        return _missing_tokens_hit(ctx, servers[0], "server block")
    edits = tuple(
        edit for s in servers if (edit := _insert_first_line(ctx, s, "server_tokens off;"))
    )
    lines = ", ".join(str(s.line) for s in servers)
    return Hit(
        servers[0].line,
        f"{len(servers)} server blocks (lines {lines}) without `server_tokens off;`: nginx "
        "sends its version in every response",
        fix=Fix("add server_tokens off;", edits) if len(edits) == len(servers) else None,
    )


def _missing_tokens_hit(ctx: FileContext, block: Directive, what: str) -> Hit:
    edit = _insert_first_line(ctx, block, "server_tokens off;")
    fix = Fix("add server_tokens off;", (edit,)) if edit else None
    return Hit(
        block.line,
        f"{what} without `server_tokens off;`: nginx sends its version in every response",
        fix=fix,
    )


# --- PR402 -------------------------------------------------------------------------------------

OUTDATED_PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1")


@rule(
    "PR402",
    "nginx-tls-protocols",
    title="TLS protocols older than TLS 1.2 enabled",
    severity=Severity.ERROR,
    kind=FileKind.NGINX,
    why="""
SSLv2, SSLv3, TLS 1.0 and TLS 1.1 are broken or deprecated (POODLE, BEAST, RFC 8996
formally deprecates TLS 1.0 and 1.1). Mozilla's intermediate configuration, the profile for
a general-purpose server, allows only TLS 1.2 and TLS 1.3; every browser released since 2014
supports TLS 1.2, and PCI DSS forbids the older protocols.
""",
    fix="ssl_protocols TLSv1.2 TLSv1.3;",
    bad="ssl_protocols TLSv1 TLSv1.1 TLSv1.2;",
    good="ssl_protocols TLSv1.2 TLSv1.3;",
    guideline=MOZILLA_GUIDELINE,
)
def nginx_tls_protocols(ctx: FileContext) -> Iterator[Hit]:
    conf: NginxConf = ctx.parsed
    for directive in conf.find("ssl_protocols"):
        outdated = [p for p in directive.args if p in OUTDATED_PROTOCOLS]
        if not outdated:
            continue
        old = " ".join(directive.args)
        line = ctx.line_text(directive.line)
        fix = None
        if old in line:
            fix = Fix(
                "allow TLSv1.2 and TLSv1.3 only (drops clients older than 2014)",
                (Edit(ctx.rel, directive.line, old, " ".join(MOZILLA_PROTOCOLS)),),
                safe=False,
            )
        yield Hit(
            directive.line,
            f"ssl_protocols enables {', '.join(outdated)}: outside Mozilla's intermediate "
            "profile (TLSv1.2 TLSv1.3)",
            fix=fix,
        )


# --- PR403 -------------------------------------------------------------------------------------

BROKEN_CIPHER_PARTS = {
    "RC4": "RC4",
    "DES": "DES",
    "3DES": "3DES",
    "DES-CBC3": "3DES",
    "MD5": "MD5",
    "NULL": "NULL",
    "ENULL": "NULL",
    "ANULL": "anonymous (aNULL)",
    "EXPORT": "EXPORT",
    "EXP": "EXPORT",
    "LOW": "LOW",
    "MEDIUM": "MEDIUM",
    "IDEA": "IDEA",
    "SEED": "SEED",
    "PSK": None,
    "SRP": None,
}
BROAD_CIPHER_ALIASES = frozenset({"ALL", "DEFAULT", "HIGH", "AES", "AESGCM", "AES128", "AES256"})
AEAD_MARKS = ("GCM", "CHACHA20", "CCM")


def cipher_problems(spec: str) -> tuple[list[str], list[str], list[str]]:
    """Judges an OpenSSL cipher string against Mozilla's intermediate list.
    Returns (broken, cbc, dhe): suites or aliases that are broken (RC4, DES, 3DES, MD5, NULL,
    EXPORT, aNULL not excluded ...), CBC suites outside the list, and DHE AEAD suites
    (in the list until v5.7, dropped in v6.0)."""
    tokens = [t for t in re.split(r"[:,\s]+", spec.strip()) if t]
    excluded = {t[1:].upper() for t in tokens if t[:1] in "!-"}
    broken: list[str] = []
    cbc: list[str] = []
    dhe: list[str] = []
    for token in tokens:
        if token[:1] in "!-+@" or token in MOZILLA_INTERMEDIATE_CIPHERS:
            continue
        upper = token.upper()
        if upper.startswith("TLS_"):
            continue  # TLS 1.3 suite names: all AEAD
        parts = set(re.split(r"[-+_]", upper))
        if "CBC3" in parts:
            parts = (parts - {"DES"}) | {"3DES"}
        weak = {BROKEN_CIPHER_PARTS[p] for p in parts if BROKEN_CIPHER_PARTS.get(p)}
        if upper in BROKEN_CIPHER_PARTS:
            if upper not in excluded:
                broken.append(token)
        elif weak:
            broken.append(f"{token} ({', '.join(sorted(weak))})")
        elif upper in BROAD_CIPHER_ALIASES:
            if "ANULL" not in excluded and "NULL" not in excluded:
                broken.append(f"{token} without !aNULL (anonymous suites)")
            else:
                cbc.append(f"{token} (includes CBC suites)")
        elif any(mark in upper for mark in AEAD_MARKS):
            if upper.startswith(("DHE-", "EDH-")):
                dhe.append(token)
        elif "-" in token or upper.endswith(("SHA", "SHA256", "SHA384")):
            cbc.append(token)
    return broken, cbc, dhe


@rule(
    "PR403",
    "nginx-weak-ciphers",
    title="ssl_ciphers allows weak or non-recommended cipher suites",
    severity=Severity.ERROR,
    kind=FileKind.NGINX,
    why="""
RC4, DES, 3DES (SWEET32), MD5, NULL, EXPORT (FREAK, Logjam) and anonymous suites are broken:
a client that offers them can be downgraded and its traffic read. CBC-mode suites with SHA-1
(Lucky13 and its padding-oracle successors) are outside Mozilla's intermediate list, which
keeps only ECDHE key exchange with AES-GCM or ChaCha20-Poly1305; guidelines v6.0 also dropped
the DHE suites that v5.7 still listed. Broad aliases such as HIGH (nginx's default is
`HIGH:!aNULL:!MD5`) include the CBC suites, and anonymous ones unless `!aNULL` removes them.
""",
    fix="Use Mozilla's intermediate list: ssl_ciphers " + ":".join(MOZILLA_INTERMEDIATE_CIPHERS),
    bad="ssl_ciphers HIGH:RC4:3DES;",
    good="ssl_ciphers " + ":".join(MOZILLA_INTERMEDIATE_CIPHERS) + ";",
    guideline=MOZILLA_GUIDELINE,
)
def nginx_weak_ciphers(ctx: FileContext) -> Iterator[Hit]:
    conf: NginxConf = ctx.parsed
    for directive in conf.find("ssl_ciphers"):
        broken, cbc, dhe = cipher_problems(" ".join(directive.args))
        if broken:
            yield Hit(directive.line, "ssl_ciphers allows broken suites: " + ", ".join(broken))
        elif cbc:
            yield Hit(
                directive.line,
                "ssl_ciphers allows CBC suites outside Mozilla's intermediate list: "
                + ", ".join(cbc[:6])
                + (" ..." if len(cbc) > 6 else ""),
                severity=Severity.WARNING,
            )
        elif dhe:
            yield Hit(
                directive.line,
                "ssl_ciphers keeps DHE suites that Mozilla's intermediate list dropped in v6.0: "
                + ", ".join(dhe),
                severity=Severity.INFO,
            )


# --- PR404 -------------------------------------------------------------------------------------


def hsts_max_age(header: Directive) -> int | None:
    match = re.search(r"max-age\s*=\s*\"?(\d+)", " ".join(header.args[1:2]), re.IGNORECASE)
    if not match:
        return None
    digits = match.group(1).lstrip("0") or "0"
    return int(digits) if len(digits) <= 18 else 10**18  # no int() of thousands of digits


@rule(
    "PR404",
    "nginx-hsts",
    title="TLS server without HSTS, or with a short max-age",
    severity=Severity.WARNING,
    kind=FileKind.NGINX,
    why="""
Without Strict-Transport-Security a browser that types the bare domain, or follows an old
http:// link, makes its first request in clear text; anyone on the path (public Wi-Fi) can
answer it and keep the user on HTTP (SSL stripping). HSTS tells the browser to use HTTPS only,
for max-age seconds. Mozilla's guidelines set max-age=63072000 (two years); below six months
the protection lapses for users who visit rarely. Add `always`, or nginx leaves the header off
error responses.
""",
    fix='add_header Strict-Transport-Security "max-age=63072000" always;',
    bad="server {\n    listen 443 ssl;\n}",
    good="server {\n    listen 443 ssl;\n"
    '    add_header Strict-Transport-Security "max-age=63072000" always;\n}',
    guideline=MOZILLA_GUIDELINE,
)
def nginx_hsts(ctx: FileContext) -> Iterator[Hit]:
    conf: NginxConf = ctx.parsed
    for server in _blocks(conf, "server"):
        if not _is_tls_server(server) or _never_answers(server):
            continue
        headers = _array_in_force(server, "add_header", ctx.project)
        hsts = [h for h in headers if h.args and h.args[0].lower() == HSTS_HEADER]
        if not hsts:
            yield _missing_hsts(ctx, server, headers)
            continue
        age = hsts_max_age(hsts[-1])
        if age is None and "$" in " ".join(hsts[-1].args[1:2]):
            continue  # the value comes from a variable (a `map`): not known here
        if age is None or age < HSTS_MIN_MAX_AGE:
            shown = "no max-age" if age is None else f"max-age={age}"
            yield Hit(
                hsts[-1].line,
                f"HSTS with {shown}: below six months (Mozilla: max-age={HSTS_MOZILLA_MAX_AGE})",
            )


def _never_answers(server: Directive) -> bool:
    """`ssl_reject_handshake on;` (a default server refusing unknown names): no TLS session is
    ever made, so no response, and no header, is ever sent. `return 444;` at server level
    (the older catch-all idiom) closes every connection without a response."""
    reject = server.child("ssl_reject_handshake")
    if reject and reject.args[:1] == ["on"]:
        return True
    answer = server.child("return")
    return answer is not None and answer.args[:1] == ["444"]


def _missing_hsts(ctx: FileContext, server: Directive, inherited: list[Directive]) -> Hit:
    fix = None
    if not inherited:  # adding one here would not hide inherited headers
        edit = _insert_first_line(ctx, server, PR404_FIX_LINE)
        if edit:
            fix = Fix("add HSTS (max-age two years)", (edit,), safe=False)
    return Hit(server.line, "TLS server without a Strict-Transport-Security header", fix=fix)


PR404_FIX_LINE = f'add_header Strict-Transport-Security "max-age={HSTS_MOZILLA_MAX_AGE}" always;'


# --- PR405 -------------------------------------------------------------------------------------


@rule(
    "PR405",
    "nginx-add-header-inheritance",
    title="add_header in a block drops every add_header inherited from above",
    severity=Severity.WARNING,
    kind=FileKind.NGINX,
    why="""
nginx inherits add_header directives from the enclosing level only when the current level
has none. One `add_header Cache-Control ...` in a location silently removes every header set
in the server or http block for that location: HSTS, X-Frame-Options, Content-Security-Policy
vanish from exactly the responses the location serves, and nothing warns. nginx 1.29.3 added
`add_header_inherit merge;` to change this. A block that only adds headers and returns
(a CORS preflight's 204, a redirect) is left alone: no page goes out unprotected.
""",
    fix="Repeat the inherited add_header lines in the block (or `include` a shared file).",
    bad="server {\n    add_header X-Frame-Options DENY always;\n"
    "    location /static/ {\n        add_header Cache-Control public;\n    }\n}",
    good="server {\n    add_header X-Frame-Options DENY always;\n"
    "    location /static/ {\n        add_header X-Frame-Options DENY always;\n"
    "        add_header Cache-Control public;\n    }\n}",
)
def nginx_add_header_inheritance(ctx: FileContext) -> Iterator[Hit]:
    conf: NginxConf = ctx.parsed
    for block in _blocks(conf, "server", "location", "if"):
        own = _children(block, "add_header", ctx.project)
        if not own or _merges_headers(block, ctx.project) or _answers_itself(block):
            continue
        parent = block.parent
        inherited = _array_in_force(parent, "add_header", ctx.project) if parent else []
        if parent is None and block.name == "server":
            inherited = _top_level_headers(block, ctx.project)
        kept = {h.args[0].lower() for h in own if h.args}
        lost = [name for name in _header_names(inherited) if name.lower() not in kept]
        if lost:
            yield Hit(
                own[0].line,
                f"add_header in this {block.name} block drops the inherited "
                f"{', '.join(lost)} header{'s' if len(lost) > 1 else ''}",
            )


def _answers_itself(block: Directive) -> bool:
    """A block that only sets headers and returns (a CORS preflight's 204, a redirect): its
    response carries no page or content the dropped headers would protect."""
    names = {d.name for d in block.block or []}
    return "return" in names and not names & (SERVING_DIRECTIVES | {"location", "if"})


def _top_level_headers(server: Directive, project: Project) -> list[Directive]:
    for http in _project_http_blocks(project):
        found = _children(http, "add_header", project)
        if found:
            return found
    return []


def _merges_headers(block: Directive, project: Project) -> bool:
    setting = _effective(block, "add_header_inherit", project)
    return bool(setting and setting.args[:1] == ["merge"])


# --- PR406 -------------------------------------------------------------------------------------

PROXY_HEADERS = ("Host", "X-Forwarded-For", "X-Forwarded-Proto")
PROXY_PARAMS_HEADERS = {"host", "x-real-ip", "x-forwarded-for", "x-forwarded-proto"}
"""What Debian/Ubuntu's /etc/nginx/proxy_params sets."""
HEADER_STAND_INS = {
    "Host": {"x-forwarded-host"},
    "X-Forwarded-For": {"x-real-ip"},
    "X-Forwarded-Proto": set(),
}
"""Headers that tell the app the same thing (the original host, the client's address):
`X-Forwarded-Host $http_host` with USE_X_FORWARDED_HOST, or `X-Real-IP $remote_addr`, is as
good as the header itself."""


def _proxy_headers_in_force(location: Directive, project: Project) -> set[str] | None:
    """Header names proxy_set_header sends from `location`; None when an included file we
    cannot see may set them."""
    for level in [location, *_outer_levels(location, project)]:
        includes = [i for i in _children(level, "include", project) if i.args]
        own = _children(level, "proxy_set_header", project)
        proxy_includes = [i for i in includes if "proxy" in i.args[0].lower()]
        if proxy_includes and not any("proxy_params" in i.args[0] for i in proxy_includes):
            return None
        names = {d.args[0].lower() for d in own if d.args}
        if proxy_includes:
            names |= PROXY_PARAMS_HEADERS
        if names:
            return names
    return set()


@rule(
    "PR406",
    "nginx-proxy-headers",
    title="proxy_pass without Host / X-Forwarded-For / X-Forwarded-Proto",
    severity=Severity.WARNING,
    kind=FileKind.NGINX,
    why="""
By default nginx sends the upstream's address as Host (`Host: app:8000`) and nothing about
the client. The app then builds redirects and absolute URLs for the wrong host or for http://
(login redirects loop or leave HTTPS), and logs and rate-limits every request as coming from
the proxy's IP. Note that a location with its own proxy_set_header drops those of the server.
X-Forwarded-Host stands in for Host and X-Real-IP for X-Forwarded-For: they carry the same.
""",
    fix="proxy_set_header Host $host; proxy_set_header X-Forwarded-For "
    "$proxy_add_x_forwarded_for; proxy_set_header X-Forwarded-Proto $scheme;",
    bad="location / {\n    proxy_pass http://app:8000;\n}",
    good="location / {\n    proxy_pass http://app:8000;\n    proxy_set_header Host $host;\n"
    "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
    "    proxy_set_header X-Forwarded-Proto $scheme;\n}",
)
def nginx_proxy_headers(ctx: FileContext) -> Iterator[Hit]:
    """One finding per file and set of missing headers, however many locations proxy."""
    conf: NginxConf = ctx.parsed
    lacking: dict[tuple[str, ...], list[int]] = {}
    for proxy in conf.find("proxy_pass"):
        location = proxy.parent
        if location is None:
            continue
        names = _proxy_headers_in_force(location, ctx.project)
        if names is None:
            continue
        missing = tuple(
            h for h in PROXY_HEADERS if h.lower() not in names and not names & HEADER_STAND_INS[h]
        )
        if missing:
            lacking.setdefault(missing, []).append(proxy.line)
    for missing, lines in lacking.items():
        others = lines[1:]
        also = f" (also line{'s' if len(others) > 1 else ''} {', '.join(map(str, others))})"
        yield Hit(
            lines[0],
            f"proxy_pass without proxy_set_header {', '.join(missing)}{also if others else ''}",
        )


# --- PR407 -------------------------------------------------------------------------------------


@rule(
    "PR407",
    "nginx-alias-traversal",
    title="alias path traversal: location without trailing slash, alias with one",
    severity=Severity.ERROR,
    kind=FileKind.NGINX,
    why="""
With `location /static { alias /srv/static/; }` nginx replaces the matched prefix `/static`
with `/srv/static/`, so a request for `/static../app/settings.py` reads
`/srv/static/../app/settings.py`: any file in the parent directory (source code, .env,
database files) is downloadable. This "off-by-slash" bug has leaked source and secrets of
many sites; gixy reports it as alias_traversal.
""",
    fix="End the location with a slash when the alias does: location /static/ {...}",
    bad="location /static {\n    alias /srv/app/static/;\n}",
    good="location /static/ {\n    alias /srv/app/static/;\n}",
)
def nginx_alias_traversal(ctx: FileContext) -> Iterator[Hit]:
    conf: NginxConf = ctx.parsed
    for alias in conf.find("alias"):
        location = alias.parent
        if location is None or location.name != "location" or not alias.args:
            continue
        prefix = _location_prefix(location)
        if prefix is None or prefix.endswith("/") or not alias.args[0].endswith("/"):
            continue
        fix = None
        if f"{prefix} " in ctx.line_text(location.line) or f"{prefix}{{" in ctx.line_text(
            location.line
        ):
            fix = Fix(
                f"make the location {prefix}/",
                (Edit(ctx.rel, location.line, prefix, prefix + "/"),),
                safe=False,
            )
        yield Hit(
            alias.line,
            f"location {prefix} (no trailing slash) with alias {alias.args[0]}: "
            f"{prefix}../ reads the parent directory",
            fix=fix,
        )


def _location_prefix(location: Directive) -> str | None:
    """The prefix of a prefix location (`/x` or `^~ /x`); None for regex and exact matches."""
    args = location.args
    if len(args) == 1 and not args[0].startswith("@"):
        return args[0]
    if len(args) == 2 and args[0] == "^~":
        return args[1]
    return None


# --- PR408 -------------------------------------------------------------------------------------


@rule(
    "PR408",
    "nginx-autoindex",
    title="Directory listing enabled (autoindex on)",
    severity=Severity.WARNING,
    kind=FileKind.NGINX,
    why="""
`autoindex on` lists every file of a directory that has no index file: backups, uploads of
other users, build artefacts and stray .env or .git files become browsable and indexable by
search engines.
""",
    fix="Remove `autoindex on;` (off is the default).",
    bad="location /media/ {\n    autoindex on;\n}",
    good="location /media/ {\n    autoindex off;\n}",
)
def nginx_autoindex(ctx: FileContext) -> Iterator[Hit]:
    conf: NginxConf = ctx.parsed
    for directive in conf.find("autoindex"):
        if directive.args[:1] == ["on"]:
            fix = Fix(
                "set autoindex off", (Edit(ctx.rel, directive.line, "on", "off"),), safe=False
            )
            yield Hit(directive.line, "autoindex on: directory listings are public", fix=fix)


# --- PR409 -------------------------------------------------------------------------------------

SERVING_DIRECTIVES = frozenset(
    {"proxy_pass", "uwsgi_pass", "fastcgi_pass", "grpc_pass", "scgi_pass", "root", "alias"}
)
REDIRECT_CODES = frozenset({"301", "302", "303", "307", "308"})


def _redirects_to_https(server: Directive) -> bool:
    for directive in _walk(server):
        args = directive.args
        if directive.name == "return":
            target = args[-1] if args else ""
            code = args[0] if len(args) == 2 else "302"
            if target.startswith("https://") and code in REDIRECT_CODES:
                return True
        if directive.name == "rewrite" and len(args) >= 2 and args[1].startswith("https://"):
            return True
    return False


def _serves_content(server: Directive) -> bool:
    return any(d.name in SERVING_DIRECTIVES for d in _walk(server))


def _walk(node: Directive) -> Iterator[Directive]:
    for child in node.block or []:
        yield child
        yield from _walk(child)


def _names_overlap(plain: Directive, tls_names: set[str]) -> bool:
    names = _server_names(plain) - {"_", '""', ""}
    return not names or bool(names & tls_names) or "_" in tls_names


@rule(
    "PR409",
    "nginx-http-not-redirected",
    title="Plain-HTTP server does not redirect to HTTPS",
    severity=Severity.WARNING,
    kind=FileKind.NGINX,
    why="""
When the same site is served on port 80 and on 443, users who type the bare domain or follow
an old http:// link use the clear-text site: cookies and credentials travel unencrypted, and
HSTS is never learned because browsers ignore it over HTTP. The port-80 server should only
answer ACME challenges and redirect everything else with 301 (or 308) to https://. A main
configuration that has no TLS server is not judged against another main configuration beside
it (nginx.conf for TLS terminated in front, nginx_TLS.conf for TLS in nginx): nginx loads one.
""",
    fix="In the port-80 server: return 301 https://$host$request_uri;",
    bad="server {\n    listen 80;\n    server_name example.com;\n"
    "    location / { proxy_pass http://app:8000; }\n}",
    good="server {\n    listen 80;\n    server_name example.com;\n"
    "    return 301 https://$host$request_uri;\n}",
)
def nginx_http_not_redirected(ctx: FileContext) -> Iterator[Hit]:
    conf: NginxConf = ctx.parsed
    tls_servers = _tls_servers_loaded_with(conf, ctx.project)
    if not tls_servers:
        return
    tls_names = set().union(*(_server_names(s) for s in tls_servers)) or {"_"}
    for server in _blocks(conf, "server"):
        if server.parent is not None and server.parent.name == "upstream":
            continue
        if not _is_public_plain_http(server) or not _serves_content(server):
            continue
        if _redirects_to_https(server) or not _names_overlap(server, tls_names):
            continue
        names = " ".join(sorted(_server_names(server))) or "the default name"
        yield Hit(
            server.line,
            f"plain-HTTP server for {names} serves content instead of redirecting to https://",
        )


def _tls_servers_loaded_with(conf: NginxConf, project: Project) -> list[Directive]:
    """The TLS servers nginx may run beside `conf`'s plain ones. nginx loads one main
    configuration: when `conf` is one (it has its own `http {}`), another file that is one too
    is an alternative to it (DefectDojo's nginx.conf beside nginx_TLS.conf), not loaded with
    it. A snippet may be included by any of them, so it is judged against them all."""
    index = project_nginx(project)
    if conf.rel not in index.main_configurations:
        return index.tls_servers
    return [
        server
        for rel, servers in index.tls_servers_by_file.items()
        if rel == conf.rel or rel not in index.main_configurations
        for server in servers
    ]


# --- PR410 -------------------------------------------------------------------------------------


@rule(
    "PR410",
    "nginx-prefer-server-ciphers",
    title="ssl_prefer_server_ciphers on with the intermediate profile",
    severity=Severity.INFO,
    kind=FileKind.NGINX,
    why="""
Every suite in Mozilla's intermediate list is strong, so the guidelines set
server_preferred_order to false: let the client pick, because a phone without AES hardware
is faster and uses less battery with ChaCha20-Poly1305 than with the AES-GCM the server
would impose. (`on` made sense when weak suites had to be outranked.) Session tickets are not
flagged: since nginx 1.23.2 their keys rotate with the shared session cache, and the current
Mozilla generator only disables them for older nginx.
""",
    fix="ssl_prefer_server_ciphers off;",
    bad="ssl_protocols TLSv1.2 TLSv1.3;\nssl_prefer_server_ciphers on;",
    good="ssl_protocols TLSv1.2 TLSv1.3;\nssl_prefer_server_ciphers off;",
    guideline=MOZILLA_GUIDELINE,
)
def nginx_prefer_server_ciphers(ctx: FileContext) -> Iterator[Hit]:
    conf: NginxConf = ctx.parsed
    for directive in conf.find("ssl_prefer_server_ciphers"):
        if directive.args[:1] != ["on"]:
            continue
        protocols = (
            _effective(directive.parent, "ssl_protocols", ctx.project) if directive.parent else None
        )
        if protocols is not None and "TLSv1.2" not in protocols.args:
            continue  # TLS 1.3 only (modern profile): the setting has no effect
        yield Hit(
            directive.line,
            "ssl_prefer_server_ciphers on: Mozilla's intermediate profile lets the client choose",
            fix=Fix(
                "set ssl_prefer_server_ciphers off",
                (Edit(ctx.rel, directive.line, "on", "off"),),
                safe=False,
            ),
        )


# --- PR411 -------------------------------------------------------------------------------------


@rule(
    "PR411",
    "nginx-upstream-keepalive-unused",
    title="Upstream keepalive without HTTP/1.1 and an empty Connection header",
    severity=Severity.WARNING,
    kind=FileKind.NGINX,
    why="""
`keepalive N` in an upstream block only keeps connections to the app open when the proxied
request is HTTP/1.1 with the Connection header cleared. Before nginx 1.30 (which made 1.1 the
default) nginx proxies HTTP/1.0 with `Connection: close` unless told otherwise, so the pool
stays empty and every request pays a new TCP (and TLS) handshake to the app, plus a TIME_WAIT
socket. Distributions still ship older nginx (Debian 12: 1.22, Ubuntu 24.04: 1.24).
""",
    fix='In the proxying location: proxy_http_version 1.1; proxy_set_header Connection "";',
    bad="upstream app { server 127.0.0.1:8000; keepalive 16; }\n"
    "location / { proxy_pass http://app; }",
    good="upstream app { server 127.0.0.1:8000; keepalive 16; }\n"
    "location / {\n    proxy_pass http://app;\n    proxy_http_version 1.1;\n"
    '    proxy_set_header Connection "";\n}',
)
def nginx_upstream_keepalive_unused(ctx: FileContext) -> Iterator[Hit]:
    conf: NginxConf = ctx.parsed
    pooled = project_nginx(ctx.project).pooled_upstreams
    if not pooled:
        return
    for proxy in conf.find("proxy_pass"):
        target = re.sub(r"^https?://", "", proxy.args[0] if proxy.args else "").split("/")[0]
        if target not in pooled or proxy.parent is None:
            continue
        missing = []
        version = _effective(proxy.parent, "proxy_http_version", ctx.project)
        if version is None or version.args[:1] != ["1.1"]:
            missing.append("proxy_http_version 1.1")
        headers = _array_in_force(proxy.parent, "proxy_set_header", ctx.project)
        connection = [h for h in headers if h.args and h.args[0].lower() == "connection"]
        if not connection or connection[-1].args[1:2] != [""]:
            missing.append('proxy_set_header Connection ""')
        if missing:
            yield Hit(
                proxy.line,
                f"upstream {target} has keepalive but this proxy_pass lacks "
                f"{' and '.join(missing)}: connections are not reused",
            )


# --- PR412 -------------------------------------------------------------------------------------

PRIVATE_SUFFIXES = (".local", ".internal", ".lan", ".localhost", ".test", ".home.arpa", ".svc")
IP_ADDRESS = re.compile(r"^[\d.]+$|^\[?[0-9a-f:]+\]?$", re.IGNORECASE)
TLS_IN_FRONT = frozenset({"set_real_ip_from", "real_ip_header"})
"""A server behind a TLS-terminating load balancer says so: it trusts the balancer's address
for the client IP, or reads the scheme the balancer saw ($http_x_forwarded_proto)."""


def _public_names(server: Directive) -> list[str]:
    """server_name entries that are Internet domain names (not `_`, localhost, an IP address,
    a private suffix or a regex)."""
    return sorted(
        name
        for name in _server_names(server)
        if "." in name.strip(".")
        and not name.startswith("~")
        and not IP_ADDRESS.match(name)
        and not name.endswith(PRIVATE_SUFFIXES)
    )


def _tls_terminated_in_front(project: Project) -> bool:
    for conf in project.nginx_confs:
        for directive in conf.walk():
            if directive.name in TLS_IN_FRONT:
                return True
            if any("$http_x_forwarded_proto" in arg.lower() for arg in directive.args):
                return True
    return False


@rule(
    "PR412",
    "nginx-public-site-http-only",
    title="Public site served over plain HTTP only",
    severity=Severity.WARNING,
    kind=FileKind.NGINX,
    why="""
A server with an Internet domain name that only listens for clear-text HTTP sends every
session cookie, password and API token readable to anyone on the path (public Wi-Fi, a
compromised router, an ISP), lets them change pages and downloads in flight, and browsers
mark it "Not secure". Certificates cost nothing (Let's Encrypt, certbot or acme.sh).
When TLS ends at a load balancer in front of nginx, the config says so
(set_real_ip_from, $http_x_forwarded_proto) and this rule stays quiet.
""",
    fix="""
Add a TLS server for the name (listen 443 ssl; ssl_certificate ...; certbot --nginx does
it) and turn the port-80 server into a redirect: return 301 https://$host$request_uri;
""",
    bad="server {\n    listen 80;\n    server_name shop.example.com;\n"
    "    location / { proxy_pass http://127.0.0.1:8000; }\n}",
    good="server {\n    listen 443 ssl;\n    server_name shop.example.com;\n"
    "    ssl_certificate /etc/letsencrypt/live/shop.example.com/fullchain.pem;\n"
    "    ssl_certificate_key /etc/letsencrypt/live/shop.example.com/privkey.pem;\n}",
)
def nginx_public_site_http_only(ctx: FileContext) -> Iterator[Hit]:
    conf: NginxConf = ctx.parsed
    index = project_nginx(ctx.project)
    if index.tls_in_front:
        return
    tls_names = index.tls_names
    for server in _blocks(conf, "server"):
        if server.parent is not None and server.parent.name == "upstream":
            continue
        if not _is_public_plain_http(server) or _redirects_to_https(server):
            continue
        plain_only = [name for name in _public_names(server) if name not in tls_names]
        if plain_only and _serves_content(server):
            yield Hit(
                server.line,
                f"{', '.join(plain_only)} is served over plain HTTP only: no TLS server has "
                "this name",
            )


# --- PR413 -------------------------------------------------------------------------------------

ALLOW_ORIGIN = "access-control-allow-origin"
ALLOW_CREDENTIALS = "access-control-allow-credentials"


@rule(
    "PR413",
    "nginx-cors-any-origin",
    title="nginx allows every origin (Access-Control-Allow-Origin * or the caller's Origin)",
    severity=Severity.WARNING,
    kind=FileKind.NGINX,
    why="""
`add_header Access-Control-Allow-Origin *` lets scripts on every website read the responses
of this server from a visitor's browser: fine for a public, anonymous API, a leak for
anything that answers differently per user or network (intranet data, IP-based access).
Echoing `$http_origin` together with `Access-Control-Allow-Credentials true` is worse: any
site the user visits can call the API with the user's cookies and read the answers.
""",
    fix="""
List the origins that may call the API (a `map $http_origin $cors_origin { ... }` with the
allowed ones) or let the app's CORS middleware decide; never credentials with a reflected
origin.
""",
    bad="add_header Access-Control-Allow-Origin *;",
    good="add_header Access-Control-Allow-Origin https://app.example.com;",
)
def nginx_cors_any_origin(ctx: FileContext) -> Iterator[Hit]:
    conf: NginxConf = ctx.parsed
    for header in conf.find("add_header"):
        if len(header.args) < 2 or header.args[0].lower() != ALLOW_ORIGIN:
            continue
        value = header.args[1].strip()
        if value == "*" and not _serves_files(header):
            yield Hit(header.line, "Access-Control-Allow-Origin * lets every website read it")
        elif value.lower() == "$http_origin" and _with_credentials(header):
            yield Hit(
                header.line,
                "Access-Control-Allow-Origin echoes $http_origin with Allow-Credentials true: "
                "any website can read responses made with the user's cookies",
                severity=Severity.ERROR,
            )


def _serves_files(header: Directive) -> bool:
    """In a location that serves files from disk (`alias` or `root`, no proxy): public static or
    media files, which any site may embed or fetch anyway; the app's answers are not in it."""
    location = header.parent
    if location is None or location.name != "location":
        return False
    files = location.children("alias") or location.children("root")
    proxied = any(location.children(name) for name in SERVING_DIRECTIVES - {"root", "alias"})
    return bool(files) and not proxied


def _with_credentials(header: Directive) -> bool:
    siblings = header.parent.children("add_header") if header.parent else []
    return any(
        len(h.args) > 1 and h.args[0].lower() == ALLOW_CREDENTIALS and h.args[1] == "true"
        for h in siblings
    )

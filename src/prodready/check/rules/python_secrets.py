"""Python rules, part 3: secrets and CORS (PR107-PR109, PR119). Every secret is judged by
prodready.secretstrength, and no message ever contains a secret's value."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from prodready.check.model import Finding, Hit, Severity
from prodready.check.pycontext import PyContext
from prodready.check.registry import rule
from prodready.check.rules._common import leak
from prodready.check.rules.crossfile_facts import Served, gunicorn_setup, production_servers
from prodready.check.rules.pyhelpers import (
    dotted,
    env_read,
    imported_names,
    in_dev_config_class,
    is_false,
    is_true,
    keyword,
    literal,
    module_assignments,
    module_value,
    names_assigned_from,
    qualify,
    str_value,
    subscript_key,
)
from prodready.project.environments import by_name
from prodready.project.model import Environment, FileKind, Project
from prodready.secretstrength import (
    KNOWN_DEFAULTS,
    TUTORIAL_KEYS,
    Judgement,
    Verdict,
    is_dummy_provider_token,
    is_placeholder,
    is_secret_name,
    judge,
)

PY = FileKind.PYTHON.value

SECRET_LAST_WORD = re.compile(
    r"(?:^|_|-)(?:pass|passwd|password|pwd|secret|key|token|credentials?|apikey)$",
    re.IGNORECASE,
)
"""The name must *end* in the secret word: PASSWORD_RESET_SUBJECT and TOKEN_BACKEND do not.
(A `salt` namespaces signatures, it is not a secret.)"""
KEY_NAME = re.compile(
    r"(?:SESSION|CACHE|COOKIE|HEADER|QUERY|FIELD|LOOKUP|DB|REDIS|KV|STORAGE|STORE|ENV|CONFIG|"
    r"SETTINGS?|DICT|MAP|PARAM|ATTR|CONTEXT)_KEY$",
    re.IGNORECASE,
)
"""Constants naming a key (`CART_SESSION_KEY = "cart"`, searxng's `SECRET_KEY_DB_KEY =
"secret-key"`: the entry of its cache that holds a scraped key), not holding one."""
TOKENIZER_TOKEN = re.compile(
    r"(?:^|_)(?:pad|eos|bos|unk|sep|cls|mask|start|end|stop|special|sos|image|audio|video|"
    r"default|chat|tool|think|eot|eom|fim|prefix|suffix|middle)_token$",
    re.IGNORECASE,
)
"""ML tokenizer special tokens (`tokenizer.pad_token = "[PAD]"`, `eos_token="</s>"`): vocabulary
entries of a language model, not credentials."""
EXAMPLE_NAME = re.compile(r"(?:^|[._])(?:EXAMPLE|SAMPLE|DUMMY|FAKE)_", re.IGNORECASE)
"""`EXAMPLE_API_KEY = "<your-api-key>"`: documents the shape of a value, is not one."""
EXAMPLE_KEYS = frozenset(
    {"example", "examples", "json_schema_extra", "schema_extra", "openapi_examples"}
)
"""OpenAPI/pydantic documentation: `Field(examples=[...])`, `json_schema_extra={...}`,
`class Config: schema_extra = {...}`. Values shown in the API docs, never used to log in."""
TEMPLATE_VARIABLE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")
"""`{{cookiecutter.secret_key}}`, `{{ record }}`: a template fills it in when it is rendered."""
MASK = re.compile(r"[*\u2022]{3,}")
"""`******`: what is shown in place of a secret, not one."""
NOT_A_SECRET_VALUE = re.compile(
    r"^(?:[A-Za-z_]\w*\.)+[A-Za-z_]\w*$|\s\S+\s|[^\x20-\x7e]|"
    r"^(?:\$2[aby]\$|\$argon2|pbkdf2_sha\d+\$|scrypt:)"
    r"|^[a-z][\w+.-]*://|^/[\w/.{}<>:-]*$"
    r"|^(?-i:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)$"
    r"|\{[\w.\[\]'\"-]*\}|%\(\w+\)s|%s|#\{\w*\}#"
    r"|^\d+/[smhd]\w*(?:/\w+)?(?:,\s*\d+/[smhd]\w*(?:/\w+)?)*$"
    r"|^.{1,2}$"
    r"|^\[?(?:redacted|masked|hidden|removed|filtered|obfuscated)\]?$"
    r"|^(?:ldap|oidc|saml|sso|oauth2?|external|url|uri|string|str|text|textarea|bool|"
    r"boolean|int|integer|number|float|json|file)$",
    re.IGNORECASE,
)
"""Not a secret whatever the name: dotted Python paths (`myapp.auth.TokenBackend`), prose
(`Reset your password`), non-ASCII text (emoji tables), password hashes (bcrypt, argon2,
Django/Werkzeug formats), URLs and URL paths (`GET_TOKEN = "https://.../gettoken"`; a URL
with a password is PR119's), the UPPER_SNAKE name of a setting, templates (`{token}`,
`%(password)s`), rate-limit specs (`5/m/ip`), one or two characters (`pwd = "."`), masks
(`[REDACTED]`), markers of an external login (`"password": "LDAP"`) and schema type words
(`"secret": "url"`)."""
LABEL_DICTS = frozenset(
    {"labels", "help_texts", "verbose_names", "error_messages", "widgets", "placeholders"}
)
"""Django form and model Meta dicts: field name -> text shown to people."""
CREDENTIAL_URL = re.compile(
    r"^(?P<scheme>[A-Za-z][\w+.-]*)://(?P<user>[^:/@\s]*):(?P<password>[^@/\s]+)@(?P<host>[^/\s?#:]+)"
)
TEMPLATE_PASSWORD = re.compile(r"\{|%s|%\(|^\$")
"""Filled in later: "{password}", "%s", "%(password)s", "${DB_PASSWORD}", "$DB_PASSWORD"."""
CREDENTIAL_IN_SOURCE = re.compile(r"://[^\s/:@'\"]*:[^\s/@'\"]+@")
"""A quick scan of the whole source before looking at each string constant."""
SETTINGS_BASES = frozenset({"BaseSettings"})
ENUM_BASES = frozenset({"Enum", "StrEnum", "IntEnum"})


ZXCVBN_MAX = 72
"""zxcvbn raises ValueError for longer values; a 72-character prefix judges strength as well."""


def judge_secret(value: str, name: str) -> Judgement:
    return judge(value[:ZXCVBN_MAX], name)


@lru_cache(maxsize=4096)
def holds_secret(name: str) -> bool:
    """`SECRET_KEY`, `app.secret_key`, `DB_PASSWORD`, `client_secret`, `JWT_SECRET_KEY`."""
    last = name.rsplit(".", 1)[-1]
    return (
        is_secret_name(last)
        and bool(SECRET_LAST_WORD.search(last))
        and not KEY_NAME.search(last)
        and not TOKENIZER_TOKEN.search(last)
        and not EXAMPLE_NAME.search(last)
    )


def hard_coded(value: str, name: str) -> Judgement | None:
    """The judgement of a literal assigned to a secret-named target, None when the literal is
    not a secret at all (empty, a dotted path, prose). A placeholder is judged: it is the value
    the service runs with."""
    bare = value.strip()
    if TEMPLATE_VARIABLE.search(bare) or MASK.fullmatch(bare):
        return None
    known = is_placeholder(bare) or bare.lower() in KNOWN_DEFAULTS | TUTORIAL_KEYS
    if not known and (NOT_A_SECRET_VALUE.search(bare) or _is_label(bare, name)):
        return None
    if not known and is_dummy_provider_token(bare):
        return None  # dispatch's App(token="xoxb-valid", token_verification_enabled=False)
    judgement = judge_secret(value, name)
    return None if judgement.verdict == Verdict.EMPTY else judgement


def _is_label(value: str, name: str) -> bool:
    """`ACCESS_TOKEN = "access_token"`, `RESET_TOKEN = "_password_reset_token"` and
    `_COLUMN_TOKEN = "column"` name a field, a session entry or a parser token; they are not
    credentials. (A real token is never one lowercase word; a weak password often is.)"""
    last = name.rsplit(".", 1)[-1]
    bare, bare_name = re.sub(r"[-_]", "", value.lower()), re.sub(r"[-_]", "", last.lower())
    if (bare and bare_name.endswith(bare)) or re.fullmatch(r"_\w+", value):
        return True  # `AUTH_KEY = "authkey"`, `"CLIENT_SECRET": "client-secret"`
    if re.fullmatch(r"[a-z]+(?:_[a-z]+)+", value) and judge_secret(value, name).verdict not in (
        Verdict.DEFAULT,
    ):
        return True  # an option word: `params["update_password"] = "on_create"`
    return last.lower().endswith("token") and bool(re.fullmatch(r"[a-z]+|\W{1,3}", value))


def detail(judgement: Judgement) -> str:
    return f"; it {judgement.reason}" if judgement.is_problem else ""


@dataclass(frozen=True)
class UrlCredentials:
    scheme: str
    host: str
    judgement: Judgement


def url_credentials(text: str) -> UrlCredentials | None:
    """`postgresql://user:pw@db/app` -> its scheme, host and the password's judgement; None
    without a password, or with a placeholder (`${DB_PASSWORD}`, `<password>`)."""
    match = CREDENTIAL_URL.match(text.strip())
    if match is None or TEMPLATE_PASSWORD.search(match["password"]):
        return None
    judgement = judge_secret(match["password"], match["user"])
    if judgement.verdict in (Verdict.EMPTY, Verdict.PLACEHOLDER):
        return None
    return UrlCredentials(match["scheme"], match["host"], judgement)


# --- PR107 -------------------------------------------------------------------------------------


@rule(
    "PR107",
    "hard-coded-secret",
    title="Secret hard-coded in source",
    severity=Severity.ERROR,
    kind=PY,
    why="""
A secret written in the source is in every clone, fork, CI log, container image layer and
backup of the repository, forever (git history keeps it after you delete the line), and it
is the same in every environment. With a hard-coded SECRET_KEY / secret_key / JWT secret,
anyone who has read the code can forge session cookies, password-reset links and tokens
for any user; Django's `django-insecure-` startproject key says so in its name. Rotating it
needs a code change and a deploy.
""",
    fix="""Read it from the environment with no fallback, and rotate the leaked value.
`SECRET_KEY = os.environ["SECRET_KEY"]`: a missing secret should stop the app at start-up.""",
    bad='SECRET_KEY = "django-insecure-7h$w@q2u!b8z^k3m"',
    good='SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]',
)
def hard_coded_secret(ctx: PyContext) -> Iterable[Hit]:
    for node, name, value in _secret_literals(ctx):
        if in_dev_config_class(ctx, node) or _documents_an_example(ctx, node):
            continue
        line = node.lineno  # type: ignore[attr-defined]
        judgement = hard_coded(value, name)
        if judgement:
            yield Hit(
                line,
                f"`{name}` is hard-coded in the source and {_leak(judgement, value)}",
                setting=ctx.module_setting(node),
            )


def _leak(judgement: Judgement, value: str) -> str:
    if value.startswith("django-insecure-"):
        return "is Django's startproject key, marked insecure"
    return leak(judgement)


def _secret_literals(ctx: PyContext) -> Iterator[tuple[ast.AST, str, str]]:
    """(node, target name, literal) for string literals given to secret-named targets. The
    loops test node types inline: they visit every assignment, keyword and dict entry."""
    for kind in (ast.Assign, ast.AnnAssign):
        for node in ctx.nodes(kind):
            value = _text(node.value)  # type: ignore[attr-defined]
            if value is None or _in_class_of(ctx, node, SETTINGS_BASES | ENUM_BASES):
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]  # type: ignore[attr-defined]
            for target in targets:
                name = _target_name(target)
                if name and holds_secret(name) and _names_a_setting(target):
                    yield node, name, value
    for node in ctx.nodes(ast.keyword):
        value = _text(node.value)  # type: ignore[attr-defined]
        if value is not None and node.arg and holds_secret(node.arg):  # type: ignore[attr-defined]
            yield node.value, node.arg, value  # type: ignore[attr-defined]
    for node in ctx.nodes(ast.Dict):
        for key, item in zip(node.keys, node.values, strict=True):  # type: ignore[attr-defined]
            value = _text(item)
            if value is None:
                continue
            name = _text(key)
            if name and name.isidentifier() and holds_secret(name):
                yield item, name, value
    for call, callee in ctx.calls_named("encode", "decode"):
        if callee in ("jwt.encode", "jwt.decode") and len(call.args) > 1:
            value = str_value(call.args[1])
            if value is not None:
                yield call, f"{callee}(..., key)", value


def _documents_an_example(ctx: PyContext, node: ast.AST) -> bool:
    """The literal sits under `examples=`, `json_schema_extra=`, a `"json_schema_extra"` dict
    key or a `schema_extra = ...` assignment (EXAMPLE_KEYS), or in a form's `labels = {...}`
    (LABEL_DICTS): text for people, not a credential."""
    child = node
    for ancestor in ctx.ancestors(node):
        if isinstance(ancestor, ast.keyword) and ancestor.arg in EXAMPLE_KEYS:
            return True
        if isinstance(ancestor, ast.Dict):
            for key, value in zip(ancestor.keys, ancestor.values, strict=True):
                if value is child and _text(key) in EXAMPLE_KEYS:
                    return True
        if isinstance(ancestor, ast.Assign | ast.AnnAssign):
            targets = ancestor.targets if isinstance(ancestor, ast.Assign) else [ancestor.target]
            shown = EXAMPLE_KEYS | LABEL_DICTS
            return any(dotted(t).rsplit(".", 1)[-1] in shown for t in targets)
        if isinstance(ancestor, ast.stmt):
            return False
        child = ancestor
    return False


def _text(node: ast.AST | None) -> str | None:
    """str_value() inlined for the hot loops above."""
    if type(node) is ast.Constant and type(node.value) is str:
        return node.value
    return None


def _target_name(target: ast.expr) -> str | None:
    key = subscript_key(target)
    if key:
        return key[1]
    return dotted(target) or None


def _names_a_setting(target: ast.expr) -> bool:
    """`SECRET_KEY = ...`, `app.secret_key = ...`, `config["JWT_SECRET"] = ...`; a lowercase
    plain variable (`token = r"[a-z]+"` in a parser) is too often not a credential."""
    return not isinstance(target, ast.Name) or target.id.isupper()


def _in_class_of(ctx: PyContext, node: ast.AST, bases: frozenset[str]) -> bool:
    """Defined in the body of a class deriving from one of `bases`: pydantic-settings fields
    are fallbacks (PR108), Enum members are labels."""
    parent = ctx.parent(node)
    return isinstance(parent, ast.ClassDef) and _derives_from(parent, bases)


def _derives_from(node: ast.ClassDef, bases: frozenset[str]) -> bool:
    return any(dotted(base).rsplit(".", 1)[-1] in bases for base in node.bases)


# --- PR108 -------------------------------------------------------------------------------------


@rule(
    "PR108",
    "secret-fallback",
    title="Secret read from the environment falls back to a literal",
    severity=Severity.WARNING,
    kind=PY,
    why="""
`os.getenv("SECRET_KEY", "dev-secret")` looks configurable, but when the variable is missing
(a typo in the compose file, a new deployment target, a cron container started without the
env file) the app starts anyway, with the literal, instead of failing. Nobody notices until
someone forges a session with the key from the repository or logs in with the default
database password. Worst when the fallback is a well-known default (`postgres`, `changeme`).
""",
    fix="""Require the variable (`os.environ["SECRET_KEY"]`); keep dev values in .env files.
`config("SECRET_KEY")` with no default, or a pydantic-settings field without a default, also
fail at start-up when the secret is missing.""",
    bad='SECRET_KEY = os.getenv("SECRET_KEY", "dev-secret")',
    good='SECRET_KEY = os.environ["SECRET_KEY"]',
)
def secret_fallback(ctx: PyContext) -> Iterable[Hit]:
    for node, hit in _fallbacks(ctx):
        if not in_dev_config_class(ctx, node):
            yield hit


def _fallbacks(ctx: PyContext) -> Iterator[tuple[ast.AST, Hit]]:
    names = imported_names(ctx)
    for call in _env_calls(ctx):
        read = env_read(call, names)
        hit = _fallback_hit(call.lineno, read.name, read.default) if read else None
        if hit:
            yield call, hit
    for call, callee in ctx.calls_named("setdefault"):
        if qualify(names, callee) == "os.environ.setdefault" and len(call.args) == 2:
            name = str_value(call.args[0])
            hit = _fallback_hit(call.lineno, name, call.args[1]) if name else None
            if hit:
                yield call, hit
    for node in ctx.nodes(ast.BoolOp):
        hit = _or_fallback(node, names)  # type: ignore[arg-type]
        if hit:
            yield node, hit
    for node in ctx.nodes(ast.ClassDef):
        if _derives_from(node, SETTINGS_BASES):  # type: ignore[arg-type]
            for hit in _settings_field_fallbacks(node):  # type: ignore[arg-type]
                yield node.body[0], hit  # type: ignore[attr-defined]


def _or_fallback(node: ast.BoolOp, names: dict[str, str]) -> Hit | None:
    """`os.environ.get("SECRET_KEY") or "you-will-never-guess"` (the Flask Mega-Tutorial's)."""
    if not isinstance(node.op, ast.Or) or str_value(node.values[-1]) is None:
        return None
    for value in node.values[:-1]:
        read = env_read(value, names) if isinstance(value, ast.Call) else None
        if read is not None:
            return _fallback_hit(node.lineno, read.name, node.values[-1])
    return None


def _env_calls(ctx: PyContext) -> Iterator[ast.Call]:
    for name in ("getenv", "get", "config", "env", "str"):
        yield from ctx.calls.get(name, [])


def _fallback_hit(line: int, name: str, default: ast.expr | None) -> Hit | None:
    value = str_value(default)
    if not value:
        return None
    url = url_credentials(value)
    if url:
        return Hit(
            line,
            f"{name} falls back to a {url.scheme} URL with a literal password for "
            f"{url.host} when unset{detail(url.judgement)}",
            severity=Severity.ERROR if url.judgement.is_problem else None,
        )
    if not holds_secret(name) or NOT_A_SECRET_VALUE.search(value):
        return None
    if PROVIDER_CREDENTIAL.search(name.rsplit(".", 1)[-1]):
        return None  # the provider refuses an unknown credential: a missing variable fails closed
    judgement = judge_secret(value, name)
    if judgement.verdict == Verdict.EMPTY:
        return None
    weak = judgement.is_problem or judgement.verdict == Verdict.PLACEHOLDER
    placeholder = judgement.verdict == Verdict.PLACEHOLDER
    suffix = "; it is a placeholder" if placeholder else detail(judgement)
    return Hit(
        line,
        f"{name} falls back to a literal when the variable is unset{suffix}",
        severity=Severity.ERROR if weak else None,
    )


PROVIDER_CREDENTIAL = re.compile(
    r"^(?:EMAIL_HOST|SMTP|MAIL|EMAIL)_?(?:PASSWORD|PASS|PWD)$|^AWS_SECRET_ACCESS_KEY$",
    re.IGNORECASE,
)
"""A credential the app presents to a provider it does not run (the SMTP relay, AWS). With a
literal fallback, a missing variable makes the provider refuse the app: it fails closed, unlike
a SECRET_KEY or a password the app itself checks, which the literal opens."""


def _settings_field_fallbacks(node: ast.ClassDef) -> Iterator[Hit]:
    """pydantic-settings fields: `secret_key: str = "dev"` is a fallback for SECRET_KEY."""
    for stmt in node.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            hit = _fallback_hit(stmt.lineno, stmt.target.id, _field_default(stmt.value))
            if hit:
                yield hit


def _field_default(value: ast.expr | None) -> ast.expr | None:
    """`"x"`, `SecretStr("x")`, `Field("x")`, `Field(default="x")`."""
    if isinstance(value, ast.Call) and dotted(value.func).rsplit(".", 1)[-1] in (
        "Field",
        "SecretStr",
    ):
        return value.args[0] if value.args else keyword(value, "default")
    return value


# --- PR109 -------------------------------------------------------------------------------------

FLASK_CORS_NO_ORIGINS = "no origins"
"""How a flask-cors finding that relies on the app's config says so."""


def _origins_in_config(project: Project, finding: Finding) -> Severity | None:
    """Calibration: flask-cors given no origins reads CORS_ORIGINS from the app's config,
    which is often loaded from a settings module elsewhere (alerta's settings.py through
    `app.config.from_object`). A production module that sets CORS_ORIGINS at top level is that
    config: the extension does not allow every origin."""
    said = f"with {FLASK_CORS_NO_ORIGINS}"
    if not finding.message.startswith("flask-cors") or said not in finding.message:
        return finding.severity
    for rel, summary in project.modules.items():
        if "CORS_ORIGINS" in summary.top_level_names and project.env_of(rel).deployed:
            return None
    return finding.severity


@rule(
    "PR109",
    "cors-allow-all",
    title="CORS allows every origin",
    severity=Severity.WARNING,
    kind=PY,
    why="""
CORS allow-all lets any website's JavaScript read your API's responses from a visitor's
browser. With credentials it is an account-takeover bug: flask-cors, Starlette's
CORSMiddleware and Socket.IO answer a credentialed request by echoing the caller's Origin
(browsers refuse `*` with credentials), so any page the user visits can call your API with
their cookies and read the answer (PortSwigger: "CORS vulnerability with basic origin
reflection"). Without credentials it still exposes anything reachable only from the user's
network (intranet APIs) and makes later cookie auth dangerous by default.
""",
    fix="""List the origins that need access; never combine a wildcard with credentials.
For example `allow_origins=["https://app.example.com"]`.""",
    bad='app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)',
    good=(
        'app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"],\n'
        "                   allow_credentials=True)"
    ),
    calibrate=_origins_in_config,
)
def cors_allow_all(ctx: PyContext) -> Iterable[Hit]:
    yield from _flask_cors(ctx)
    yield from _starlette_cors(ctx)
    yield from _socketio_cors(ctx)
    yield from _django_cors(ctx)


def _with_credentials(line: int, what: str, credentials: bool) -> Hit:
    if credentials:
        return Hit(
            line,
            f"{what}, with credentials: any website can call it as the logged-in user and "
            "read the answer",
            severity=Severity.ERROR,
        )
    return Hit(
        line,
        f"{what}: any website can read its responses in a visitor's browser (without "
        "credentials: only what the API answers anonymously)",
        severity=Severity.INFO,
    )


def _is_wildcard(ctx: PyContext, node: ast.expr | None) -> bool:
    value = literal(module_value(ctx, node))
    return value == "*" or (isinstance(value, list | tuple | set) and "*" in value)


def _is_on(ctx: PyContext, node: ast.expr | None) -> bool:
    return is_true(module_value(ctx, node))


def _flask_cors(ctx: PyContext) -> Iterator[Hit]:
    extensions = names_assigned_from(ctx, "CORS")
    calls = [(c, n) for c, n in ctx.calls_named("CORS") if c.args or c.keywords]
    calls += [
        (c, n)
        for c, n in ctx.calls_named("init_app")
        if isinstance(c.func, ast.Attribute) and dotted(c.func.value) in extensions
    ]  # `cors = CORS()` configures nothing; `cors.init_app(app, origins=...)` does
    for call, callee in calls:
        origins = keyword(call, "origins")
        resources = keyword(call, "resources")
        if origins is not None:
            allow_all = _is_wildcard(ctx, origins)
        elif resources is not None:
            allow_all = _resources_allow_all(resources)
        else:  # flask-cors also reads CORS_ORIGINS from the app's config
            allow_all = not _config_may_set_origins(ctx)
        if allow_all:
            credentials = _is_on(ctx, keyword(call, "supports_credentials"))
            no_origins = origins is None and resources is None
            detail_text = (
                FLASK_CORS_NO_ORIGINS.removeprefix("with ") if no_origins else "origins='*'"
            )
            yield _with_credentials(
                call.lineno, f"flask-cors `{callee}()` with {detail_text}", credentials
            )


def _config_may_set_origins(ctx: PyContext) -> bool:
    return "CORS_ORIGINS" in ctx.source or any(
        name in ctx.calls
        for name in ("from_object", "from_pyfile", "from_envvar", "from_prefixed_env")
    )


def _resources_allow_all(resources: ast.expr) -> bool:
    """`resources={r"/api/*": {"origins": "*"}}`: a resource without origins allows all."""
    value = literal(resources)
    if not isinstance(value, dict):
        return False
    return any(
        not isinstance(options, dict) or options.get("origins", "*") in ("*", ["*"])
        for options in value.values()
    )


def _starlette_cors(ctx: PyContext) -> Iterator[Hit]:
    for call, callee in ctx.calls_named("add_middleware", "Middleware", "CORSMiddleware"):
        if callee.rsplit(".", 1)[-1] != "CORSMiddleware" and not (
            call.args and dotted(call.args[0]).endswith("CORSMiddleware")
        ):
            continue
        origins = keyword(call, "allow_origins")
        regex = str_value(keyword(call, "allow_origin_regex"))
        if _is_wildcard(ctx, origins) or regex in (".*", ".+", "^.*$", "https?://.*"):
            what = (
                "`CORSMiddleware` with allow_origins=['*']"
                if regex is None
                else ("`CORSMiddleware` with an allow_origin_regex matching every origin")
            )
            credentials = _is_on(ctx, keyword(call, "allow_credentials"))
            yield _with_credentials(call.lineno, what, credentials)


def _socketio_cors(ctx: PyContext) -> Iterator[Hit]:
    if "cors_allowed_origins" not in ctx.source:
        return
    for node in ctx.nodes(ast.keyword):
        if node.arg == "cors_allowed_origins" and _is_wildcard(ctx, node.value):  # type: ignore[attr-defined]
            call = ctx.parent(node)
            setting = keyword(call, "cors_credentials") if isinstance(call, ast.Call) else None
            what = "Socket.IO cors_allowed_origins='*'"
            if setting is None:
                what += " (cors_credentials defaults to True)"
            yield _with_credentials(node.lineno, what, not is_false(setting))  # type: ignore[attr-defined]


def _django_cors(ctx: PyContext) -> Iterator[Hit]:
    allow_all: list[tuple[str, ast.stmt]] = []
    credentials = False
    for name, value, stmt in module_assignments(ctx):
        if name in ("CORS_ALLOW_ALL_ORIGINS", "CORS_ORIGIN_ALLOW_ALL") and is_true(value):
            allow_all.append((name, stmt))
        elif name == "CORS_ALLOW_CREDENTIALS" and is_true(value):
            credentials = True
        elif name == "CORS_URLS_REGEX" and str_value(value) not in (None, r"^.*$", ".*"):
            return  # CORS applies only to the URLs it matches (one public endpoint, say)
    for name, stmt in allow_all:
        yield _with_credentials(stmt.lineno, f"django-cors-headers `{name} = True`", credentials)


# --- PR119 -------------------------------------------------------------------------------------


@rule(
    "PR119",
    "credentials-in-url-literal",
    title="Password inside a database/cache URL in code",
    severity=Severity.ERROR,
    kind=PY,
    why="""
A connection URL such as `postgresql://app:s3cret@db/app` written in the code carries the
database password into the repository, every image built from it, and every traceback or
log line that prints the URL (SQLAlchemy's engine repr hides it, most others do not).
It also pins one password for every environment, so rotating it needs a deploy.
""",
    fix="""Read the URL (or its password) from the environment, and rotate the leaked password.
`create_engine(os.environ["DATABASE_URL"])`.""",
    bad='engine = create_engine("postgresql://shop:hunter2@db:5432/shop")',
    good='engine = create_engine(os.environ["DATABASE_URL"])',
)
def credentials_in_url_literal(ctx: PyContext) -> Iterable[Hit]:
    if not CREDENTIAL_IN_SOURCE.search(ctx.source):
        return
    names = imported_names(ctx)
    for node in ctx.nodes(ast.Constant):
        value = node.value  # type: ignore[attr-defined]
        if not isinstance(value, str) or "://" not in value or "@" not in value:
            continue
        url = url_credentials(value)
        if url is None or _is_docstring_or_fallback(ctx, node, names) or _replaced(ctx, node):
            continue
        yield Hit(
            node.lineno,  # type: ignore[attr-defined]
            f"{url.scheme} URL for {url.host} contains a literal password{detail(url.judgement)}",
            setting=ctx.module_setting(node),
        )


def _replaced(ctx: PyContext, node: ast.AST) -> bool:
    """`url.replace("postgresql://user:pass@", ...)`: a pattern to find, not a credential."""
    parent = ctx.parent(node)
    return (
        isinstance(parent, ast.Call)
        and isinstance(parent.func, ast.Attribute)
        and parent.func.attr in ("replace", "startswith", "removeprefix", "split", "sub")
        and node in parent.args
    )


HELP_KEYWORDS = frozenset({"help", "description", "metavar", "placeholder"})


def _is_docstring_or_fallback(ctx: PyContext, node: ast.AST, names: dict[str, str]) -> bool:
    """Docstrings and the help text of an option (`typer.Argument(help="postgresql://user:
    password@host/db")`) are documentation; `os.getenv("DATABASE_URL", "<url>")` is PR108's
    finding."""
    parent = ctx.parent(node)
    if isinstance(parent, ast.Expr):
        return True
    if isinstance(parent, ast.keyword):
        if parent.arg in HELP_KEYWORDS:
            return True
        parent = ctx.parent(parent)
    if isinstance(parent, ast.Call):
        read = env_read(parent, names)
        return read is not None and read.default is node
    return False


# --- PR120 -------------------------------------------------------------------------------------


def _unless_imported_once(project: Project, finding: Finding) -> Severity | None:
    """Calibration: a key made at import time is one key for every worker when each
    production server imports the app once and then forks (gunicorn --preload, wger's
    entrypoint) or runs a single process (`manage.py runserver`)."""
    servers = production_servers(project)
    if servers and all(_imports_once(project, served) for served in servers):
        return None
    return finding.severity


def _imports_once(project: Project, served: Served) -> bool:
    if served.server.program == "manage.py":
        return True
    setup = gunicorn_setup(project, served)
    found = setup.setting("preload_app") if setup else None
    return found is not None and found[0] is True


RANDOM_SOURCES = frozenset(
    {
        "random.SystemRandom",
        "random.choice",
        "random.choices",
        "django.utils.crypto.get_random_string",
        "secrets.token_hex",
        "secrets.token_urlsafe",
        "secrets.token_bytes",
        "os.urandom",
        "uuid.uuid4",
        "django.core.management.utils.get_random_secret_key",
        "cryptography.fernet.Fernet.generate_key",
    }
)


RANDOM_CALL_NAMES = tuple({name.rsplit(".", 1)[-1] for name in RANDOM_SOURCES})


@rule(
    "PR120",
    "secret-generated-per-process",
    title="Signing secret generated at import time (different in every worker)",
    severity=Severity.WARNING,
    kind=PY,
    why="""
`app.secret_key = os.urandom(24)` or `SECRET_KEY: str = secrets.token_urlsafe(32)` makes a new
key each time the module is imported, which is once per Gunicorn worker and again on every
restart or deploy. A session cookie, CSRF token or JWT signed by one worker is rejected by the
others (users are logged out at random, forms fail with CSRF errors behind a load balancer),
and everyone is logged out on each deploy. With a fallback (`os.getenv("SECRET_KEY") or
secrets.token_hex()`) it only happens when the variable is missing, which hides the cause.
""",
    fix="""Generate the key once, store it as a secret, read it from the environment.
`SECRET_KEY = os.environ["SECRET_KEY"]`: every worker and every restart then agree.""",
    bad="app.secret_key = os.urandom(24)",
    good='app.secret_key = os.environ["FLASK_SECRET_KEY"]',
    severity_note="not reported when every production server imports the app once before it "
    "forks its workers (gunicorn --preload) or runs one process (runserver)",
    calibrate=_unless_imported_once,
)
def secret_generated_per_process(ctx: PyContext) -> Iterable[Hit]:
    if by_name(ctx.rel, FileKind.PYTHON).env == Environment.ONE_SHOT:
        return  # a management command's process is its own: no workers to disagree
    names = imported_names(ctx)
    for call, callee in ctx.calls_named(*RANDOM_CALL_NAMES):
        if qualify(names, callee) not in RANDOM_SOURCES:
            continue
        owner = _secret_owner(ctx, call)
        if owner and ctx.at_import_time(owner[0]):
            yield Hit(
                owner[0].lineno,  # type: ignore[attr-defined]
                f"`{owner[1]}` comes from `{callee}()` at import time: every worker process "
                "gets a different key",
            )


def _secret_owner(ctx: PyContext, call: ast.Call) -> tuple[ast.AST, str] | None:
    """The assignment or keyword argument with a secret name that the random value feeds."""
    for ancestor in ctx.ancestors(call):
        if isinstance(ancestor, ast.keyword):
            return (ancestor, ancestor.arg) if ancestor.arg and holds_secret(ancestor.arg) else None
        if isinstance(ancestor, ast.Assign | ast.AnnAssign):
            targets = ancestor.targets if isinstance(ancestor, ast.Assign) else [ancestor.target]
            for target in targets:
                name = _target_name(target)
                if name and holds_secret(name):
                    return ancestor, name
            return None
        if isinstance(ancestor, ast.stmt):
            return None
    return None

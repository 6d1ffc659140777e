"""Rules for `.env` files (PR701-PR749), read with python-dotenv's own parser.

Example files (`.env.example`, `.env.sample` ...) are development-only: only rules with
dev_files=True look at them. No message ever contains a value: it may be a real secret."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from prodready import secretstrength
from prodready.check.context import FileContext
from prodready.check.memo import once_per_project
from prodready.check.model import Hit, Severity
from prodready.check.registry import rule
from prodready.check.rules._common import is_secret_setting, leak, url_password_judgement
from prodready.project.files import ENV_EXAMPLE
from prodready.project.model import FileKind, Project
from prodready.project.parsers.envfile import EnvFile
from prodready.secretstrength import Verdict


def _env(ctx: FileContext) -> EnvFile:
    return ctx.parsed


def _is_reference(value: str) -> bool:
    """`${OTHER}`: python-dotenv expands it, the value is not written here."""
    return "${" in value


OPTIONAL_SECRET = re.compile(r"(?:^|_)DSN$|_FALLBACKS$", re.IGNORECASE)
"""Empty by design when unused: SENTRY_DSN= turns error reporting off, Django's
SECRET_KEY_FALLBACKS= means no retired keys."""


# --- PR701 -------------------------------------------------------------------------------------


@once_per_project
def _placeholders_the_app_checks(project: Project) -> frozenset[str]:
    """Placeholder values the app's own code compares settings with (the FastAPI template:
    `if value == "changethis": raise ValueError(...)` outside development; paperless-ngx's
    settings refuse `change-me`): the message can then say what happens with it."""
    known: set[str] = set()
    for summary in project.modules.values():
        known |= summary.compared_strings
    return frozenset(
        value
        for value in known
        if secretstrength.judge(value, "SECRET_KEY").verdict == Verdict.PLACEHOLDER
        or secretstrength.judge(value, "SECRET_KEY").is_problem
    )


@rule(
    "PR701",
    "env-weak-secret",
    title="Weak, default or empty secret in a .env file",
    severity=Severity.ERROR,
    kind=FileKind.ENV,
    why="""
A `.env` file is what the app reads in production. A secret there that is a known default
(changeme, secret, postgres), a dictionary word or short enough to guess lets anyone forge
session cookies and password-reset tokens (SECRET_KEY), call paid APIs, or log in to the
database. An empty one usually means the app falls back to a built-in default or signs
with an empty key. Strength is judged by meaning (known defaults, zxcvbn), not entropy.
""",
    fix='Generate one: python -c "import secrets; print(secrets.token_urlsafe(50))"',
    bad="SECRET_KEY=changeme\nDB_PASSWORD=",
    good="SECRET_KEY=Yk3v9Xq7mR2pL8sT4wZ6nB1cD5fG0hJ9kM3qV7xA2eE\nDB_PASSWORD=Tq8-ZmL2vR9x-Kp4W",
)
def env_weak_secret(ctx: FileContext) -> Iterator[Hit]:
    refused = _placeholders_the_app_checks(ctx.project)
    for var in _env(ctx).variables:
        if not is_secret_setting(var.name) or _is_reference(var.value):
            continue
        if "://" in var.value:
            continue  # a DSN or URL: PR704 judges its password
        judgement = secretstrength.judge(var.value, var.name)
        if judgement.verdict == Verdict.EMPTY:
            if not OPTIONAL_SECRET.search(var.name):
                yield Hit(var.line, f"{var.name} is empty", severity=Severity.WARNING)
        elif var.value in refused:
            yield Hit(
                var.line,
                f"{var.name} is a placeholder the app's own code checks for: a service started"
                " with this file refuses to start, or warns and runs with a publicly known value",
            )
        elif judgement.is_problem or judgement.verdict == Verdict.PLACEHOLDER:
            yield Hit(var.line, f"{var.name} {leak(judgement)}")


# --- PR702 -------------------------------------------------------------------------------------

PRODUCTION_ENV_NAMES = frozenset(
    {".env", ".env.production", ".env.prod", "production.env", "prod.env"}
)
DEBUG_FLAGS = frozenset({"DEBUG", "DJANGO_DEBUG", "FLASK_DEBUG", "APP_DEBUG", "QUART_DEBUG"})
ENVIRONMENT_NAMES = frozenset(
    {"FLASK_ENV", "APP_ENV", "ENVIRONMENT", "ENV", "DJANGO_ENV", "APP_ENVIRONMENT", "RUN_ENV"}
)
TRUTHY = frozenset({"1", "true", "yes", "on", "y", "t"})
DEVELOPMENT = frozenset({"development", "dev", "develop", "local", "debug"})


@rule(
    "PR702",
    "env-debug-on",
    title="Debug mode or development environment in a production .env",
    severity=Severity.WARNING,
    kind=FileKind.ENV,
    why="""
DEBUG=True in Django prints settings, SQL and stack traces to anyone who triggers an error;
Flask's debugger (FLASK_DEBUG=1) is an interactive Python console in the browser: remote
code execution behind a PIN. FLASK_ENV/APP_ENV=development also switches frameworks and
settings modules to development defaults (reloader, verbose errors, relaxed security).
""",
    fix="DEBUG=False (or remove it) and APP_ENV=production in the production .env.",
    bad="DEBUG=True\nFLASK_ENV=development",
    good="DEBUG=False\nFLASK_ENV=production",
)
def env_debug_on(ctx: FileContext) -> Iterator[Hit]:
    if ctx.rel.rsplit("/", 1)[-1].lower() not in PRODUCTION_ENV_NAMES:
        return
    for var in _env(ctx).variables:
        value = var.value.strip().lower()
        name = var.name.upper()
        if name in DEBUG_FLAGS and value in TRUTHY:
            yield Hit(var.line, f"{var.name} is on in a production env file")
        elif name in ENVIRONMENT_NAMES and value in DEVELOPMENT:
            yield Hit(var.line, f"{var.name}={var.value.strip()} in a production env file")


# --- PR703 -------------------------------------------------------------------------------------


@rule(
    "PR703",
    "env-duplicate-key",
    title="Variable set twice in a .env file",
    severity=Severity.WARNING,
    kind=FileKind.ENV,
    why="""
python-dotenv, Docker Compose's env_file and `set -a; . .env` all let the later line win,
silently. Editing the first occurrence (the one people find) then has no effect, and two
people reading the file disagree about which value production uses.
""",
    fix="Keep one assignment per variable; delete the other.",
    bad="DATABASE_URL=postgresql://db/app\nDATABASE_URL=postgresql://db/app_v2",
    good="DATABASE_URL=postgresql://db/app_v2",
    dev_files=True,
)
def env_duplicate_key(ctx: FileContext) -> Iterator[Hit]:
    first: dict[str, int] = {}
    for var in _env(ctx).variables:
        if var.name in first:
            yield Hit(
                var.line,
                f"{var.name} is already set on line {first[var.name]}; this later value wins",
            )
        else:
            first[var.name] = var.line


# --- PR704 -------------------------------------------------------------------------------------


@rule(
    "PR704",
    "env-weak-url-credentials",
    title="Database or cache URL with weak credentials",
    severity=Severity.ERROR,
    kind=FileKind.ENV,
    why="""
`postgresql://postgres:postgres@db/app` is the first thing tried against an exposed
PostgreSQL, MySQL, Redis or RabbitMQ port: automated scanners log in within minutes, read or
encrypt the data and leave a ransom note (the 2017-2020 MongoDB, Redis and PostgreSQL waves).
The password in a URL deserves the same strength as any other secret.
""",
    fix="Use a generated password (secrets.token_urlsafe(32)) for the database user.",
    bad="DATABASE_URL=postgresql://postgres:postgres@db:5432/app",
    good="DATABASE_URL=postgresql://app:Vq7x-Rt2m-Lp9k-Wz4n@db:5432/app",
)
def env_weak_url_credentials(ctx: FileContext) -> Iterator[Hit]:
    for var in _env(ctx).variables:
        if _is_reference(var.value) or "://" not in var.value:
            continue
        found = url_password_judgement(var.value)
        if found and found[1].is_problem:
            scheme, judgement = found
            yield Hit(var.line, f"{var.name}: the {scheme} password {judgement.reason}")


# --- PR705 -------------------------------------------------------------------------------------

EXAMPLE_MARKERS = (
    "example",
    "insecure",
    "dummy",
    "sample",
    "fake",
    "test",
    "local",
    "dev",
    "demo",
    "not-a-real",
    "change",
    "replace",
    "your",
    "generate",
    "placeholder",
    "redacted",
    "secret",
    "password",
)
"""Words of an instruction or a stand-in (please-change-me, your-key-here, supersecretpassword)."""
REPEATED = re.compile(r"(.)\1{3,}")
"""A run of one character: sk_live_xxxxxxxx, SG.xxxx.yyyy."""
PHRASE = re.compile(r"^[A-Za-z]+(?:[-_. ][A-Za-z]+){2,}$")
"""Three or more words (use-a-long-random-string): a description, not random."""
REAL_SECRET_MIN_LENGTH = 16


def _looks_real(value: str, name: str) -> bool:
    lowered = value.lower()
    if len(value) < REAL_SECRET_MIN_LENGTH or any(m in lowered for m in EXAMPLE_MARKERS):
        return False
    if REPEATED.search(value) or PHRASE.match(value):
        return False
    return secretstrength.judge(value, name).verdict == Verdict.STRONG


@rule(
    "PR705",
    "env-example-real-secret",
    title="Example env file contains what looks like a real secret",
    severity=Severity.WARNING,
    kind=FileKind.ENV,
    why="""
`.env.example` is committed on purpose, so whatever it holds is public to everyone with the
repository (and forever in its history). It should carry placeholders (`SECRET_KEY=change-me`,
`<your-key>`); a strong, random-looking value there is usually a real key pasted from a
working .env. Rotate it: removing it from the file does not remove it from git history.
""",
    fix="Replace the value with a placeholder, and rotate the secret.",
    bad="STRIPE_API_KEY=sk_live_51HqLyjWDarjtT1zdp7dcXzQ9m4kR2vBn",
    good="STRIPE_API_KEY=<your-stripe-key>",
    dev_files=True,
)
def env_example_real_secret(ctx: FileContext) -> Iterator[Hit]:
    if not ENV_EXAMPLE.search(ctx.rel.rsplit("/", 1)[-1]):
        return  # .env.development and .env.local are usually not committed; examples are
    for var in _env(ctx).variables:
        if _is_reference(var.value):
            continue
        if "://" in var.value:
            found = url_password_judgement(var.value)
            password = urlsplit(var.value).password if found else None
            if password and found and _looks_real(password, ""):
                yield Hit(var.line, f"{var.name} carries a URL with a real-looking password")
        elif is_secret_setting(var.name) and _looks_real(var.value, var.name):
            yield Hit(var.line, f"{var.name} looks like a real secret, not a placeholder")

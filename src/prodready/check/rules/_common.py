"""Judging secrets written into deployment files, shared by the Dockerfile, compose, systemd and
.env rules. No function here returns or formats a value: it may be a real secret."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from prodready.check.context import FileContext
from prodready.check.model import Hit
from prodready.project.parsers.dockerfile import Dockerfile
from prodready.secretstrength import Judgement, Verdict, is_secret_name, judge

CREDENTIAL_SCHEMES = frozenset(
    {
        "postgres",
        "postgresql",
        "mysql",
        "mariadb",
        "mssql",
        "oracle",
        "redis",
        "rediss",
        "valkey",
        "mongodb",
        "mongodb+srv",
        "amqp",
        "amqps",
        "kafka",
        "memcached",
    }
)


SETTING_ABOUT_A_SECRET = re.compile(
    r"_(?:TIMEOUT|LIFETIME|AGE|EXPIR\w*|SECONDS|MINUTES|HOURS|DAYS|DELTA|INTERVAL|PERIOD|"
    r"ROTATION|ENABLED?|DISABLED?|REQUIRED|TYPE|HASHERS?|BACKEND|CLASS|VALIDATORS?|ENDPOINT|"
    r"URI|URL|PREFIX|ID|VERSION|LEN|RETRIES|ATTEMPTS|COUNT|LIMIT|SIZE|MAX|MIN)$"
    r"|(?:^|_)(?:RANDOM|ALLOW_EMPTY)_"
    r"|(?:^|_)(?:UWSGI|PROXY|FASTCGI|GRPC|SCGI)_PASS$",
    re.IGNORECASE,
)
"""Names that configure how a secret is handled, not the secret itself: PASSWORD_RESET_TIMEOUT,
TOKEN_LIFETIME, JWT_SECRET_ROTATION_DAYS, API_KEY_ENABLED, PASSWORD_HASHER, TOKEN_TYPE,
MYSQL_RANDOM_ROOT_PASSWORD=yes, and nginx upstreams (DD_UWSGI_PASS=uwsgi_server: uwsgi_pass)."""


def is_secret_setting(name: str) -> bool:
    """A variable that holds a secret (is_secret_name), not a setting about one."""
    return is_secret_name(name) and not SETTING_ABOUT_A_SECRET.search(name)


def literal_secret(name: str, value: str | None) -> Judgement | None:
    """The judgement of a secret written literally as NAME=value, or None when there is none
    to judge: not a secret's name (is_secret_setting), no value, a `$` reference, a URL
    (TOKEN_URL=https://auth.example.com/token names an endpoint; a password
    inside a URL is judged as the URL's)."""
    if value is None or not value.strip() or "$" in value or not is_secret_setting(name):
        return None
    if "://" in value:
        return None
    return written_secret(value, name)


def written_secret(value: str, name: str = "") -> Judgement | None:
    """judge() of a value known to be a secret, or None for an empty one. A placeholder is
    judged too: in a production file it is the value the service runs with."""
    judgement = judge(value, name)
    return None if judgement.verdict == Verdict.EMPTY else judgement


def leak(judgement: Judgement) -> str:
    """What a literal secret in a production file is, by leakage rather than strength: a
    placeholder (the service runs with a value anyone can read, or fails to start), a known or
    weak value, or a real-looking credential that every reader of the repository now has."""
    if judgement.verdict == Verdict.PLACEHOLDER:
        return (
            "is a placeholder, not a secret: production runs with this publicly known value "
            "(or fails to start)"
        )
    if judgement.verdict == Verdict.STRONG:
        return "is a real-looking credential committed in the file: rotate it"
    return judgement.reason


def url_password_judgement(value: str) -> tuple[str, Judgement] | None:
    """For a database/cache/broker URL with a password: (scheme, judgement of the password),
    the user name counting as a known default (`postgres:postgres`, `app:app`)."""
    try:
        parts = urlsplit(value.strip())
        password = parts.password
        user = parts.username or ""
    except ValueError:
        return None
    scheme = parts.scheme.lower().split("+")[0]
    if scheme not in CREDENTIAL_SCHEMES and parts.scheme.lower() not in CREDENTIAL_SCHEMES:
        return None
    if not password:
        return None
    return scheme, judge(password, user)


def url_secret(value: str) -> tuple[str, Judgement] | None:
    """url_password_judgement(), or None when the URL's password is empty."""
    found = url_password_judgement(value)
    if found is None or found[1].verdict == Verdict.EMPTY:
        return None
    return found


TRUTHY = frozenset({"1", "true", "yes", "on", "y", "t"})


def debug_setting(name: str, value: str) -> str | None:
    """Why NAME=value turns on a development mode, or None (Dockerfile ENV, compose
    environment:)."""
    upper, lowered = name.upper(), value.strip().strip("'\"").lower()
    if upper in ("FLASK_DEBUG", "DEBUG", "DJANGO_DEBUG", "APP_DEBUG") and lowered in TRUTHY:
        return f"{name}={value} turns on debug mode (interactive tracebacks, reloader)"
    if upper == "FLASK_ENV" and lowered == "development":
        return f"{name}={value} turns on Flask's debug mode"
    if upper == "PYTHONDEVMODE" and lowered:
        return f"{name}={value} turns on Python's development mode (extra checks, slower)"
    return None


def env_file_secrets(variables: Iterable[tuple[str, str]], *, real_only: bool = False) -> list[str]:
    """The names of an env file's variables that hold a real secret: a literal under a
    secret's name, or a connection URL with a password; placeholders and empty values are not
    (`VITE_API_URL=https://api.example.com` is configuration, not a secret). With
    `real_only`, only real-looking credentials count, not known or weak values (`SECRET_KEY=dev`
    in a development file protects nothing and leaks nothing)."""
    names = []
    for name, value in variables:
        if "://" in value:
            found = url_secret(value)
            judgement = found[1] if found else None
        else:
            judgement = literal_secret(name, value)
        if judgement is None or judgement.verdict == Verdict.PLACEHOLDER:
            continue
        if not real_only or judgement.verdict == Verdict.STRONG:
            names.append(name)
    return names


def target_python(project: object) -> tuple[int, int] | None:
    """The (major, minor) Python the project targets (requires-python, .python-version, the
    Dockerfile's FROM), or None when it does not say."""
    version = getattr(project, "python_version", None) or ""
    major, _, minor = version.partition(".")
    return (int(major), int(minor)) if major.isdigit() and minor.isdigit() else None


def parsed_dockerfile(ctx: FileContext) -> Dockerfile | None:
    parsed = ctx.parsed
    return parsed if isinstance(parsed, Dockerfile) and parsed.stages else None


def on_dockerfile(
    check: Callable[[FileContext, Dockerfile], Iterable[Hit]],
) -> Callable[[FileContext], Iterable[Hit]]:
    """A rule over the parsed Dockerfile: nothing is checked in one without a stage."""

    @functools.wraps(check)
    def run(ctx: FileContext) -> Iterable[Hit]:
        dockerfile = parsed_dockerfile(ctx)
        return () if dockerfile is None else check(ctx, dockerfile)

    return run

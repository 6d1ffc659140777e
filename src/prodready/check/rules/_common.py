"""Judging secrets written into deployment files, shared by the Dockerfile, compose, systemd and
.env rules. No function here returns or formats a value: it may be a real secret."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

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
    r"|(?:^|_)(?:RANDOM|ALLOW_EMPTY)_",
    re.IGNORECASE,
)
"""Names that configure how a secret is handled, not the secret itself: PASSWORD_RESET_TIMEOUT,
TOKEN_LIFETIME, JWT_SECRET_ROTATION_DAYS, API_KEY_ENABLED, PASSWORD_HASHER, TOKEN_TYPE,
MYSQL_RANDOM_ROOT_PASSWORD=yes."""


def is_secret_setting(name: str) -> bool:
    """A variable that holds a secret (is_secret_name), not a setting about one."""
    return is_secret_name(name) and not SETTING_ABOUT_A_SECRET.search(name)


def literal_secret(name: str, value: str | None) -> Judgement | None:
    """The judgement of a secret written literally as NAME=value, or None when there is none
    to judge: not a secret's name (is_secret_setting), no value, a `$` reference, a
    placeholder, a URL (TOKEN_URL=https://auth.example.com/token names an endpoint; a password
    inside a URL is judged as the URL's)."""
    if value is None or not value.strip() or "$" in value or not is_secret_setting(name):
        return None
    if "://" in value:
        return None
    return written_secret(value, name)


def written_secret(value: str, name: str = "") -> Judgement | None:
    """judge() of a value known to be a secret, or None for a placeholder or an empty one."""
    judgement = judge(value, name)
    return None if judgement.verdict in (Verdict.PLACEHOLDER, Verdict.EMPTY) else judgement


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
    """url_password_judgement(), or None when the URL's password is a placeholder."""
    found = url_password_judgement(value)
    if found is None or found[1].verdict in (Verdict.PLACEHOLDER, Verdict.EMPTY):
        return None
    return found


TRUTHY = frozenset({"1", "true", "yes", "on", "y", "t"})


def debug_setting(name: str, value: str) -> str | None:
    """Why NAME=value turns on a development mode, or None (Dockerfile ENV, compose
    environment:)."""
    """Why NAME=value turns on a development mode, or None. Shared with the compose rules."""
    upper, lowered = name.upper(), value.strip().strip("'\"").lower()
    if upper in ("FLASK_DEBUG", "DEBUG", "DJANGO_DEBUG", "APP_DEBUG") and lowered in TRUTHY:
        return f"{name}={value} turns on debug mode (interactive tracebacks, reloader)"
    if upper == "FLASK_ENV" and lowered == "development":
        return f"{name}={value} turns on Flask's debug mode"
    if upper == "PYTHONDEVMODE" and lowered:
        return f"{name}={value} turns on Python's development mode (extra checks, slower)"
    return None

"""Judges secrets by meaning, not entropy: known defaults, placeholders and weak passwords.

Shared by `prodready check` (compose, .env, Dockerfile, URL rules) and
`prodready.runtime.settings` (refusing to start with a weak secret), so both say the same thing.
Leaf module: imports nothing from prodready, and zxcvbn only when a value must be scored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

SECRET_NAME = re.compile(
    r"(?:^|_|-|\b)(pass(?:word|wd)?|pwd|secret|token|api_?key|private_?key|"
    r"credential|auth_?key|signing_?key|session_?key|salt|dsn)(?:$|_|-|\b)",
    re.IGNORECASE,
)
"""Names that hold a secret: DB_PASSWORD, SECRET_KEY, API_TOKEN, JWT_SECRET, ..."""

NOT_SECRET_NAME = re.compile(
    r"(_FILE|_PATH|_DIR|_URL_FILE|_LENGTH|_MIN_LENGTH|_ALGORITHM|_EXPIRE\w*|_TTL|_HEADER|_NAME|_USER)$",
    re.IGNORECASE,
)

KNOWN_DEFAULTS = frozenset(
    {
        "admin",
        "administrator",
        "password",
        "passw0rd",
        "p@ssw0rd",
        "password1",
        "password123",
        "changeme",
        "change_me",
        "change-me",
        "changethis",
        "secret",
        "secretkey",
        "secret_key",
        "mysecret",
        "supersecret",
        "super_secret",
        "postgres",
        "postgresql",
        "root",
        "toor",
        "mysql",
        "redis",
        "guest",
        "test",
        "testing",
        "default",
        "qwerty",
        "letmein",
        "welcome",
        "123456",
        "12345678",
        "1234",
        "pass",
        "user",
        "example",
        "dev",
        "development",
        "django",
        "flask",
        "fastapi",
        "app",
        "sa",
        "oracle",
        "mongo",
        "mongodb",
        "rabbitmq",
        "minio",
        "minioadmin",
        "insecure",
        "notsecret",
        "not-secret",
        "keyboard cat",
        "s3cr3t",
        "s3cret",
    }
)

TUTORIAL_KEYS = frozenset(
    {
        "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7",  # FastAPI OAuth2 JWT
        "you-will-never-guess",  # the Flask Mega-Tutorial
        "hard to guess string",  # Flask Web Development
        "super-secret",  # Flask-JWT-Extended
        "a-very-secret-key",
        "secret-key",
        "my-secret-key",
        "mysecretkey",
        "thisisasecret",
        "thisisasecretkey",
        "supersecretkey",
        "dev-secret",
        "dev-secret-key",
        "development-key",
        "default-secret-key",
        "insecure-secret-key",
        "jwt-secret",
        "my-jwt-secret",
        "secret123",
    }
)
"""Keys copied from tutorials and framework docs: strong by zxcvbn's measure, public all the
same. Compared in lower case."""

PLACEHOLDER = re.compile(
    r"^(<.*>|\$\{.*\}|\{\{.*\}\}|x{3,}|\*{3,}|\.{3,}|your[-_ ]?[\w-]*|replace[-_ ]?me[\w-]*|"
    r"change[-_ ]?me[-_ ]\S*|todo|tbd|fixme|placeholder|generate[-_ ]?\w*|set[-_ ]?me|none|null|"
    r"changeme_in_production)$",
    re.IGNORECASE,
)
"""Values that say 'fill me in' rather than being a real secret."""

ZXCVBN_MAX_LENGTH = 72

MIN_SCORE = 3
"""zxcvbn score (0..4) a secret must reach. 3 is 'safely unguessable: moderate protection'."""


class Verdict(StrEnum):
    STRONG = "strong"
    EMPTY = "empty"
    PLACEHOLDER = "placeholder"
    DEFAULT = "default"
    WEAK = "weak"


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reason: str

    @property
    def is_problem(self) -> bool:
        return self.verdict in (Verdict.DEFAULT, Verdict.WEAK, Verdict.EMPTY)


PROVIDER_TOKEN = re.compile(
    r"(?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{22,}"
    r"|glpat-[\w-]{20,}|xox[abprs]-[A-Za-z0-9-]{20,}|[sr]k_live_[A-Za-z0-9]{16,}"
    r"|AIza[\w-]{35}|SG\.[\w-]{16,}\.[\w-]{16,}|sk-(?:proj-|ant-)?[\w-]{32,}"
    r"|npm_[A-Za-z0-9]{36}|pypi-[\w-]{50,}|-----BEGIN [A-Z ]*PRIVATE KEY-----"
)
"""Credentials of an outside service, by their published formats (AWS, GitHub, GitLab, Slack,
Stripe, Google, SendGrid, OpenAI/Anthropic, npm, PyPI, PEM keys): a leak wherever they are
written, even in a throwaway test setup."""


def is_provider_token(value: str) -> bool:
    return PROVIDER_TOKEN.search(value) is not None


PROVIDER_PREFIX = re.compile(
    r"^(?:AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|xox[abprs]-|[sr]k_live_|AIza|SG\.|sk-|npm_|pypi-)"
)


def is_dummy_provider_token(value: str) -> bool:
    """A provider's prefix on a value too short for that provider's format (`xoxb-valid`,
    `sk-test`): a stand-in written for a test or a disabled integration, not a credential."""
    return PROVIDER_PREFIX.match(value) is not None and not is_provider_token(value)


def is_secret_name(name: str) -> bool:
    """True for variable names that conventionally hold secrets (DB_PASSWORD, SECRET_KEY ...)."""
    return bool(SECRET_NAME.search(name)) and not NOT_SECRET_NAME.search(name)


def is_placeholder(value: str) -> bool:
    return bool(PLACEHOLDER.match(value.strip()))


@lru_cache(maxsize=4096)
def judge(value: str, name: str = "") -> Judgement:
    """Judges one secret value. Never include the value in the reason: it may be real."""
    stripped = value.strip().strip("'\"")
    if not stripped:
        return Judgement(Verdict.EMPTY, "is empty")
    if is_placeholder(stripped):
        return Judgement(Verdict.PLACEHOLDER, "is a placeholder")
    lowered = stripped.lower()
    if lowered in TUTORIAL_KEYS:
        return Judgement(Verdict.DEFAULT, "is a well-known key from a tutorial")
    if lowered in KNOWN_DEFAULTS:
        return Judgement(Verdict.DEFAULT, "is a well-known default password")
    if lowered == name.lower():
        return Judgement(Verdict.DEFAULT, "equals its user or variable name")
    score = _zxcvbn_score(stripped)
    if score < MIN_SCORE:
        return Judgement(
            Verdict.WEAK, f"is weak (zxcvbn score {score}/4, needs at least {MIN_SCORE})"
        )
    return Judgement(Verdict.STRONG, "is strong")


def _zxcvbn_score(value: str) -> int:
    from zxcvbn import zxcvbn  # heavy: imported only when a value needs scoring

    # zxcvbn refuses values over 72 characters (bcrypt's limit), and that many is plenty to
    # judge strength: a longer value is judged by its first 72.
    return int(zxcvbn(value[:ZXCVBN_MAX_LENGTH])["score"])

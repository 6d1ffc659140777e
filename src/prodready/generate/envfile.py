""".env.production.example: every variable the app reads, found statically, plus those the
deployment itself needs, with strong random values where a secret goes."""

from __future__ import annotations

import re
import secrets

from prodready.generate.artifact import Kind, Rendered
from prodready.generate.context import DeployContext

PATH = ".env.production.example"
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|(^|_)KEY($|_)|SALT|PEPPER", re.IGNORECASE)
DATABASE_NAME = re.compile(r"DATABASE_URL|DB_URL|POSTGRES_URL|_DSN$|DATABASE_URI", re.IGNORECASE)
REDIS_NAME = re.compile(r"REDIS_URL|CACHE_URL|BROKER_URL|REDIS_DSN", re.IGNORECASE)
PLACEHOLDER = "# placeholder, generated for this file: replace it (this file is committed)"
PLACEHOLDER_PREFIX = "example-"
"""Marks a generated value as an example: strong, but public once the file is committed."""
UNKNOWN = "(no value known: set it if the app's default does not fit)"
"""An empty value would override the app's own default, so unknown ones stay commented out."""
HEADER = """\
# {name}: production settings, written by `prodready init`. Copy to .env.production (compose)
# or /etc/{name}/env (systemd), fill in every empty value and replace every placeholder.
# Never commit the filled-in copy. Draw a secret:
#   python -c "import secrets; print(secrets.token_urlsafe(48))"
# Hosts are the compose service names; under systemd use the real hosts instead.
"""


def render_envfile(ctx: DeployContext) -> list[Rendered]:
    database_password = _secret()
    entries: list[tuple[str, str, str]] = []
    for name, where in ctx.env_vars.items():
        comment, value = _value_for(ctx, name, database_password)
        entries.append((name, f"# read at {where}{comment}", value))
    if ctx.postgres:
        entries += [
            ("POSTGRES_USER", "# for the postgres service", "app"),
            ("POSTGRES_DB", "# for the postgres service", "app"),
            ("POSTGRES_PASSWORD", f"# for the postgres service\n{PLACEHOLDER}", database_password),
        ]
    lines = [HEADER.format(name=ctx.name)]
    seen: set[str] = set()
    for name, comment, value in entries:
        if name not in seen:
            seen.add(name)
            assignment = f"{name}={value}" if value else f"# {name}=  {UNKNOWN}"
            lines.append(f"{comment}\n{assignment}\n")
    return [Rendered(Kind.ENV, PATH, "\n".join(lines), values_vary=True)]


def _value_for(ctx: DeployContext, name: str, database_password: str) -> tuple[str, str]:
    if DATABASE_NAME.search(name) and ctx.postgres:
        return f"\n{PLACEHOLDER}", f"postgresql://app:{database_password}@postgres:5432/app"
    if REDIS_NAME.search(name) and ctx.redis:
        return "", "redis://redis:6379/0"
    if SECRET_NAME.search(name):
        return f"\n{PLACEHOLDER}", _secret()
    if name.upper() in ("DEBUG", "FLASK_DEBUG", "DJANGO_DEBUG"):
        return "", "false"
    if "ALLOWED_HOSTS" in name.upper():
        return "", ctx.server_name
    return "", ""


def _secret() -> str:
    return PLACEHOLDER_PREFIX + secrets.token_urlsafe(48)

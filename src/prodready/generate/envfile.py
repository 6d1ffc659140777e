""".env.production.example: every variable the app reads, found statically, plus those the
deployment itself needs. Secrets get an obvious placeholder and, for those the app draws itself,
the command that draws a strong value: the file is committed, so no value in it is secret."""

from __future__ import annotations

import re

from prodready.generate.artifact import Kind, Rendered
from prodready.generate.context import DeployContext

PATH = ".env.production.example"
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|(^|_)KEY($|_)|SALT|PEPPER", re.IGNORECASE)
OWN_SECRET_NAME = re.compile(r"(^|_)SECRET(_KEY)?$|SIGNING_KEY|SALT|PEPPER", re.IGNORECASE)
"""Secrets the app draws itself (signing keys, salts), unlike keys a provider issues."""
DATABASE_NAME = re.compile(r"DATABASE_URL|DB_URL|POSTGRES_URL|_DSN$|DATABASE_URI", re.IGNORECASE)
REDIS_NAME = re.compile(r"REDIS_URL|CACHE_URL|BROKER_URL|REDIS_DSN", re.IGNORECASE)
PLACEHOLDER = "replace-me"
"""Obviously not a value: this file is committed, so it holds no secret, not even a random one
(a random one looks real). `prodready check` reports it as a placeholder wherever it is used."""
GENERATE_COMMAND = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
DRAW_IT = f"# placeholder: draw a strong value with\n#   {GENERATE_COMMAND}"
ISSUED = "# placeholder: the key or password the provider issued (its console or your vault)"
UNKNOWN = "(no value known: set it if the app's default does not fit)"
"""An empty value would override the app's own default, so unknown ones stay commented out."""
HEADER = """\
# {name}: production settings, written by `prodready init`. Copy to .env.production (compose)
# or /etc/{name}/env (systemd), fill in every empty value and replace every `replace-me`.
# Never commit the filled-in copy.
# Hosts are the compose service names; under systemd use the real hosts instead.
"""


def render_envfile(ctx: DeployContext) -> list[Rendered]:
    entries: list[tuple[str, str, str]] = []
    for name, where in ctx.env_vars.items():
        comment, value = _value_for(ctx, name)
        entries.append((name, f"# read at {where}{comment}", value))
    if ctx.postgres:
        entries += [
            ("POSTGRES_USER", "# for the postgres service", "app"),
            ("POSTGRES_DB", "# for the postgres service", "app"),
            ("POSTGRES_PASSWORD", f"# for the postgres service\n{DRAW_IT}", PLACEHOLDER),
        ]
    for name, value in ctx.worker.environment if ctx.worker else ():
        entries.append((name, f"# for the {ctx.worker.library} worker", value))
    lines = [HEADER.format(name=ctx.name)]
    seen: set[str] = set()
    for name, comment, value in entries:
        if name not in seen:
            seen.add(name)
            assignment = f"{name}={value}" if value else f"# {name}=  {UNKNOWN}"
            lines.append(f"{comment}\n{assignment}\n")
    return [Rendered(Kind.ENV, PATH, "\n".join(lines))]


def _value_for(ctx: DeployContext, name: str) -> tuple[str, str]:
    if DATABASE_NAME.search(name) and ctx.postgres:
        comment = "\n# replace-me: the same value as POSTGRES_PASSWORD"
        return comment, f"postgresql://app:{PLACEHOLDER}@postgres:5432/app"
    if REDIS_NAME.search(name) and ctx.redis:
        return "", "redis://redis:6379/0"
    if OWN_SECRET_NAME.search(name):
        return f"\n{DRAW_IT}", PLACEHOLDER
    if SECRET_NAME.search(name):
        return f"\n{ISSUED}", PLACEHOLDER
    if name.upper() in ("DEBUG", "FLASK_DEBUG", "DJANGO_DEBUG"):
        return "", "false"
    if "ALLOWED_HOSTS" in name.upper():
        return "", ctx.server_name
    return "", ""

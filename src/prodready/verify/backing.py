"""PostgreSQL and Redis for the app under verify: from the app's settings when reachable, with a
scratch database created for the run and dropped after it, never the app's own data."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from prodready.project.databases import database_urls, kind_of_url
from prodready.project.model import Project

DATABASE_VARS = ("DATABASE_URL", "DB_URL", "SQLALCHEMY_DATABASE_URI", "POSTGRES_URL")
COMPONENT_VARS = {
    "host": ("DB_HOST", "DATABASE_HOST", "POSTGRES_HOST", "PGHOST"),
    "port": ("DB_PORT", "DATABASE_PORT", "POSTGRES_PORT", "PGPORT"),
    "name": ("DB_NAME", "DATABASE_NAME", "POSTGRES_DB", "PGDATABASE"),
    "user": ("DB_USER", "DATABASE_USER", "POSTGRES_USER", "PGUSER"),
    "password": ("DB_PASSWORD", "DATABASE_PASSWORD", "POSTGRES_PASSWORD", "PGPASSWORD"),
}
"""Settings that build the connection from parts (Django's DATABASES from DB_HOST, DB_NAME...)."""
REDIS_VARS = ("REDIS_URL", "CACHE_URL", "CELERY_BROKER_URL")
LOCAL_REDIS = "redis://127.0.0.1:6379/0"


@dataclass
class Backing:
    """What the app gets in its environment, and what verify must clean up."""

    env: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    database_var: str | None = None
    scratch_url: str | None = None
    admin_url: str | None = None

    def drop(self) -> None:
        if not (self.admin_url and self.scratch_url):
            return
        import psycopg

        name = urlsplit(self.scratch_url).path.lstrip("/")
        try:
            with psycopg.connect(self.admin_url, connect_timeout=5, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.Error:
            pass  # the server went away: nothing to drop there
        self.scratch_url = None


def read_vars(project: Project) -> set[str]:
    return {name for module in project.modules.values() for name in module.env_reads}


def prepare_backing(project: Project, database_url: str | None, redis_url: str | None) -> Backing:
    backing = Backing()
    reads = read_vars(project)
    if project.uses_service("postgresql"):
        _scratch_postgres(project, reads, database_url, backing)
    if project.uses_service("redis"):
        _redis(reads, redis_url, backing)
    return backing


def _scratch_postgres(
    project: Project, reads: set[str], given: str | None, backing: Backing
) -> None:
    var = next((v for v in DATABASE_VARS if v in reads), None)
    parts = {key: [v for v in names if v in reads] for key, names in COMPONENT_VARS.items()}
    by_parts = var is None and bool(parts["host"]) and bool(parts["name"])
    if var is None and not by_parts:
        backing.notes.append(
            "PostgreSQL: the app reads no DATABASE_URL-like variable; it runs on its own settings"
        )
        return
    candidates = [given, os.environ.get(var) if var else None]
    candidates += [found.url for found in database_urls(project)]
    candidates += [url for module in project.modules.values() for _, url in module.url_literals]
    tried: list[str] = []
    for url in dict.fromkeys(c for c in candidates if c and kind_of_url(c) == "postgresql"):
        made = _create_scratch(url)
        if made:
            backing.admin_url, backing.scratch_url = url, made
            backing.env.update({var: made} if var else _component_env(made, parts))
            backing.database_var = var or parts["name"][0]
            shown = var or ", ".join(n for names in parts.values() for n in names)
            backing.notes.append(
                f"PostgreSQL: scratch database {urlsplit(made).path.lstrip('/')} on "
                f"{_where(url)} as {shown} (dropped after the run)"
            )
            return
        tried.append(_where(url))
    backing.notes.append(
        "PostgreSQL: not reachable"
        + (f" (tried {', '.join(tried)})" if tried else "")
        + "; give --database-url postgresql://USER:PASS@HOST/DB"
    )


def _component_env(url: str, parts: dict[str, list[str]]) -> dict[str, str]:
    """The scratch database's URL split into the variables the app reads."""
    split = urlsplit(url)
    values = {
        "host": split.hostname or "localhost",
        "port": str(split.port or 5432),
        "name": split.path.lstrip("/"),
        "user": split.username or "",
        "password": split.password or "",
    }
    return {name: values[key] for key, names in parts.items() for name in names}


def _create_scratch(url: str) -> str | None:
    import psycopg

    name = f"verify_{secrets.token_hex(4)}"
    plain = _plain_url(url)
    try:
        with psycopg.connect(plain, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error:
        return None
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _plain_url(url: str) -> str:
    """postgresql+psycopg://… as libpq takes it: postgresql://…"""
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}"


def _redis(reads: set[str], given: str | None, backing: Backing) -> None:
    var = next((v for v in REDIS_VARS if v in reads), None)
    if var is None:
        return
    for url in dict.fromkeys(u for u in (given, os.environ.get(var), LOCAL_REDIS) if u):
        parts = urlsplit(url)
        if _answers_ping(parts.hostname or "127.0.0.1", parts.port or 6379):
            backing.env[var] = url
            backing.notes.append(f"Redis: {_where_redis(url)} as {var}")
            return
    backing.notes.append("Redis: not reachable; give --redis-url redis://HOST:PORT/DB")


def _where_redis(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}{parts.path}"


def _answers_ping(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False

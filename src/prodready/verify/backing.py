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
SPLIT_PREFIXES = ("SQL_", "DB_", "DATABASE_", "POSTGRES_", "POSTGRESQL_", "PG_", "PG")
"""Settings that name the database piece by piece (Django's DATABASES from SQL_HOST,
SQL_DATABASE...; libpq's PGHOST...): the prefixes tried, in order."""
SPLIT_PARTS = {
    "host": ("HOST",),
    "port": ("PORT",),
    "user": ("USER", "USERNAME"),
    "password": ("PASSWORD", "PASS"),
    "name": ("NAME", "DATABASE", "DB"),
}
REDIS_VARS = ("REDIS_URL", "CACHE_URL", "CELERY_BROKER_URL")
LOCAL_REDIS = "redis://127.0.0.1:6379/0"


@dataclass
class Backing:
    """What the app gets in its environment, and what verify must clean up."""

    env: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    database_var: str | None = None
    """The variable that holds the database URL, or the host part of split settings."""
    split_vars: dict[str, str] = field(default_factory=dict)
    """Split settings in use: part (host, port, user, password, name) -> variable."""
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
    split = {} if var else split_settings(reads)
    if var is None and not split:
        backing.notes.append(
            "PostgreSQL: the app reads no DATABASE_URL-like variable; it runs on its own settings"
        )
        return
    own = [found.url for found in database_urls(project)]
    own += [url for module in project.modules.values() for _, url in module.url_literals]
    candidates = [given, os.environ.get(var) if var else None, *own]
    scheme = next((urlsplit(u).scheme for u in own if kind_of_url(u) == "postgresql"), None)
    tried: list[str] = []
    for url in dict.fromkeys(c for c in candidates if c and kind_of_url(c) == "postgresql"):
        made = _create_scratch(url)
        if made:
            backing.admin_url, backing.scratch_url = url, made
            backing.database_var = var or split["host"]
            backing.split_vars = split
            for_app = urlunsplit(urlsplit(made)._replace(scheme=scheme)) if scheme else made
            backing.env.update({var: for_app} if var else split_env(split, made))
            named = var or ", ".join(split.values())
            backing.notes.append(
                f"PostgreSQL: scratch database {urlsplit(made).path.lstrip('/')} on "
                f"{_where(url)} as {named} (dropped after the run)"
            )
            return
        tried.append(_where(url))
    backing.notes.append(
        "PostgreSQL: not reachable"
        + (f" (tried {', '.join(tried)})" if tried else "")
        + "; give --database-url postgresql://USER:PASS@HOST/DB"
    )


def split_settings(reads: set[str]) -> dict[str, str]:
    """part -> variable for the first prefix whose host and name variables the app reads."""
    for prefix in SPLIT_PREFIXES:
        found = {
            part: next(prefix + s for s in suffixes if prefix + s in reads)
            for part, suffixes in SPLIT_PARTS.items()
            if any(prefix + s in reads for s in suffixes)
        }
        if "host" in found and "name" in found:
            return found
    return {}


def split_env(split: dict[str, str], url: str) -> dict[str, str]:
    """The split variables set to the pieces of `url`."""
    parts = urlsplit(url)
    pieces = {
        "host": parts.hostname or "127.0.0.1",
        "port": str(parts.port or 5432),
        "user": parts.username or "",
        "password": parts.password or "",
        "name": parts.path.lstrip("/"),
    }
    return {var: pieces[part] for part, var in split.items()}


def _create_scratch(url: str) -> str | None:
    """A new database beside the one `url` names, or None when the server refuses us.

    The app's own database need not exist yet (a fresh checkout, before its first migrate), so
    like createdb this falls back to the maintenance databases to issue CREATE DATABASE."""
    import psycopg

    name = f"verify_{secrets.token_hex(4)}"
    parts = urlsplit(_plain_url(url))
    for maintenance in dict.fromkeys((parts.path or "/", "/postgres", "/template1")):
        try:
            with psycopg.connect(
                urlunsplit(parts._replace(path=maintenance)), connect_timeout=3, autocommit=True
            ) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        except psycopg.OperationalError as error:
            if "does not exist" in str(error):
                continue
            return None
        except psycopg.Error:
            return None
        return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    return None


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

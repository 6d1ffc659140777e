"""Which backing services an app uses (PostgreSQL, Redis, ...), from dependencies, URLs in code
and env files, Django's DATABASES and compose images."""

from __future__ import annotations

import re

SERVICE_BY_PACKAGE = {
    "psycopg": "postgresql",
    "psycopg2": "postgresql",
    "psycopg2-binary": "postgresql",
    "psycopg-binary": "postgresql",
    "asyncpg": "postgresql",
    "pg8000": "postgresql",
    "psycopg-pool": "postgresql",
    "mysqlclient": "mysql",
    "pymysql": "mysql",
    "aiomysql": "mysql",
    "mysql-connector-python": "mysql",
    "redis": "redis",
    "aioredis": "redis",
    "hiredis": "redis",
    "rq": "redis",
    "django-redis": "redis",
    "pymongo": "mongodb",
    "motor": "mongodb",
    "mongoengine": "mongodb",
    "pika": "rabbitmq",
    "aio-pika": "rabbitmq",
    "kombu": "rabbitmq",
    "elasticsearch": "elasticsearch",
    "pymemcache": "memcached",
}
SERVICE_BY_SCHEME = [
    (re.compile(r"^postgres(ql)?(\+\w+)?://", re.I), "postgresql"),
    (re.compile(r"^(mysql|mariadb)(\+\w+)?://", re.I), "mysql"),
    (re.compile(r"^rediss?://", re.I), "redis"),
    (re.compile(r"^mongodb(\+srv)?://", re.I), "mongodb"),
    (re.compile(r"^amqps?://", re.I), "rabbitmq"),
]
DJANGO_ENGINES = {"postgresql": "postgresql", "postgis": "postgresql", "mysql": "mysql"}


def service_of_url(url: str) -> str | None:
    return next((name for pattern, name in SERVICE_BY_SCHEME if pattern.match(url.strip())), None)


def service_of_django_engine(engine: str) -> str | None:
    return next((v for k, v in DJANGO_ENGINES.items() if k in engine), None)

"""Real parts for the monitor tests: the switchable target server (its own process), a JSON
webhook receiver, an SMTP server (aiosmtpd), a TLS server with a throwaway certificate, the
store on SQLite and on a scratch PostgreSQL database, and the machine's PostgreSQL and Redis (a failure, not a skip, under CI=true when missing)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.monitor.receivers import WebhookReceiver
from tests.services import PG, missing, scratch_database

HERE = Path(__file__).parent
REDIS = os.environ.get("PRODREADY_TEST_REDIS", "redis://127.0.0.1:6379/0")


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Target:
    base: str

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def set(self, mode: str, *names: str) -> None:
        query = "&".join([f"mode={mode}", *(f"name={n}" for n in names)])
        urllib.request.urlopen(
            urllib.request.Request(f"{self.base}/_mode?{query}", method="POST"), timeout=5
        ).read()

    def hits(self) -> dict[str, int]:
        return json.loads(urllib.request.urlopen(f"{self.base}/_hits", timeout=5).read())


def start_target(
    slow_s: float = 2.0, tls: tuple[Path, Path] | None = None
) -> tuple[subprocess.Popen[bytes], Target]:
    """The target server; with `tls` (certificate, key) it serves HTTPS on localhost."""
    extra = ["--cert", str(tls[0]), "--key", str(tls[1])] if tls else []
    process = subprocess.Popen(
        [sys.executable, str(HERE / "target_server.py"), "--slow-s", str(slow_s), *extra],
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    port = int(process.stdout.readline())
    return process, Target(f"https://localhost:{port}" if tls else f"http://127.0.0.1:{port}")


@pytest.fixture
def target() -> Iterator[Target]:
    process, made = start_target(slow_s=1.0)
    try:
        yield made
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture(params=["sqlite", "postgresql"])
def store_at(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | str]:
    """Where a test's monitor store lives: a SQLite file, then a scratch PostgreSQL database
    (dropped after); the store tests run once on each."""
    if request.param == "sqlite":
        yield tmp_path / "m.db"
        return
    pytest.importorskip("psycopg")
    with scratch_database("mon") as (_, url):
        yield url


@pytest.fixture
def pg_url() -> str:
    psycopg = pytest.importorskip("psycopg")
    try:
        psycopg.connect(f"{PG}/postgres", connect_timeout=5).close()
    except psycopg.OperationalError as error:
        missing("PostgreSQL", error)
    return f"{PG}/postgres"


@pytest.fixture
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_timeout=5).ping()
    except redis.RedisError as error:
        missing("Redis", error)
    return REDIS

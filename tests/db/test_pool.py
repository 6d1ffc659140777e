"""`prodready db pool` against a real PostgreSQL server of our own (max_connections 20, on an
ephemeral port, so the connections in use are known), and the PR907 check rule agreeing with
it because both call the same budget function."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")
MAX_CONNECTIONS = 20


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(*argv: str) -> subprocess.CompletedProcess[str]:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def small_server() -> Iterator[str]:
    """A private PostgreSQL 15 with max_connections 20 (3 reserved for superusers)."""
    if not (PG_BIN / "initdb").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL 15 server binaries are required under CI=true")
        pytest.skip("no PostgreSQL 15 server binaries")
    home = Path(tempfile.mkdtemp(prefix="prodready-pool-pg-"))
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
    data = home / "data"
    port = _free_port()
    made = _as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    assert made.returncode == 0, made.stderr
    started = _as_postgres(
        str(PG_BIN / "pg_ctl"),
        "-D",
        str(data),
        "-w",
        "-l",
        str(data / "log"),
        "-o",
        f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
        f"-c max_connections={MAX_CONNECTIONS} -c fsync=off",
        "start",
    )
    assert started.returncode == 0, started.stderr + started.stdout
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(home, ignore_errors=True)


def _app(root: Path, pool_size: int, max_overflow: int, workers: int, wsgi: bool = False) -> Path:
    """A FastAPI (or, `wsgi`, Flask) app with a SQLAlchemy pool, Gunicorn workers and a compose PostgreSQL whose
    max_connections is the small server's."""
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text(
        textwrap.dedent(f"""\
        import os
        from {"flask import Flask" if wsgi else "fastapi import FastAPI"}
        from sqlalchemy import create_engine

        engine = create_engine(os.environ["DATABASE_URL"], pool_size={pool_size}, max_overflow={max_overflow})
        app = {"Flask(__name__)" if wsgi else "FastAPI()"}


        @app.get("/")  # Flask 2+ and FastAPI alike
        def home():
            return {{}}
        """)
    )
    framework = "flask" if wsgi else "fastapi\nuvicorn-worker"
    (root / "requirements.txt").write_text(f"{framework}\nsqlalchemy\npsycopg\ngunicorn\n")
    worker_class = "" if wsgi else 'worker_class = "uvicorn_worker.UvicornWorker"\n'
    (root / "gunicorn.conf.py").write_text(f"workers = {workers}\n{worker_class}")
    (root / "Dockerfile").write_text(
        'FROM python:3.12-slim\nCOPY . .\nCMD ["gunicorn", "-c", "gunicorn.conf.py", "app.main:app"]\n'
    )
    (root / "compose.yaml").write_text(
        textwrap.dedent(f"""\
        services:
          api:
            build: .
          db:
            image: postgres:15
            command: postgres -c max_connections={MAX_CONNECTIONS}
        """)
    )
    return root


def _pool(prodready, *args: str | Path) -> tuple[int, dict]:
    done = prodready("db", "pool", "--json", *args)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def test_threads_sized_from_the_live_limits(prodready, small_server: str, tmp_path: Path) -> None:
    app = _app(tmp_path / "app", 2, 0, 2, wsgi=True)
    done = prodready(
        "db",
        "pool",
        app,
        "--database-url",
        small_server,
        "--workers",
        "2",
        "--threads",
        "4",
        "--other-clients",
        "celery=2",
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].endswith(
        "20 max_connections - 3 reserved for superusers - 2 celery - 2 headroom = 13 for the app"
    )
    assert (
        "app: 2 processes x 4 threads (given): 13 // 2 = 6 connections per process at most" in lines
    )
    assert (
        "  SQLAlchemy: create_engine(url, pool_size=4, max_overflow=0, pool_timeout=10, "
        "pool_recycle=1800, pool_pre_ping=True)"
    ) in lines
    assert "PgBouncer: not needed (2 x 4 = 8 of 13 usable connections)" in lines


def test_pgbouncer_when_threads_outnumber_connections(
    prodready, small_server: str, tmp_path: Path
) -> None:
    app = _app(tmp_path / "app", 2, 0, 2, wsgi=True)
    code, advice = _pool(
        prodready, app, "--database-url", small_server, "--workers", "4", "--threads", "8"
    )
    assert code == 0
    assert advice["usable"] == 15 and advice["per_process_max"] == 3
    assert advice["sqlalchemy"]["pool_size"] == 3
    assert advice["pgbouncer"] == (
        "4 processes x 8 threads = 32 > 15 usable connections: threads would wait for a connection"
    )
    text = prodready(
        "db", "pool", app, "--database-url", small_server, "--workers", "4", "--threads", "8"
    ).stdout
    assert "no session-level prepared statements" in text


def test_pool_and_check_rule_share_one_truth(prodready, small_server: str, tmp_path: Path) -> None:
    """4 workers x (4 + 0) = 16 fits 20 - 3; 4 x (4 + 1) = 20 does not: both commands agree."""
    fits = _app(tmp_path / "fits", 4, 0, 4)
    over = _app(tmp_path / "over", 4, 1, 4)
    code, advice = _pool(prodready, fits, "--database-url", small_server)
    assert code == 0 and advice["current_per_process"] == 4 and advice["processes"] == 4
    assert not advice["current_overflows"]
    code, advice = _pool(prodready, over, "--database-url", small_server)
    assert code == 1 and advice["current_per_process"] == 5 and advice["current_overflows"]
    checked = {
        name: prodready("check", "--format", "json", "--select", "PR907", root)
        for name, root in (("fits", fits), ("over", over))
    }
    found = {
        name: [f["rule"] for f in json.loads(done.stdout)["findings"]]
        for name, done in checked.items()
    }
    assert found == {"fits": [], "over": ["PR907"]}


def test_bad_options_and_unreachable_server(prodready, tmp_path: Path) -> None:
    app = _app(tmp_path / "app", 2, 0, 2)
    bad = prodready(
        "db",
        "pool",
        app,
        "--database-url",
        "postgresql://x@127.0.0.1:1/x",
        "--other-clients",
        "celery",
    )
    assert bad.returncode == 2 and bad.stderr.startswith(
        "error: --other-clients: 'celery' is not NAME=CONNECTIONS"
    )
    port = _free_port()
    gone = prodready(
        "db", "pool", app, "--database-url", f"postgresql://postgres@127.0.0.1:{port}/x"
    )
    assert gone.returncode == 2
    first, hint = gone.stderr.splitlines()
    assert first.startswith(
        f"error: cannot read the limits of PostgreSQL at postgresql://postgres@127.0.0.1:{port}/x"
    )
    assert hint.startswith("hint: ")

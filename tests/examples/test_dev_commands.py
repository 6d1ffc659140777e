"""Each example starts with its own dev command (the way its README says), on a copy, and answers
on loopback. These are the apps `prodready check`, `serve` and `init` are tested on, so they must
be real, runnable apps, not file collections."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.server_errors import unexpected_errors

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def started(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Iterator[None]:
    """Runs the dev server while the block runs; its log must then hold no error line."""
    log_path = cwd / "dev-server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the reloaders start a child: stop the group
        process.wait(timeout=10)
    unexpected = unexpected_errors(log_path.read_text(errors="replace"))
    assert not unexpected, "the dev server logged errors:\n" + "\n".join(unexpected[:10])


def get(url: str, deadline_s: float = 30) -> bytes:
    end = time.monotonic() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.2)


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    return tmp_path / "examples"


def test_riskapi_starts_with_python_app_py(examples: Path) -> None:
    with socket.socket() as probe:  # app.run() hard-codes port 5000, as the real project did
        if probe.connect_ex(("127.0.0.1", 5000)) == 0:
            pytest.fail("port 5000 is taken; the riskapi dev command needs it")
    with started([str(BIN / "python"), "app.py"], examples / "riskapi"):
        assert b'"pong": true' in get("http://127.0.0.1:5000/api/ping")


def test_flashcards_starts_with_uvicorn_reload(examples: Path) -> None:
    port = free_port()
    argv = [str(BIN / "uvicorn"), "app.main:app", "--reload", "--port", str(port)]
    env = {"DATABASE_URL": "sqlite:///./dev.db"}  # the README's no-PostgreSQL variant
    with started(argv, examples / "flashcards", env):
        assert b"[" in get(f"http://127.0.0.1:{port}/api/decks/")


def test_bookshop_starts_with_manage_py_runserver(examples: Path) -> None:
    root = examples / "bookshop"
    subprocess.run(
        [str(BIN / "python"), "manage.py", "migrate", "-v", "0"], cwd=root, check=True, timeout=120
    )
    port = free_port()
    with started([str(BIN / "python"), "manage.py", "runserver", f"127.0.0.1:{port}"], root):
        assert get(f"http://127.0.0.1:{port}/") == b'{"books": []}'

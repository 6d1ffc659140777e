"""Apps to run `prodready init` on: copies of the examples, and small apps written per test."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from prodready.generate.context import Options
from prodready.generate.run import InitResult, init_project
from prodready.project import FileKind, detect

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
EXAMPLE_NAMES = ("riskapi", "flashcards", "bookshop")

FLASK_APP = """\
import os
from flask import Flask

app = Flask(__name__)
SECRET_KEY = os.environ["SECRET_KEY"]


@app.get("/healthz")
def healthz():
    return "ok"


@app.get("/")
def index():
    return "hello"
"""


def write_app(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def flask_app(root: Path, **extra: str) -> Path:
    return write_app(root, {"app.py": FLASK_APP, "requirements.txt": "flask==3.1.0\n", **extra})


def copy_example(name: str, destination: Path) -> Path:
    target = destination / name
    shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


SUPERSEDED = FileKind.DOCKERFILE, FileKind.COMPOSE, FileKind.NGINX, FileKind.SYSTEMD
SUPERSEDED_TOO = FileKind.GUNICORN, FileKind.DOCKERIGNORE, FileKind.PROCFILE, FileKind.SCRIPT


def init_example(name: str, destination: Path) -> tuple[Path, InitResult]:
    """The example as a user adopting `prodready init` leaves it: its own deployment files
    removed (they would otherwise be checked against the new ones), the generated ones written."""
    root = copy_example(name, destination)
    for source in detect(root).files:
        if source.kind in SUPERSEDED + SUPERSEDED_TOO:
            source.path.unlink()
    return root, init_project(root, Options())


def run_cli(*args: str, user: int | None = None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "prodready.cli.main", *args]
    if user is not None:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


KIT_SERVICE = {
    "app.py": """\
import os

import psycopg
import redis
from fastapi import FastAPI
from prodready.runtime import Production, checks

app = FastAPI()
prod = Production(app)
prod.check("db", checks.postgres(os.environ["DATABASE_URL"]))
cache = redis.Redis.from_url(os.environ["REDIS_URL"])


@app.get("/orders")
async def orders():
    return []
""",
    "pyproject.toml": """\
[project]
name = "orders"
version = "1.0"
requires-python = ">=3.12"
dependencies = ["fastapi==0.115.0", "psycopg==3.2.3", "redis==5.2.0", "prodready==0.1.0"]
""",
    "uv.lock": "version = 1\n",
    "alembic.ini": "[alembic]\nscript_location = migrations\n",
}
"""An ASGI service on the runtime kit with PostgreSQL, Redis, uv and Alembic: the branches the
examples do not take."""


@pytest.fixture(scope="module", params=(*EXAMPLE_NAMES, "kit-service"))
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """(root, result) of `prodready init` on a copy of each example, and on a kit service."""
    destination = tmp_path_factory.mktemp("example")
    if request.param == "kit-service":
        root = write_app(destination / "orders", KIT_SERVICE)
        return root, init_project(root, Options())
    if not (EXAMPLES / request.param).is_dir():
        pytest.skip(f"examples/{request.param} is not there")
    return init_example(request.param, destination)

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


@pytest.fixture(scope="module", params=EXAMPLE_NAMES)
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """(root, result) of `prodready init --force` on a copy of each example."""
    if not (EXAMPLES / request.param).is_dir():
        pytest.skip(f"examples/{request.param} is not there")
    return init_example(request.param, tmp_path_factory.mktemp("example"))

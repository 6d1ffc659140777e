"""Hostile input to `prodready init`: every value it writes into a config file is validated,
nothing the user had is replaced without --force (issue 12, items 7, 8 and 13)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import run_prodready
from tests.faults.conftest import assert_refused
from tests.generate.conftest import flask_app, write_app


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


HOSTILE_NAMES = [
    "x.com; } server { listen 81; root /; } #",
    "",
    "   ",
    "a.com b.com",
    "x.com\nserver",
    "-bad.example.com",
    "bad-.example.com",
    "exa_mple.com",
    "a" * 64 + ".com",
    ("a" * 60 + ".") * 5 + "com",
    "x.com;",
    "$host",
    "*.*.example.com",
    "ex*ample.com",
    "app.example.com/path",
    'x.com"',
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_server_names_are_refused_before_writing(tmp_path: Path, name: str) -> None:
    root = flask_app(tmp_path / "app")
    before = listing(root)
    result = run_prodready("init", root, "--server-name", name)
    assert_refused(result, "--server-name")
    assert listing(root) == before


def test_empty_server_name_with_validate(tmp_path: Path) -> None:
    """Used to end in a RuntimeError from openssl after the files were written."""
    root = flask_app(tmp_path / "app")
    before = listing(root)
    result = run_prodready("init", root, "--only", "nginx", "--validate", "--server-name", "")
    assert_refused(result, "--server-name is empty")
    assert listing(root) == before


@pytest.mark.parametrize(
    "name", ["app.example.com", "*.example.com", ".example.com", "www.example.*", "localhost"]
)
def test_host_names_nginx_allows_pass_nginx_t(tmp_path: Path, name: str) -> None:
    root = flask_app(tmp_path / "app")
    result = run_prodready("init", root, "--only", "nginx", "--validate", "--server-name", name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "nginx -t" in result.stdout and "FAILED" not in result.stdout
    (site,) = (root / "deploy" / "nginx").glob("*.conf")
    assert site.read_text().count(f"server_name {name};") == 2  # the HTTP and HTTPS servers


def test_routes_and_env_names_from_code_cannot_inject_config(tmp_path: Path) -> None:
    """Routes and environment names come from the user's code into nginx, the probes and the
    env file: a quote, `;`, brace, space or newline must never reach them."""
    app = """\
import os
from flask import Flask

app = Flask(__name__)
GOOD = os.environ["GOOD_NAME"]
BAD = os.environ["BAD NAME\\nINJECTED=1"]


@app.get("/health')+__import__('os').system('id')+('")
def health():
    return "ok"


@app.get("/events/feed;}server{root /;}")
def feed():
    return "x"


@app.get("/events")
def events():
    return "x"
"""
    root = write_app(tmp_path / "app", {"app.py": app, "requirements.txt": "flask==3.1.0\n"})
    result = run_prodready("init", root, "--only", "nginx,env,dockerfile", "--validate")
    assert result.returncode == 0, result.stdout + result.stderr
    written = "\n".join(
        p.read_text() for p in root.rglob("*") if p.is_file() and p.name != "app.py"
    )
    assert "location /events {" in written
    for fragment in ("system(", "server{root", "INJECTED", "BAD NAME"):
        assert fragment not in written, fragment
    assert "GOOD_NAME=" in written


@pytest.mark.parametrize("only", [",", " , ", ",,,", ""])
def test_only_naming_no_kind_writes_nothing(tmp_path: Path, only: str) -> None:
    root = flask_app(tmp_path / "app")
    before = listing(root)
    result = run_prodready("init", root, "--only", only)
    assert_refused(result, "--only")
    assert listing(root) == before


def test_dangling_symlink_is_left_alone_without_force(tmp_path: Path) -> None:
    root = flask_app(tmp_path / "app")
    link = root / ".dockerignore"
    os.symlink("shared/dockerignore", link)
    result = run_prodready("init", root, "--only", "dockerfile")
    assert result.returncode == 0, result.stderr
    assert "differs, left alone  .dockerignore" in result.stdout
    assert "created              .dockerignore" not in result.stdout
    assert link.is_symlink() and os.readlink(link) == "shared/dockerignore"
    shown = run_prodready("init", root, "--only", "dockerfile", "--diff")
    assert "symlink to shared/dockerignore, which does not exist" in shown.stdout

    forced = run_prodready("init", root, "--only", "dockerfile", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "overwritten          .dockerignore" in forced.stdout
    assert not link.is_symlink() and "__pycache__" in link.read_text()

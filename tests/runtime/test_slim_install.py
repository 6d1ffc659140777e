"""The runtime kit as an app's dependency: `pip install prodready` into an app that pins an old
Gunicorn must leave that Gunicorn alone, bring none of the CLI's servers and parsers, and work.

Builds prodready from this checkout into a fresh venv with uv (the CLI's own lock tool), the same
resolution `pip install prodready` does: already-installed packages are kept when they satisfy.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests
from runtime_support import closed_port

from tests.conftest import REPO
from tests.server_errors import unexpected_errors

# The venv running the tests has uv (make test); make test-latest's throwaway venv does not.
UV = next(
    (
        uv
        for uv in (Path(sys.executable).parent / "uv", REPO / ".venv" / "bin" / "uv")
        if uv.exists()
    ),
    REPO / ".venv" / "bin" / "uv",
)
APP_PINS = ("gunicorn==21.2.0", "flask==3.1.*")
CLI_ONLY = (
    "uvicorn",
    "granian",
    "psycopg",
    "zxcvbn-cli",
    "crossplane",
    "typer",
    "dockerfile-parse",
)
APP = """
from flask import Flask
from prodready.runtime import Production

app = Flask(__name__)


@app.get("/hello")
def hello():
    return {"hello": "world"}


prod = Production(app)
"""


def _run(*argv: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        list(map(str, argv)),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


def test_the_kit_keeps_the_apps_gunicorn_and_runs_under_it(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    _run(UV, "venv", "--quiet", "--python", sys._base_executable, venv)
    _run(UV, "pip", "install", "--quiet", "--python", python, *APP_PINS)
    _run(UV, "pip", "install", "--quiet", "--python", python, REPO)

    listed = _run(UV, "pip", "list", "--python", python, "--format", "freeze").stdout
    installed = dict(line.split("==", 1) for line in listed.splitlines() if "==" in line)
    assert installed["gunicorn"] == "21.2.0"
    assert {"prodready", "prometheus-client", "structlog", "limits"} <= installed.keys()
    assert not [name for name in CLI_ONLY if name in installed], installed

    (tmp_path / "app.py").write_text(APP)
    port = closed_port()
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [venv / "bin" / "gunicorn", "app:app", "-w", "1", "-b", f"127.0.0.1:{port}"],
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base, server, log_path)
        hello = requests.get(base + "/hello", timeout=10)
        assert hello.json() == {"hello": "world"}
        assert hello.headers["X-Request-ID"] and hello.headers["X-Content-Type-Options"]
        assert requests.get(base + "/health/ready", timeout=10).status_code == 200
        metrics = requests.get(base + "/metrics", timeout=10).text
        assert 'route="/hello"' in metrics
    finally:
        server.terminate()
        server.wait(timeout=30)
    log_text = log_path.read_text(errors="replace")
    assert "Booting worker" in log_text and unexpected_errors(log_text) == [], log_text


def test_the_cli_from_the_kit_install_says_what_to_install(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run(UV, "venv", "--quiet", "--python", sys._base_executable, venv)
    _run(UV, "pip", "install", "--quiet", "--python", venv / "bin" / "python", REPO)
    completed = subprocess.run(
        [venv / "bin" / "prodready", "check"], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.startswith("error: the prodready command needs its CLI dependencies")
    assert "hint: pipx install 'prodready[cli]'" in completed.stderr
    assert "Traceback" not in completed.stderr


def _wait_until_up(base: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, log_path.read_text()
        try:
            requests.get(base + "/health/live", timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"gunicorn 21.2.0 did not answer in 60 s:\n{log_path.read_text()}")

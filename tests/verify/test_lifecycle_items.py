"""The life-of-a-server items of `prodready verify`: start-up (import side effects seen by
strace), health (health+json probes, readiness 503 without the database and on SIGTERM) and
graceful shutdown (SIGTERM with 20 requests in flight), on riskapi and on small apps made so
that each verdict fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from prodready.verify.importprobe import strace_missing
from tests.services import missing
from tests.verify.conftest import by_id, items_of, run_verify


def require_strace() -> None:
    why = strace_missing()
    if why:
        missing("strace", why)


def flask_app(root: Path, body: str, requirements: str = "flask==3.0.3\n") -> Path:
    root.mkdir()
    (root / "requirements.txt").write_text(requirements)
    (root / "app.py").write_text(body)
    return root


@pytest.fixture(scope="module")
def riskapi(riskapi_scorecard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The items of the one full run of examples/riskapi (conftest's riskapi_scorecard)."""
    return by_id(riskapi_scorecard)


def test_riskapi_starts_without_connecting_at_import(riskapi: dict[str, Any]) -> None:
    require_strace()
    startup = riskapi["startup"]
    assert startup["status"] == "pass", startup
    assert startup["measures"]["connects_at_import"] == 0
    assert startup["measures"]["ready_s"] > 0
    assert startup["measures"]["import_first_s"] > 0
    assert any("no AF_INET/AF_INET6 connect()" in line for line in startup["details"])


def test_riskapi_health_route_is_plain_json_and_ready_whatever_the_database(
    riskapi: dict[str, Any],
) -> None:
    health = riskapi["health"]
    assert health["status"] == "fail", health
    assert health["measures"]["runtime_kit"] is False
    assert health["measures"]["ready_status"] == 200
    assert health["measures"]["ready_without_dependencies_status"] == 200
    assert any(
        "GET /health -> 200 application/json, not application/health+json" in line
        for line in health["details"]
    )
    assert any(line.startswith("hint: add prodready.runtime") for line in health["details"])


def test_riskapi_finishes_20_slow_uploads_on_sigterm(riskapi: dict[str, Any]) -> None:
    shutdown = riskapi["shutdown"]
    assert shutdown["status"] == "pass", shutdown
    assert shutdown["measures"]["completed"] == 20
    assert shutdown["measures"]["reset"] == 0
    assert "POST /api/score with a slow upload" in shutdown["details"][0]


def test_a_connect_at_import_fails_start_up_with_its_address(tmp_path: Path) -> None:
    require_strace()
    port = 9  # discard: nothing listens on it here, the connect() is made all the same
    app = flask_app(
        tmp_path / "chatty",
        "import socket\nfrom flask import Flask\n\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=1).close()\n"
        "except OSError:\n    pass\n\n"
        "app = Flask(__name__)\n\n\n@app.get('/')\ndef index():\n    return 'ok'\n",
    )
    startup = items_of(run_verify(app, "--only", "startup", "--json"))["startup"]
    assert startup["status"] == "fail", startup
    assert startup["summary"].startswith(f"connects to 127.0.0.1:{port} at import")
    assert startup["measures"]["connects_at_import"] >= 1
    assert f"127.0.0.1:{port} (AF_INET" in startup["log"]


READY_ALWAYS = """\
import os

import psycopg
from flask import Flask

DATABASE_URL = os.environ["DATABASE_URL"]
app = Flask(__name__)
HEALTH = ('{"status": "pass"}', 200, {"Content-Type": "application/health+json"})


@app.get("/health/live")
def live():
    return HEALTH


@app.get("/health/ready")
def ready():
    return HEALTH


@app.get("/books")
def books():
    with psycopg.connect(DATABASE_URL) as conn:
        return {"books": conn.execute("select 1").fetchall()}
"""


def test_a_ready_probe_that_always_says_200_fails_health(tmp_path: Path, pg_server: str) -> None:
    app = flask_app(tmp_path / "blind", READY_ALWAYS, "flask==3.0.3\npsycopg==3.2.3\n")
    result = run_verify(app, "--only", "health", "--json", "--database-url", pg_server)
    health = items_of(result)["health"]
    assert health["status"] == "fail", health
    assert health["measures"]["ready_status"] == 200
    assert health["measures"]["ready_without_dependencies_status"] == 200
    assert any(
        "ready without its dependencies: FAIL" in line and "(closed) -> 200" in line
        for line in health["details"]
    ), health["details"]


DROPS_ON_SIGTERM = """\
import os
import signal

from flask import Flask, request

# "Exit fast on SIGTERM": set at import, it replaces the worker's own graceful handler.
signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(0))

app = Flask(__name__)


@app.post("/echo")
def echo():
    return {"size": len(request.get_data())}
"""


def test_an_app_that_exits_at_once_on_sigterm_fails_graceful_shutdown(tmp_path: Path) -> None:
    app = flask_app(tmp_path / "abrupt", DROPS_ON_SIGTERM)
    shutdown = items_of(run_verify(app, "--only", "shutdown", "--json"))["shutdown"]
    assert shutdown["status"] == "fail", shutdown
    assert shutdown["measures"]["reset"] > 0
    assert shutdown["measures"]["completed"] < 20
    assert "POST /echo with a slow upload" in shutdown["details"][0]


KIT_APP = """\
import os

from flask import Flask

from prodready.runtime import Production, checks

app = Flask(__name__)
prod = Production(app)
prod.check("db", checks.postgres(os.environ["DATABASE_URL"]))
"""


def test_the_runtime_kit_answers_health_json_and_is_not_ready_without_its_database(
    tmp_path: Path, pg_server: str
) -> None:
    app = flask_app(tmp_path / "kit", KIT_APP, "flask==3.0.3\npsycopg==3.2.3\nprodready\n")
    result = run_verify(app, "--only", "health", "--json", "--database-url", pg_server)
    health = items_of(result)["health"]
    measures = health["measures"]
    assert measures["runtime_kit"] is True
    assert (measures["live_status"], measures["ready_status"], measures["deep_status"]) == (
        200, 200, 200,
    )  # fmt: skip
    assert measures["ready_without_dependencies_status"] == 503
    assert all("FAIL" not in line for line in health["details"]), health
    # SIGTERM meets a 503 or a server that stops accepting at once (a warning): never a 200
    assert health["status"] in ("pass", "warn"), health


IGNORES_SIGTERM = """\
import signal

from flask import Flask

# Set at import: the worker never hears SIGTERM, so it never drains and stays "ready".
signal.signal(signal.SIGTERM, signal.SIG_IGN)

app = Flask(__name__)
HEALTH = ('{"status": "pass"}', 200, {"Content-Type": "application/health+json"})


@app.get("/health/ready")
def ready():
    return HEALTH
"""


def test_a_server_still_ready_after_sigterm_fails_health(tmp_path: Path) -> None:
    app = flask_app(tmp_path / "deaf", IGNORES_SIGTERM)
    (app / "gunicorn.conf.py").write_text("graceful_timeout = 3\n")  # the master kills it then
    health = items_of(run_verify(app, "--only", "health", "--json"))["health"]
    assert health["status"] == "fail", health
    assert health["measures"]["ready_after_sigterm"] == "200"
    assert any(
        line.startswith("ready on SIGTERM: FAIL - still 200") for line in health["details"]
    ), health["details"]

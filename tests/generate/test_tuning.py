"""What the files are tuned to: the runtime kit's routes, the target nginx and OpenSSL,
streaming routes, migrations."""

from __future__ import annotations

import os
import runpy
import sqlite3
import subprocess
import sys
from pathlib import Path

import yaml

from prodready.generate.context import Options
from prodready.generate.nginxtarget import parse_version
from prodready.generate.run import init_project, parse_only
from prodready.secretstrength import is_placeholder
from tests.generate.conftest import FLASK_APP, flask_app, write_app

KIT_APP = """\
from flask import Flask
from prodready.runtime import Production

app = Flask(__name__)
prod = Production(app)


@app.get("/")
def index():
    return "hello"
"""

SSE_APP = (
    FLASK_APP
    + """

@app.get("/events/stream")
def stream():
    return "data: x\\n\\n"
"""
)


def test_kit_routes_drive_probes_healthchecks_and_metrics(tmp_path):
    root = write_app(tmp_path / "kit", {"app.py": KIT_APP, "requirements.txt": "flask==3.1.0\n"})
    result = init_project(root, Options())
    assert result.context.probes.uses_kit and result.context.notes == [
        "no Python version pinned (.python-version, pyproject): using 3.12"
    ]
    assert "http://127.0.0.1:8000/health/ready" in (root / "Dockerfile").read_text()
    compose = yaml.safe_load((root / "compose.yaml").read_text())
    assert "/health/ready" in " ".join(compose["services"]["app"]["healthcheck"]["test"])
    deployment = next(yaml.safe_load_all((root / "deploy/kubernetes/kit.yaml").read_text()))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["startupProbe"]["httpGet"]["path"] == "/health/live"
    assert deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/path"] == (
        "/metrics"
    )
    conf = (root / "gunicorn.conf.py").read_text()
    assert "from prodready.serve.gunicorn_hooks import (" in conf
    assert "def worker_abort(worker):" in conf
    rules = yaml.safe_load((root / "deploy/prometheus/kit-alerts.yml").read_text())
    exprs = " ".join(r["expr"] for r in rules["groups"][0]["rules"])
    for metric in ("http_requests_total", "http_request_duration_seconds_bucket", "up{"):
        assert metric in exprs
    assert 'probe_success{job="kit-ready"}' in exprs  # the app does not count its health routes
    scrape = yaml.safe_load((root / "deploy/prometheus/prometheus.yml").read_text())
    ready_job = scrape["scrape_configs"][1]
    assert ready_job["static_configs"][0]["targets"] == ["http://kit:8000/health/ready"]


def test_without_the_kit_probes_fall_back_to_a_real_route_and_say_so(tmp_path):
    root = flask_app(tmp_path / "shop")
    result = init_project(root, Options(), parse_only("dockerfile"))
    assert result.context.probes.ready == "/healthz"
    assert (
        "does not use prodready.runtime: probes use health route /healthz (app.py:9)"
        in (result.context.notes[0])
    )


def test_nginx_22_with_openssl_3_0_gets_the_directives_it_accepts(tmp_path):
    root = flask_app(tmp_path / "shop")
    options = Options(nginx_version="1.22", openssl_version="3.0")
    init_project(root, options, parse_only("nginx"))
    site = (root / "deploy/nginx/shop.conf").read_text()
    assert "listen 443 ssl http2;" in site and "http2 on;" not in site
    assert "ssl_ecdh_curve X25519:prime256v1:secp384r1;" in site


def test_newer_nginx_and_openssl_get_http2_on_and_the_hybrid_group(tmp_path):
    root = flask_app(tmp_path / "shop")
    options = Options(nginx_version="1.27", openssl_version="3.5")
    init_project(root, options, parse_only("nginx"))
    site = (root / "deploy/nginx/shop.conf").read_text()
    assert "    http2 on;" in site and "ssl http2" not in site
    assert "ssl_ecdh_curve X25519MLKEM768:X25519:prime256v1:secp384r1;" in site


def test_version_option_is_checked():
    assert parse_version("1.25.3") == (1, 25)


def test_streaming_routes_are_not_buffered(tmp_path):
    root = write_app(tmp_path / "sse", {"app.py": SSE_APP, "requirements.txt": "flask==3.1\n"})
    init_project(root, Options(), parse_only("nginx"))
    site = (root / "deploy/nginx/sse.conf").read_text()
    block = site[site.index("location /events/stream {") :]
    block = block[: block.index("}")]
    assert "proxy_buffering off;" in block
    assert 'add_header Strict-Transport-Security "max-age=63072000; includeSubDomains"' in block


def test_every_location_repeats_every_security_header(tmp_path):
    root = write_app(tmp_path / "sse", {"app.py": SSE_APP, "requirements.txt": "flask==3.1\n"})
    init_project(root, Options(), parse_only("nginx"))
    site = (root / "deploy/nginx/sse.conf").read_text()
    main_server = site[site.rindex("server {") :]
    lines = [line.strip() for line in main_server.splitlines()]
    added = [line for line in lines if line.startswith("add_header ")]
    headers = [line for line in added if not line.startswith("add_header Retry-After ")]
    distinct = set(headers)
    assert len(distinct) == 7
    # the server block, its two locations and the one that answers the rate limit's 429s
    assert len(headers) == 4 * len(distinct)
    assert added.count("add_header Retry-After 1 always;") == 1


def test_alembic_gets_a_one_shot_migrations_service(tmp_path):
    root = flask_app(tmp_path / "shop", **{"alembic.ini": "[alembic]\n"})
    init_project(root, Options(), parse_only("compose"))
    services = yaml.safe_load((root / "compose.yaml").read_text())["services"]
    assert services["migrate"]["command"] == ["alembic", "upgrade", "head"]
    assert services["migrate"]["restart"] == "no"
    assert services["app"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }


def test_env_example_lists_every_variable_the_app_reads(tmp_path):
    app = (
        FLASK_APP
        + 'MODEL = os.environ.get("MODEL_PATH", "model.json")\n'
        + 'TRANSLATOR = os.environ["MS_TRANSLATOR_KEY"]\n'
        + 'DATABASE = os.environ["DATABASE_URL"]\n'
    )
    root = write_app(
        tmp_path / "shop",
        {"app.py": app, "requirements.txt": "flask==3.1.0\npsycopg==3.2.0\n"},
    )
    init_project(root, Options(), parse_only("env"))
    text = (root / ".env.production.example").read_text()
    lines = text.splitlines()
    values = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    assert "# MODEL_PATH=  (no value known" in text  # its default stays in force
    # The file is committed: no secret in it looks real, not even a random one.
    for name in ("SECRET_KEY", "POSTGRES_PASSWORD", "MS_TRANSLATOR_KEY"):
        assert values[name] == "replace-me", name
        assert is_placeholder(values[name])  # `prodready check` says so where it is used
    assert values["DATABASE_URL"] == "postgresql://app:replace-me@postgres:5432/app"
    draw = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
    for name in ("SECRET_KEY", "POSTGRES_PASSWORD"):  # drawn by the app or this deployment
        above = lines[lines.index(f"{name}=replace-me") - 1]
        assert above == f"#   {draw}", name
    # A provider's key cannot be drawn: the comment says where it comes from instead.
    above = lines[lines.index("MS_TRANSLATOR_KEY=replace-me") - 1]
    assert "provider issued" in above and draw not in above


def test_generated_python_is_lint_and_format_clean(tmp_path):
    """gunicorn.conf.py is code the user commits: ruff finds nothing in it, kit or not."""
    kit = write_app(tmp_path / "kit", {"app.py": KIT_APP, "requirements.txt": "flask==3.1.0\n"})
    plain = flask_app(tmp_path / "plain")
    for root in (kit, plain):
        init_project(root, Options(), parse_only("gunicorn"))
        conf = str(root / "gunicorn.conf.py")
        ruff = [sys.executable, "-m", "ruff"]
        for command in (["check", "--isolated", conf], ["format", "--isolated", "--check", conf]):
            result = subprocess.run([*ruff, *command], capture_output=True, text=True, check=False)
            assert result.returncode == 0, result.stdout + result.stderr


def test_worker_count_is_computed_where_the_config_runs(tmp_path, monkeypatch):
    root = flask_app(tmp_path / "shop")
    init_project(root, Options(), parse_only("gunicorn"))
    conf = str(root / "gunicorn.conf.py")
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    usable = len(os.sched_getaffinity(0))
    assert 2 <= runpy.run_path(conf)["workers"] <= max(2, usable + 1)
    monkeypatch.setenv("WEB_CONCURRENCY", "7")
    assert runpy.run_path(conf)["workers"] == 7


FLASK_MIGRATE_APP = """\
import os

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///shop.db")
db = SQLAlchemy(app)
migrate = Migrate(app, db)


class Order(db.Model):
    id = db.Column(db.Integer, primary_key=True)


@app.get("/health")
def health():
    return "ok"
"""


def test_flask_migrate_layout_gets_a_migrations_service_that_really_migrates(tmp_path):
    """migrations/alembic.ini is Flask-Migrate's layout (microblog's): the migrate service runs
    `flask db upgrade`, and that command, run as the service runs it, creates the tables."""
    requirements = "flask==3.1.0\nflask-sqlalchemy==3.1.1\nflask-migrate==4.1.0\n"
    files = {"app.py": FLASK_MIGRATE_APP, "requirements.txt": requirements}
    root = write_app(tmp_path / "shop", files)
    flask = [sys.executable, "-m", "flask", "--app", "app:app"]
    for step in (["db", "init"], ["db", "migrate", "-m", "orders"]):
        done = subprocess.run([*flask, *step], cwd=root, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    database = root / "instance" / "shop.db"  # Flask-SQLAlchemy puts SQLite in instance/
    database.unlink()  # `db migrate` created it empty, to compare the models with
    result = init_project(root, Options(), parse_only("compose"))
    command = list(result.context.migrations.command)
    assert command == ["flask", "--app", "app:app", "db", "upgrade"]
    services = yaml.safe_load((root / "compose.yaml").read_text())["services"]
    assert services["migrate"]["command"] == command
    program = str(Path(sys.executable).with_name("flask"))
    done = subprocess.run([program, *command[1:]], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    tables = sqlite3.connect(database).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    )
    assert {"order", "alembic_version"} <= {name for (name,) in tables}

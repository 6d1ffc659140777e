"""The Dockerfile installs with the project's own dependency manager, and hadolint accepts it."""

from __future__ import annotations

import pytest

from prodready.generate import validate
from prodready.generate.context import Options
from prodready.generate.run import init_project, parse_only
from tests.generate.conftest import FLASK_APP, write_app

PYPROJECT = """\
[project]
name = "shop"
version = "1.0"
requires-python = ">=3.11"
dependencies = ["flask==3.1.0", "gunicorn==23.0.0"]
"""
POETRY_PYPROJECT = """\
[tool.poetry]
name = "shop"
version = "1.0"

[tool.poetry.dependencies]
python = "^3.11"
flask = "3.1.0"
"""
PIPFILE = '[packages]\nflask = "==3.1.0"\n'

CASES = {
    "uv": (
        {"pyproject.toml": PYPROJECT, "uv.lock": "version = 1\n"},
        [
            "COPY pyproject.toml uv.lock ./",
            "uv sync --frozen --no-dev --no-install-project",
            "UV_COMPILE_BYTECODE=1",  # the app's user cannot write .pyc into /opt/venv
        ],
    ),
    "poetry": (
        {"pyproject.toml": POETRY_PYPROJECT, "poetry.lock": "# poetry\n"},
        ["COPY pyproject.toml poetry.lock requirements-server.txt ./", "poetry export --only main"],
    ),
    "pipenv": (
        {"Pipfile": PIPFILE, "Pipfile.lock": "{}\n"},
        [
            "COPY Pipfile Pipfile.lock requirements-server.txt ./",
            "pipenv requirements > /tmp/requirements.txt",
        ],
    ),
    "pep621": (
        {"pyproject.toml": PYPROJECT},
        [
            "COPY pyproject.toml ./",
            "uv pip install --python /opt/venv/bin/python -r pyproject.toml",
        ],
    ),
    "requirements-dir": (
        {"requirements/prod.txt": "flask==3.1.0\n", "requirements/dev.txt": "pytest\n"},
        [
            "COPY requirements/prod.txt requirements-server.txt ./",
            "pip install -r requirements/prod.txt",
        ],
    ),
}


@pytest.mark.parametrize("manager", sorted(CASES))
def test_dockerfile_installs_with_the_projects_manager(tmp_path, manager):
    files, expected = CASES[manager]
    root = write_app(tmp_path / "shop", {"app.py": FLASK_APP, **files})
    init_project(root, Options(), parse_only("dockerfile"))
    dockerfile = (root / "Dockerfile").read_text()
    for line in expected:
        assert line in dockerfile
    assert "--mount=type=cache" in dockerfile
    check = validate.check_hadolint(root / "Dockerfile")
    assert check.ok and check.output == "", check.output


def test_gunicorn_in_the_dependencies_needs_no_server_requirements(tmp_path):
    root = write_app(tmp_path / "shop", {"app.py": FLASK_APP, "pyproject.toml": PYPROJECT})
    result = init_project(root, Options(), parse_only("dockerfile,gunicorn"))
    assert "requirements-server.txt" not in {o.rendered.rel for o in result.outcomes}
    assert "requirements-server.txt" not in (root / "Dockerfile").read_text()


def test_asgi_app_runs_on_the_worker_serve_chooses(tmp_path):
    app = "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/')\ndef root():\n    return {}\n"
    root = write_app(tmp_path / "api", {"main.py": app, "requirements.txt": "fastapi==0.115.0\n"})
    result = init_project(root, Options(), parse_only("gunicorn"))
    worker_class = result.context.worker_class
    assert f'worker_class = "{worker_class}"' in (root / "gunicorn.conf.py").read_text()
    server = (root / "requirements-server.txt").read_text()
    assert "gunicorn==" in server
    assert ("uvicorn-worker==" in server) == worker_class.startswith("uvicorn")

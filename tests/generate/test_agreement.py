"""The files init writes agree with the files it leaves alone: after any init, `prodready check`
reports nothing new. Where the project's own files contradict each other, init says which one
must change, and `--validate` exits 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.generate.conftest import copy_example, run_cli, write_app

MICROBLOG = {
    "microblog.py": """\
import os
from flask import Flask

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]


@app.get("/")
def index():
    return "hello"
""",
    "requirements.txt": "flask==3.1.0\ngunicorn==23.0.0\n",
    "boot.sh": "#!/bin/bash\nexec gunicorn -b :5000 --access-logfile - microblog:app\n",
    "Dockerfile": """\
FROM python:3.12-slim
RUN useradd -m microblog
WORKDIR /home/microblog
COPY requirements.txt requirements.txt
RUN pip install --no-cache-dir -r requirements.txt
COPY microblog.py boot.sh ./
ENV PYTHONUNBUFFERED=1
USER microblog
EXPOSE 5000
ENTRYPOINT ["./boot.sh"]
""",
}


def findings(root: Path) -> set[tuple[str, str, str]]:
    result = run_cli("check", str(root), "--format", "json", "-q")
    assert result.returncode in (0, 1), result.stderr
    return {(f["path"], f["rule"], f["message"]) for f in json.loads(result.stdout)["findings"]}


@pytest.mark.parametrize("force", [False, True])
def test_init_adopts_the_port_of_the_server_it_leaves_alone(tmp_path: Path, force: bool) -> None:
    """microblog's Dockerfile starts `gunicorn -b :5000` through boot.sh: init's compose
    healthcheck and nginx upstreams used to say 8000, two new errors in init's own files."""
    root = write_app(tmp_path / "mb", MICROBLOG)
    before = findings(root)
    result = run_cli("init", str(root), "--no-color", *(["--force"] if force else []))
    assert result.returncode == 0, result.stderr
    assert "note: the app listens on 5000 (boot.sh:2): init's files use it" in result.stdout
    assert findings(root) - before == set()
    compose = yaml.safe_load((root / "compose.yaml").read_text())
    assert "127.0.0.1:5000/" in " ".join(compose["services"]["app"]["healthcheck"]["test"])
    assert "server app:5000" in (root / "deploy/nginx/compose/mb.conf").read_text()
    assert "server 127.0.0.1:5000" in (root / "deploy/nginx/mb.conf").read_text()


def test_contradicting_files_are_named_and_fail_validate(tmp_path: Path) -> None:
    files = {**MICROBLOG, "Procfile": "web: gunicorn -b 0.0.0.0:6000 microblog:app\n"}
    root = write_app(tmp_path / "mb", files)
    result = run_cli("init", str(root), "--no-color", "--validate", "--only", "gunicorn")
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "conflict: the project's own files bind the app to different ports "
        "(Procfile:1 binds 6000, boot.sh:2 binds 5000): make them agree; init's files use 5000"
    ) in result.stdout
    assert run_cli("init", str(tmp_path / "mb"), "--only", "gunicorn").returncode == 0


@pytest.mark.parametrize("example", ["riskapi", "flashcards", "bookshop"])
def test_after_init_check_reports_nothing_in_the_files_init_wrote(
    tmp_path: Path, example: str
) -> None:
    root = copy_example(example, tmp_path)
    existing = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    before = findings(root)
    assert run_cli("init", str(root)).returncode == 0
    new = findings(root) - before
    assert not [finding for finding in new if finding[0] not in existing], new

"""`prodready init` never clobbers: new files are created, identical ones left, different ones
left alone (with --diff to see, --force to overwrite); all or nothing when it cannot write."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from prodready.errors import InputError, UsageError
from prodready.generate.context import Options
from prodready.generate.run import init_project, parse_only
from prodready.generate.writer import Status
from tests.generate.conftest import flask_app, run_cli

NOBODY = 65534


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_second_run_changes_nothing(tmp_path):
    root = flask_app(tmp_path / "shop")
    first = init_project(root, Options())
    assert {o.status for o in first.outcomes} == {Status.CREATED}
    before = snapshot(root)
    second = init_project(root, Options())
    assert {o.status for o in second.outcomes} == {Status.UNCHANGED}
    assert snapshot(root) == before


def test_existing_file_is_left_alone_and_its_diff_shown(tmp_path):
    root = flask_app(tmp_path / "shop", Dockerfile="FROM python:3.12\nCMD python app.py\n")
    result = run_cli("init", str(root), "--diff", "--no-color")
    assert result.returncode == 0, result.stderr
    assert (root / "Dockerfile").read_text() == "FROM python:3.12\nCMD python app.py\n"
    assert "differs, left alone  Dockerfile" in result.stdout
    assert "-CMD python app.py" in result.stdout
    assert '+CMD ["gunicorn", "--config", "gunicorn.conf.py"]' in result.stdout
    assert (root / "compose.yaml").exists()


def test_without_diff_the_report_says_how_to_see_it(tmp_path):
    root = flask_app(tmp_path / "shop", Dockerfile="FROM python:3.12\n")
    result = run_cli("init", str(root), "--no-color")
    assert "--diff shows how, --force overwrites" in result.stdout
    assert "+FROM" not in result.stdout


def test_force_overwrites(tmp_path):
    root = flask_app(tmp_path / "shop", Dockerfile="FROM python:3.12\n")
    result = init_project(root, Options(), force=True)
    statuses = {o.rendered.rel: o.status for o in result.outcomes}
    assert statuses["Dockerfile"] == Status.OVERWRITTEN
    assert (root / "Dockerfile").read_text().startswith("# syntax=docker/dockerfile:1")


def test_env_example_is_the_same_file_on_a_second_run(tmp_path):
    """It holds placeholders, not secrets drawn anew: a second run finds it unchanged."""
    root = flask_app(tmp_path / "shop")
    init_project(root, Options())
    before = (root / ".env.production.example").read_text()
    again = init_project(root, Options(), parse_only("env"))
    assert [o.status for o in again.outcomes] == [Status.UNCHANGED]
    assert (root / ".env.production.example").read_text() == before


def test_only_writes_the_named_kinds(tmp_path):
    root = flask_app(tmp_path / "shop")
    result = init_project(root, Options(), parse_only("dockerfile, nginx"))
    assert sorted(o.rendered.rel for o in result.outcomes) == [
        ".dockerignore",
        "Dockerfile",
        "deploy/nginx/shop.conf",
        "requirements-server.txt",
    ]
    assert sorted(snapshot(root)) == sorted(
        ["app.py", "requirements.txt", *(o.rendered.rel for o in result.outcomes)]
    )


def test_only_with_an_unknown_kind_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="unknown kind 'helm'"):
        parse_only("dockerfile,helm")
    result = run_cli("init", str(flask_app(tmp_path / "shop")), "--only", "helm")
    assert result.returncode == 2
    assert result.stderr.startswith("error: --only names unknown kind 'helm'")
    assert "Traceback" not in result.stderr


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    """`deploy` is a file, so deploy/... cannot be created after the top-level files were
    already written to temporary files: none of them may be left."""
    root = flask_app(tmp_path / "shop")
    (root / "deploy").write_text("not a directory\n")
    before = snapshot(root)
    with pytest.raises(InputError, match="cannot write"):
        init_project(root, Options())
    assert snapshot(root) == before
    assert sorted(os.listdir(root)) == ["app.py", "deploy", "requirements.txt"]


@pytest.fixture
def world_readable_tmp():
    """A directory another user can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="prodready-init-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def test_unwritable_directory_is_one_line_and_exit_2(world_readable_tmp):
    root = flask_app(world_readable_tmp / "shop")
    root.chmod(0o555)
    # root may write anywhere: the refusal is shown as another user (as yourself otherwise)
    result = run_cli("init", str(root), user=NOBODY if os.geteuid() == 0 else None)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines()[0] == f"error: cannot write {root}/gunicorn.conf.py: " + (
        "Permission denied"
    )
    assert "nothing was written" in result.stderr
    assert sorted(os.listdir(root)) == ["app.py", "requirements.txt"]


def test_an_existing_compose_file_is_compared_not_shadowed(tmp_path):
    """`docker compose` prefers compose.yaml over docker-compose.yml: writing one beside the
    project's own would silently replace it."""
    old = "services:\n  web:\n    build: .\n"
    root = flask_app(tmp_path / "shop", **{"docker-compose.yml": old})
    result = init_project(root, Options(), parse_only("compose"))
    statuses = {o.rendered.rel: o.status for o in result.outcomes}
    assert statuses["docker-compose.yml"] == Status.DIFFERS
    assert not (root / "compose.yaml").exists()
    assert (root / "docker-compose.yml").read_text() == old


def test_validate_runs_each_tool_on_the_files_written(tmp_path):
    root = flask_app(tmp_path / "shop", Dockerfile="FROM python:3.12\n")
    result = run_cli("init", str(root), "--validate", "--no-color")
    assert result.returncode == 0, result.stdout + result.stderr
    tools = {" ".join(line.split()[:2]) for line in result.stdout.splitlines()[-5:]}
    assert tools == {
        "nginx -t",
        "promtool check",
        "systemd-analyze verify",
        "systemd-analyze security",
    }
    assert "hadolint" not in result.stdout  # the Dockerfile is the user's, left alone
    score = re.search(
        r"systemd-analyze security +shop.service +ok exposure (\d+\.\d+)", result.stdout
    )
    assert score and float(score[1]) <= 1.5


MICROBLOG_SITE = """\
server {
    listen 80;
    server_name _;
    location / {
        proxy_pass http://localhost:8000;
    }
}
"""


def test_the_projects_own_deployment_folder_is_used_not_a_second_one(tmp_path):
    """Like microblog's deployment/nginx/microblog: init adds to deployment/, and compares its
    nginx site with the project's own instead of writing a second nginx config."""
    root = flask_app(tmp_path / "shop")
    (root / "deployment" / "nginx").mkdir(parents=True)
    (root / "deployment" / "nginx" / "shop").write_text(MICROBLOG_SITE)
    result = run_cli("init", str(root), "--no-color")
    assert result.returncode == 0, result.stderr
    assert not (root / "deploy").exists()
    assert "deployment files go to deployment/, the project's own deployment folder" in (
        result.stdout
    )
    assert "differs, left alone  deployment/nginx/shop" in result.stdout
    assert (root / "deployment" / "nginx" / "shop").read_text() == MICROBLOG_SITE
    assert (root / "deployment" / "systemd" / "shop.service").is_file()
    compose = (root / "compose.yaml").read_text()
    assert "./deployment/nginx/compose/shop.conf:/etc/nginx/conf.d/default.conf:ro" in compose
    assert (root / "deployment" / "nginx" / "compose" / "shop.conf").is_file()
    assert "\ndeployment\n" in (root / ".dockerignore").read_text()


def test_a_folder_named_after_one_tool_is_not_taken_for_the_deployment_folder(tmp_path):
    root = flask_app(tmp_path / "shop")
    (root / "nginx").mkdir()
    (root / "nginx" / "nginx.conf").write_text(MICROBLOG_SITE)
    init_project(root, Options())
    assert (root / "deploy" / "systemd" / "shop.service").is_file()
    assert not (root / "nginx" / "systemd").exists()
    assert (root / "nginx" / "nginx.conf").read_text() == MICROBLOG_SITE

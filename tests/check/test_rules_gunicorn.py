"""PR602 follows the workers expression: the host's CPU count, directly or through names,
and not when it only caps a number set another way."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.check.helpers import findings_for


@pytest.mark.parametrize(
    ("config", "reported"),
    [
        ("import os\nworkers = os.cpu_count() * 2 + 1\n", True),
        ("import os\ncores = os.cpu_count()\nworkers = cores * 2\n", True),
        ("import os\nworkers = int(os.environ.get('WEB_CONCURRENCY', 3))\n", False),
        (
            "import multiprocessing, os\nworkers = int(os.environ.get('WEB_CONCURRENCY', 4))\n"
            "workers = min(workers, multiprocessing.cpu_count() * 2 + 1)\n",
            False,
        ),
        ("import os\nworkers = min(8, os.cpu_count() * 2 + 1)\n", False),
        ("import os\nworkers = min(os.cpu_count() * 4, os.cpu_count() * 2 + 1)\n", True),
        ("import os\nworkers = max(2, os.cpu_count() * 2 + 1)\n", True),
    ],
)
def test_pr602_workers_from_cpu_count(tmp_path: Path, config: str, reported: bool) -> None:
    (tmp_path / "gunicorn.conf.py").write_text(config)
    assert bool(findings_for(tmp_path, "PR602")) is reported


@pytest.mark.parametrize(
    ("bind", "reported"),
    [
        ('"unix:/run/app/gunicorn.sock"', False),
        ('["127.0.0.1:8000", "unix:/run/app.sock"]', False),
        ('"0.0.0.0:8000"', True),
        ('["127.0.0.1:8000", "0.0.0.0:9000"]', True),
        ("os.environ['BIND']", True),
    ],
)
def test_pr608_host_only_binds_are_no_container(tmp_path: Path, bind: str, reported: bool) -> None:
    """With a Dockerfile in the project, a config that binds only loopback or a unix socket is
    the host's (systemd behind a local nginx): nothing outside a container could reach it."""
    (tmp_path / "Dockerfile").write_text('FROM python:3.12-slim\nCMD ["gunicorn", "app:app"]\n')
    (tmp_path / "gunicorn.conf.py").write_text(f"import os\nbind = {bind}\n")
    assert bool(findings_for(tmp_path, "PR608")) is reported


@pytest.mark.parametrize(
    ("bind", "reported"),
    [
        ('"0.0.0.0:8000"', True),
        ('"127.0.0.1:8000,0.0.0.0:9000"', True),
        (None, True),  # the command line decides
        ('"127.0.0.1:8000"', False),  # only local processes connect, like a unix socket
        ('["unix:/run/app.sock", "[::1]:8000"]', False),
        ('"fd://3"', False),
    ],
)
def test_pr604_loopback_binds_are_like_a_unix_socket(
    tmp_path: Path, bind: str | None, reported: bool
) -> None:
    config = 'forwarded_allow_ips = "*"\n' + (f"bind = {bind}\n" if bind else "")
    (tmp_path / "gunicorn.conf.py").write_text(config)
    assert bool(findings_for(tmp_path, "PR604")) is reported

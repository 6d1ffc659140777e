"""PR602 follows the workers expression: the host's CPU count, directly or through names,
and not when it only caps a number set another way. The rules judge the settings in force:
the config file merged with the launch's command line and GUNICORN_CMD_ARGS."""

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


CONFIG = 'bind = "0.0.0.0:8000"\nmax_requests = 1000\nloglevel = "debug"\ntimeout = 0\n'
APP = "from flask import Flask\n\napp = Flask(__name__)\n"


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in {"app.py": APP, "gunicorn.conf.py": CONFIG, **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


RULES = ("PR603", "PR605", "PR606", "PR608")


def _reported(root: Path) -> set[str]:
    return {rule_id for rule_id in RULES if findings_for(root, rule_id)}


LAUNCHES = {
    "Dockerfile CMD": {
        "Dockerfile": 'FROM python:3.12-slim\nCMD ["gunicorn", "-c", "gunicorn.conf.py", '
        '"--max-requests-jitter", "100", "--log-level", "info", "--timeout", "60", '
        '"--worker-tmp-dir", "/dev/shm", "app:app"]\n'
    },
    "compose command": {
        "Dockerfile": "FROM python:3.12-slim\n",
        "compose.yaml": "services:\n  web:\n    build: .\n    command: gunicorn "
        "--max-requests-jitter=100 --log-level=info --timeout=60 --worker-tmp-dir=/dev/shm "
        "app:app\n",
    },
    "systemd ExecStart": {
        "Dockerfile": "FROM python:3.12-slim\n",
        "deploy/web.service": "[Service]\nWorkingDirectory=/srv/app\nExecStart=/srv/app/.venv/"
        "bin/gunicorn -c gunicorn.conf.py --max-requests-jitter 100 --log-level info "
        "--timeout 60 --worker-tmp-dir /dev/shm app:app\n",
    },
    "GUNICORN_CMD_ARGS": {
        "Dockerfile": 'FROM python:3.12-slim\nENV GUNICORN_CMD_ARGS="--max-requests-jitter 100 '
        '--log-level info --timeout 60 --worker-tmp-dir /dev/shm"\n'
        'CMD ["gunicorn", "app:app"]\n'
    },
}


@pytest.mark.parametrize("where", LAUNCHES)
def test_settings_given_by_the_launch_win_over_the_config_file(tmp_path: Path, where: str) -> None:
    assert _reported(_tree(tmp_path / "alone", {"Dockerfile": "FROM python:3.12-slim\n"})) == set(
        RULES
    )
    assert _reported(_tree(tmp_path / "merged", LAUNCHES[where])) == set()

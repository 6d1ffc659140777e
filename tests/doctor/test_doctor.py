"""`prodready doctor` and `prodready --version` on this machine, as users run them."""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.conftest import run_prodready

UV = Path(sys.executable).parent / "uv"
NAMES = ("python", "venv", "gunicorn", "uvicorn", "granian", "nginx", "systemd-analyze",
         "hadolint", "promtool", "cpus", "memory", "open files")  # fmt: skip


def need_port(name: str, port: int) -> None:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        message = f"{name} is not running on 127.0.0.1:{port} (make services)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def doctor_json(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict]:
    completed = run_prodready("doctor", "--json", *args, env=env)
    assert completed.returncode in (0, 1), completed.stderr
    return completed.returncode, json.loads(completed.stdout)


def test_every_part_is_checked_and_this_machine_passes() -> None:
    code, report = doctor_json()
    by_name = {check["name"]: check for check in report["checks"]}
    assert tuple(by_name) == NAMES
    assert code == 0 and report["ok"] is True
    assert by_name["gunicorn"]["status"] == "ok"
    assert by_name["gunicorn"]["detail"].startswith(f"{version('gunicorn')}, supported >=27,<28")
    assert by_name["python"]["status"] == "ok" and by_name["python"]["needed"] is True
    soft = int(by_name["open files"]["detail"].split()[1].rstrip(","))
    assert soft == resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def test_text_output_has_one_line_per_check_and_a_summary() -> None:
    completed = run_prodready("doctor")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0].split()[:2] == ["ok", "python"]
    assert lines[-1] == "everything prodready needs is here."


def test_a_gunicorn_too_old_fails_with_the_command_that_fixes_it(tmp_path: Path) -> None:
    old = tmp_path / "old"
    subprocess.run(
        [UV, "pip", "install", "--quiet", "--no-deps", "--target", old, "gunicorn==21.2.0"],
        check=True,
        timeout=300,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    )
    code, report = doctor_json(env={"PYTHONPATH": str(old)})
    gunicorn = next(check for check in report["checks"] if check["name"] == "gunicorn")
    assert code == 1 and report["ok"] is False
    assert gunicorn["status"] == "too old"
    assert gunicorn["detail"].startswith("21.2.0, supported >=27,<28")
    assert gunicorn["fix"] == "pip install 'gunicorn>=27,<28'"

    text = run_prodready("doctor", env={"PYTHONPATH": str(old)})
    assert text.returncode == 1
    assert "fix: pip install 'gunicorn>=27,<28'" in text.stdout
    assert text.stdout.splitlines()[-1] == "1 needed part(s) missing or unusable."


def test_services_from_the_apps_env_file_are_tried(tmp_path: Path) -> None:
    need_port("PostgreSQL", 5432)
    need_port("Redis", 6379)
    env_file = tmp_path / ".env"
    env_file.write_text(
        "DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres\n"
        "REDIS_URL=redis://127.0.0.1:6379/0\n"
        f"CACHE_URL=redis://127.0.0.1:{closed_port()}/0\n"
        "SECRET_KEY=not-a-url\n"
    )
    code, report = doctor_json("--env-file", str(env_file))
    by_name = {check["name"]: check for check in report["checks"]}
    assert by_name["DATABASE_URL"]["status"] == "ok"
    assert by_name["DATABASE_URL"]["detail"].startswith("PostgreSQL at 127.0.0.1:5432/postgres")
    assert by_name["REDIS_URL"]["status"] == "ok"
    assert by_name["CACHE_URL"]["status"] == "unreachable"
    assert by_name["CACHE_URL"]["fix"] == "start Redis or correct CACHE_URL"
    assert "SECRET_KEY" not in by_name
    assert code == 1


def test_a_missing_env_file_is_one_clear_line(tmp_path: Path) -> None:
    completed = run_prodready("doctor", "--env-file", str(tmp_path / "nope.env"))
    assert completed.returncode == 2
    assert completed.stderr.startswith("error: no such file: ")
    assert "hint: " in completed.stderr and "Traceback" not in completed.stderr


def test_version_names_the_servers_and_libraries_it_drives() -> None:
    completed = run_prodready("--version")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0].startswith("prodready ")
    for name in ("gunicorn", "uvicorn", "granian", "prometheus-client", "structlog", "limits"):
        assert f"{name} {version(name)}" in lines

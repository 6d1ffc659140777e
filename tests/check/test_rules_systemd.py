"""systemd's Environment= quoting and the module an ExecStart= imports (PR504, PR506)."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodready.check.rules.systemd import _relative_import, environment_assignments
from prodready.check.systemd_exposure import estimate, exposure
from prodready.project.parsers import systemd as systemd_parser
from tests.check.helpers import findings_for
from tests.runtime.runtime_support import need_program


def write_unit(tmp_path: Path, text: str, name: str = "app.service") -> Path:
    unit = tmp_path / "deploy" / name
    unit.parent.mkdir(exist_ok=True)
    unit.write_text(text)
    return unit


def test_environment_assignments_follow_systemd_quoting() -> None:
    value = 'A=1 "B=two words" C='
    assert environment_assignments(value) == [("A", "1"), ("B", "two words"), ("C", "")]


@pytest.mark.parametrize(
    ("command", "module"),
    [
        ("/srv/app/.venv/bin/gunicorn -w 3 app:app", "app:app"),
        ("/srv/app/.venv/bin/python -m gunicorn shop.wsgi:application", "shop.wsgi:application"),
        ("/usr/bin/python3 -m shop.worker", "shop.worker"),
        ("/srv/app/.venv/bin/uvicorn main:app --port 8000", "main:app"),
        ("/srv/app/.venv/bin/python /srv/app/run.py", None),
    ],
)
def test_relative_import(command: str, module: str | None) -> None:
    assert _relative_import(command.split()) == module


def test_user_unit_is_not_root(tmp_path: Path) -> None:
    write_unit(
        tmp_path,
        "[Service]\nExecStart=/home/me/app/.venv/bin/gunicorn app:app\n"
        "[Install]\nWantedBy=default.target\n",
    )
    assert findings_for(tmp_path, "PR501") == []


@pytest.mark.parametrize(
    ("exec_start", "reported"),
    [
        ("/usr/bin/docker compose -f /srv/shop/compose.yaml up", False),
        ("-/usr/bin/docker run --rm --name shop registry.example.com/shop:1.2", False),
        ("/usr/local/bin/docker-compose up", False),
        ("/srv/app/.venv/bin/gunicorn app:app", True),
        ("/usr/bin/podman run --rm registry.example.com/shop:1.2", True),
    ],
)
def test_unit_driving_the_docker_client_is_not_judged_as_the_app(
    tmp_path: Path, exec_start: str, reported: bool
) -> None:
    """The app runs in the container the daemon starts: User= and sandboxing of the docker
    client confine nothing (PR201 judges the image's user). Rootless podman does honour User=."""
    write_unit(tmp_path, f"[Service]\nExecStart={exec_start}\nRestart=always\n")
    assert bool(findings_for(tmp_path, "PR501")) is reported
    assert bool(findings_for(tmp_path, "PR503")) is reported


def test_oneshot_job_needs_no_sandboxing(tmp_path: Path) -> None:
    unit = write_unit(
        tmp_path,
        "[Service]\nType=oneshot\nUser=app\nWorkingDirectory=/srv/app\n"
        "ExecStart=/srv/app/.venv/bin/flask --app app db upgrade\n",
    )
    assert findings_for(tmp_path, "PR503") == []
    unit.write_text(unit.read_text().replace("Type=oneshot", "Type=simple"))
    assert findings_for(tmp_path, "PR503")


def test_url_under_a_secret_name_is_not_a_literal_secret(tmp_path: Path) -> None:
    write_unit(
        tmp_path,
        "[Service]\nUser=app\nExecStart=/srv/app/.venv/bin/gunicorn app:app\n"
        "Environment=TOKEN_URL=https://auth.example.com/oauth/token\n"
        "Environment=DATABASE_URL=postgresql://app:postgres@db/app\n",
    )
    assert [f.line for f in findings_for(tmp_path, "PR504")] == [5]


@pytest.mark.parametrize(
    ("exec_start", "config", "reported"),
    [
        ("gunicorn -c /srv/app/deploy/gunicorn.conf.py app:app", 'chdir = "/srv/app"\n', False),
        ("gunicorn --config=/etc/app/gunicorn.conf.py app:app", 'pythonpath = "/srv"\n', False),
        ("gunicorn --pythonpath /srv/app app:app", "", False),
        ("gunicorn -c /srv/app/deploy/gunicorn.conf.py app:app", "workers = 3\n", True),
        ("gunicorn -c /srv/app/other.conf.py app:app", 'chdir = "/srv/app"\n', True),
    ],
)
def test_pr506_gunicorn_config_may_set_the_path(
    tmp_path: Path, exec_start: str, config: str, reported: bool
) -> None:
    write_unit(tmp_path, f"[Service]\nUser=app\nExecStart=/srv/app/.venv/bin/{exec_start}\n")
    (tmp_path / "deploy" / "gunicorn.conf.py").write_text(config)
    assert bool(findings_for(tmp_path, "PR506")) is reported


HARDENED = (
    "NoNewPrivileges=yes\nProtectSystem=strict\nProtectHome=yes\nPrivateTmp=yes\n"
    "CapabilityBoundingSet=\nSystemCallFilter=@system-service\nSystemCallArchitectures=native\n"
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX\nRestrictNamespaces=yes\n"
    "RestrictSUIDSGID=yes\nRestrictRealtime=yes\nLockPersonality=yes\n"
    "MemoryDenyWriteExecute=yes\nPrivateDevices=yes\nProtectKernelTunables=yes\n"
    "ProtectKernelModules=yes\nProtectKernelLogs=yes\nProtectControlGroups=yes\n"
    "ProtectClock=yes\nProtectHostname=yes\nProtectProc=invisible\nProcSubset=pid\n"
    "PrivateUsers=yes\nRemoveIPC=yes\nUMask=0027\n"
)
UNITS = {
    "bare-root": "[Service]\nExecStart=/srv/app/.venv/bin/gunicorn app:app\n",
    "user": "[Service]\nUser=app\nExecStart=/srv/app/.venv/bin/gunicorn app:app\n",
    "basic": "[Service]\nUser=app\nExecStart=/srv/app/.venv/bin/gunicorn app:app\n"
    "NoNewPrivileges=yes\nProtectSystem=strict\nProtectHome=yes\nPrivateTmp=yes\n",
    "hardened": "[Service]\nUser=app\nExecStart=/srv/app/.venv/bin/gunicorn app:app\n" + HARDENED,
    "dynamic": "[Service]\nDynamicUser=yes\nExecStart=/srv/app/.venv/bin/gunicorn app:app\n",
}


@pytest.mark.parametrize("name", UNITS)
def test_exposure_estimate_agrees_with_systemd_analyze(tmp_path: Path, name: str) -> None:
    need_program("systemd-analyze")
    path = tmp_path / f"{name}.service"
    path.write_text(UNITS[name])
    unit = systemd_parser.parse(path.name, UNITS[name])
    measured = exposure(path, unit)
    assert measured.measured
    assert abs(estimate(unit).score - measured.score) <= 0.6, (estimate(unit), measured)


@pytest.mark.parametrize(
    ("name", "severity"),
    [("user", "warning"), ("basic", "info"), ("hardened", None)],
)
@pytest.mark.parametrize("analyzer", [True, False])
def test_pr503_reports_units_by_their_exposure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, severity: str | None, analyzer: bool
) -> None:
    if analyzer:
        need_program("systemd-analyze")
    else:
        monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))  # systemd-analyze not installed
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "app.service").write_text(UNITS[name])
    found = findings_for(tmp_path, "PR503")
    assert [f.severity for f in found] == ([severity] if severity else [])
    if found:
        assert ("prodready's estimate" in found[0].message) is not analyzer


@pytest.mark.parametrize(
    ("exec_start", "reported"),
    [
        ("/usr/bin/flock /run/lock/seed.lock /usr/local/bin/uv run task seeds_load", False),
        ("/srv/app/.venv/bin/python manage.py migrate", False),
        ("/srv/app/.venv/bin/gunicorn app:app", True),
    ],
)
def test_oneshot_unit_that_starts_no_server_is_not_judged_as_root_service(
    tmp_path: Path, exec_start: str, reported: bool
) -> None:
    write_unit(tmp_path, f"[Service]\nType=oneshot\nExecStart={exec_start}\n")
    assert bool(findings_for(tmp_path, "PR501")) is reported

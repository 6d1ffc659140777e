"""`prodready deploy` and `rollback` with real Gunicorn (and Granian) generations on unix
sockets behind real nginx: the switch drops nothing, and every failure leaves the old release
serving with the lock free."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.conftest import run_prodready
from tests.deploy.conftest import Site
from tests.deploy.traffic import Traffic

pytestmark = pytest.mark.slow


def test_deploy_switches_without_a_failed_request_and_rollback_returns(live: Site):
    with Traffic(live.port) as traffic:
        second = live.deploy("v2")
        time.sleep(0.5)
    assert second.returncode == 0, second.stderr
    assert live.version() == "v2"
    assert traffic.results["ok"] > 50
    assert traffic.failed == {}
    assert len(live.generations()) == 1  # the old generation was drained and stopped

    with Traffic(live.port) as traffic:
        back = live.rollback()
        time.sleep(0.5)
    assert back.returncode == 0, back.stderr
    assert "rolled back to" in back.stdout
    assert live.version() == "v1"
    assert traffic.failed == {}

    status = run_prodready("deploy", "--status", "--json", "--root", live.root)
    report = json.loads(status.stdout)
    current = [r for r in report["releases"] if r["current"]]
    assert [r["health"] for r in current] == ["GET /ready: 200"]
    assert [s["step"] for s in report["last"]] == ["start", "gate", "switch", "drain", "rollback"]


def test_the_nginx_include_is_written_once_and_nginx_is_not_reloaded_by_a_switch(live: Site):
    include = live.root / "nginx" / "upstream.conf"
    written = include.stat().st_mtime_ns
    second = live.deploy("v2")
    assert second.returncode == 0, second.stderr
    assert include.stat().st_mtime_ns == written
    log = [json.loads(line) for line in (live.root / "deploy.log").read_text().splitlines()]
    switch = [line for line in log if line["step"] == "switch"]
    assert "nginx reloaded" in switch[0]["message"] or "not running" in switch[0]["message"]
    assert switch[-1]["message"] == "upstream include unchanged: no nginx reload"


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("broken-import", "ImportError: this release cannot import"),
        ("broken-health", "GET /ready: 503"),
    ],
)
def test_a_broken_release_exits_1_and_the_old_one_keeps_serving(live: Site, version, expected):
    with Traffic(live.port) as traffic:
        # Long enough for a new generation to boot on a busy machine, so the gate sees its 503.
        failed = live.deploy(version, "--timeout", "15")
    assert failed.returncode == 1, failed.stderr
    assert failed.stderr.startswith("error: ")
    assert expected in failed.stderr  # the new generation's last log lines, or the last probe
    assert "Traceback" not in failed.stderr.split("last lines")[0]
    assert live.version() == "v1"
    assert traffic.failed == {}
    assert len(live.generations()) == 1
    assert len(list((live.root / "releases").iterdir())) == 1  # the failed release is removed
    assert live.deploy("v3").returncode == 0  # the lock was released


def test_a_failing_release_command_stops_before_anything_starts(live: Site):
    failed = live.deploy("v2", "--release-command", "python -c 'raise SystemExit(3)'")
    assert failed.returncode == 1
    assert "release command" in failed.stderr and "exited 3" in failed.stderr
    assert live.version() == "v1"
    assert len(live.generations()) == 1


def test_nginx_refusing_the_config_stops_the_deploy_with_the_old_release_serving(live: Site):
    (live.root / "nginx" / "upstream.conf").unlink()  # forces a rewrite, hence nginx -t
    live.conf.write_text(live.conf.read_text().replace("keepalive 16;", "keepalive sixteen;"))
    failed = live.deploy("v2")
    assert failed.returncode == 1
    assert "nginx -t refused the configuration" in failed.stderr
    assert "keepalive" in failed.stderr  # nginx's own words
    assert live.version() == "v1"  # the running nginx kept its config
    assert len(live.generations()) == 1


def test_a_second_deploy_while_one_runs_exits_2_in_one_line(live: Site):
    first = live.deploy_process("broken-health", "--timeout", "8")
    try:
        _wait_for(lambda: len(live.generations()) == 2, 30)  # the first is in its gate
        second = live.deploy("v3")
    finally:
        first.wait(timeout=60)
    assert second.returncode == 2
    assert second.stderr.startswith("error: another deploy or rollback is running")
    assert len(second.stderr.strip().splitlines()) == 2  # the error and its hint
    assert first.returncode == 1
    assert live.version() == "v1"


@pytest.mark.parametrize("how", ["SIGINT", "SIGKILL"])
def test_an_interrupted_deploy_leaves_the_old_release_serving_and_the_next_one_recovers(
    live: Site, how: str
):
    import signal

    deploying = live.deploy_process("v2")
    _wait_for(lambda: len(live.generations()) == 2, 30)  # the new generation is in its gate
    deploying.send_signal(getattr(signal, how))
    deploying.wait(timeout=60)
    assert live.version() == "v1"
    if how == "SIGINT":
        assert deploying.returncode == 1
        assert "interrupted" in deploying.stderr.read()
        assert len(live.generations()) == 1  # it stopped its new generation itself
    nxt = live.deploy("v3")
    assert nxt.returncode == 0, nxt.stderr
    assert live.version() == "v3"
    assert len(live.generations()) == 1
    if how == "SIGKILL":
        assert "stopped generation" in (live.root / "deploy.log").read_text()


def test_granian_generations_deploy_and_roll_back(site: Site):
    first = site.deploy("v1", "--server", "granian")
    assert first.returncode == 0, first.stderr
    site.start_nginx()
    with Traffic(site.port) as traffic:
        second = site.deploy("v2", "--server", "granian")
        time.sleep(0.5)
    assert second.returncode == 0, second.stderr
    assert site.version() == "v2"
    assert traffic.failed == {}
    assert site.rollback("--server", "granian").returncode == 0
    assert site.version() == "v1"


def _wait_for(condition, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


DROP_COLUMN = """from alembic import op


def upgrade():
    op.drop_column("card", "legacy")
"""


def test_a_breaking_migration_stops_the_deploy_unless_allowed(live: Site):
    (live.app / "alembic.ini").write_text("[alembic]\nscript_location = alembic\n")
    versions = live.app / "alembic" / "versions"
    versions.mkdir(parents=True)
    (versions / "001_start.py").write_text("def upgrade():\n    pass\n")
    migrate = ["--release-command", "python -c pass"]
    assert live.deploy("v2", *migrate).returncode == 0  # 001 is new, and harmless
    (versions / "002_drop.py").write_text(DROP_COLUMN)
    refused = live.deploy("v3", *migrate)
    assert refused.returncode == 1
    assert "1 new migration step(s) would break the running release" in refused.stderr
    assert "alembic/versions/002_drop.py:5: op.drop_column drops a column" in refused.stderr
    assert "expand/contract" in refused.stderr
    assert live.version() == "v2"
    allowed = live.deploy("v3", *migrate, "--allow-breaking-migration", "--warmup", "/version")
    assert allowed.returncode == 0, allowed.stderr
    assert live.version() == "v3"
    log = (live.root / "deploy.log").read_text()
    assert "allowed by --allow-breaking-migration" in log
    assert "warm-up on 16 connections: /ready 200, /version 200" in log


def test_a_release_is_compiled_to_bytecode_when_it_is_built(site: Site):
    """A generation's processes may not write .pyc files (a read-only release, or
    PYTHONDONTWRITEBYTECODE as on these machines): bytecode made at build time spares every
    boot, a rollback's too, from compiling each module it imports from source."""
    (site.app / "requirements.txt").write_text("blinker\n")  # in the cache make test warms
    env = {**os.environ, "UV_OFFLINE": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    done = run_prodready(
        "deploy", site.app, "--root", site.root, "--skip-check", "--proxy", "none", env=env
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    release = (site.root / "current").resolve()
    assert list((release / "__pycache__").glob("app.cpython-*.pyc"))
    site_packages = next((release / ".venv" / "lib").glob("python3*/site-packages"))
    assert list((site_packages / "blinker" / "__pycache__").glob("*.pyc"))
    assert list((site_packages / "gunicorn" / "__pycache__").glob("*.pyc"))  # the server pins


def nice_of(pid: int) -> int:
    """The nice value from /proc/PID/stat (the 19th field)."""
    return int(Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[16])


@pytest.mark.skipif(os.geteuid() != 0, reason="raising a priority back needs root")
def test_the_new_generation_boots_below_the_serving_one_then_serves_at_full_priority(
    live: Site,
):
    """Building and booting yield the CPUs to the generation that serves (nice 10); once the
    new generation passed its gate, its master and workers are back at the deploy's own
    priority."""
    assert live.deploy("v2").returncode == 0
    release = (live.root / "current").resolve()
    assert (release / "BOOT_NICE").read_text().strip() == "10"
    master = int((live.root / "run" / f"{release.name}.pid").read_text().split()[0])
    workers = [
        int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()
    ]
    assert workers, "the generation has no workers"
    assert [nice_of(pid) for pid in [master, *workers]] == [0] * (1 + len(workers))
    assert live.version() == "v2"

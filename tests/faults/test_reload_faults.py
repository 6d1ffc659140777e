"""`prodready reload` when the new workers fail, and `reload --pid` given the wrong process.

Whatever way the new workers fail after the import check passed (an exception or a crash at
boot, a boot that never ends, a failure in only some of them), the old workers keep serving,
the reload exits 2 with one line, and a later good reload works. A pid file that names a
process prodready did not start is refused before any signal is sent.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_prodready
from tests.serve.support import BackgroundLoad, Server, get

pytestmark = pytest.mark.slow

APPS = Path(__file__).parent / "apps"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    app_dir = tmp_path / "app"
    shutil.copytree(APPS, app_dir, ignore=shutil.ignore_patterns("__pycache__"))
    started = Server(app_dir, "bootfail:app", "--workers", "2").start()
    yield started
    started.stop()


@pytest.mark.parametrize(
    ("mode", "reload_args"),
    [
        ("raise", ()),
        ("crash", ()),
        ("hang", ("--timeout", "5")),
        ("first-fails", ()),
    ],
)
def test_new_workers_that_fail_to_boot_leave_the_old_ones_serving(
    server: Server, mode: str, reload_args: tuple[str, ...]
) -> None:
    old_workers = server.workers()
    (server.app_dir / "boot_mode.txt").write_text(mode)
    load = BackgroundLoad(server.base + "/ping", 50.0, 4.0)
    load.start()

    completed = run_prodready("reload", "--pid", server.pidfile, *reload_args, timeout=90)
    result = load.finish()

    assert completed.returncode == 2, completed.stdout + completed.stderr + server.log()
    lines = completed.stderr.splitlines()
    assert lines[0].startswith("error: not reloaded: "), completed.stderr
    assert "old workers keep serving" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert server.process is not None and server.process.poll() is None, server.log()
    assert _settled_workers(server) == old_workers, server.log()
    assert json.loads(get(server.base + "/ping")[1]) == {"mode": "ok"}
    assert result.errors == {}, result.errors

    (server.app_dir / "boot_mode.txt").write_text("ok")
    (server.app_dir / "failed_once").unlink(missing_ok=True)
    again = run_prodready("reload", "--pid", server.pidfile, timeout=90)
    assert again.returncode == 0, again.stderr + server.log()
    assert not server.workers() & old_workers
    assert len(server.workers()) == len(old_workers)


def _settled_workers(server: Server, timeout_s: float = 10.0) -> set[int]:
    """The master's children once the failed new workers are gone (no respawn)."""
    deadline = time.monotonic() + timeout_s
    workers = server.workers()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        again = server.workers()
        if again == workers:
            return workers
        workers = again
    return workers


def test_a_stale_pid_file_naming_another_process_is_refused(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "300"])
    try:
        pidfile = tmp_path / "v.pid"
        pidfile.write_text(f"{sleeper.pid}\n")

        completed = run_prodready("reload", "--pid", pidfile)

        assert completed.returncode == 2, completed.stdout
        lines = completed.stderr.splitlines()
        assert lines[0].startswith("error: "), completed.stderr
        assert f"process {sleeper.pid}" in lines[0]
        assert "not a server started by prodready" in lines[0]
        assert len(lines) == 2 and lines[1].startswith("hint: ")
        time.sleep(0.5)
        assert sleeper.poll() is None, "reload signalled the unrelated process"
    finally:
        sleeper.send_signal(signal.SIGKILL)
        sleeper.wait()


def test_a_pid_file_of_a_server_that_restarted_with_another_pid_is_refused(
    server: Server, tmp_path: Path
) -> None:
    """The pid in the file is alive and has prodready's environment (a forked child of the
    server, here one of its workers), but it is not the master that serve recorded."""
    worker = min(server.workers())
    pidfile = tmp_path / "worker.pid"
    pidfile.write_text(f"{worker}\n")

    completed = run_prodready("reload", "--pid", pidfile)

    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "not a server started by prodready" in completed.stderr
    assert worker in server.workers()

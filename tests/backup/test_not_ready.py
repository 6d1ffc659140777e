"""`prodready restore` marks a real app (Gunicorn, the runtime kit) not-ready while it swaps the
database under it, and ready again afterwards."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.backup.conftest import Db, backup_ok
from tests.conftest import PRODREADY
from tests.server_errors import assert_clean_server_log

APP = """
import os
import re

import psycopg
from flask import Flask

from prodready.runtime import Production

app = Flask(__name__)
Production(app)


@app.get("/count")
def count():
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        return {"items": conn.execute("SELECT count(*) FROM items").fetchone()[0]}
"""


@dataclass
class App:
    url: str
    flag: Path

    def ready(self) -> tuple[int, str]:
        answer = httpx.get(f"{self.url}/health/ready", timeout=5)
        output = answer.json().get("checks", {}).get("process:maintenance", [{}])[0]
        return answer.status_code, output.get("output", "")

    def items(self) -> int:
        return httpx.get(f"{self.url}/count", timeout=5).json()["items"]


@pytest.fixture
def app(db: Db, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[App]:
    """The app on Gunicorn (two workers), told where its not-ready flag is."""
    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "notready_app.py").write_text(APP)
    flag = tmp_path / "run" / "not-ready"
    flag.parent.mkdir()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.set_inheritable(True)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    log = tmp_path / "gunicorn.log"
    env = {**os.environ, "DATABASE_URL": db.url, "PRODREADY_NOT_READY_FILE": str(flag)}
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "notready_app:app", "-w", "2",
             "--bind", f"fd://{listener.fileno()}"],
            cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT,
            pass_fds=(listener.fileno(),),
        )  # fmt: skip
    listener.close()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield App(url, flag)
    finally:
        server.terminate()
        server.wait(timeout=30)
        assert_clean_server_log(log.read_text(), "gunicorn notready_app:app", request)


def test_restore_marks_the_app_not_ready_while_it_swaps_then_ready(prodready, db, app):
    backup_id = backup_ok(prodready, db)["id"]
    db.sql("DELETE FROM items WHERE id > 500")
    assert app.items() == 500 and app.ready() == (200, "")

    with ThreadPoolExecutor(1) as pool:
        restoring = pool.submit(
            prodready, "restore", backup_id, *db.args(),
            "--not-ready-file", app.flag, "--not-ready-wait", "1.5",
        )  # fmt: skip
        seen: list[tuple[int, str]] = []
        while not restoring.done():
            seen.append(app.ready())
            time.sleep(0.05)
        done = restoring.result()
    assert done.returncode == 0, done.stderr

    statuses = [status for status, _ in seen]
    first, last = statuses.index(503), len(statuses) - 1 - statuses[::-1].index(503)
    assert set(statuses[:first]) == {200} and set(statuses[first : last + 1]) == {503}
    assert set(statuses[last + 1 :]) <= {200}  # one window, ready again after it
    reason = seen[first][1]
    assert reason.startswith(f"maintenance: prodready restore of {backup_id} is swapping")
    assert str(app.flag) in reason  # says how to clear a flag a killed restore left
    window = re.search(r"the app was marked not-ready for ([0-9.]+) s \((.+)\)", done.stdout)
    assert window and float(window[1]) >= 1.5 and window[2] == str(app.flag)  # wait, then swap
    assert not app.flag.exists() and app.ready() == (200, "")
    assert app.items() == 2000  # the restored data, served by the same workers

    undone = prodready("restore", "--undo", *db.args(), "--not-ready-file", app.flag,
                       "--not-ready-wait", "0")  # fmt: skip
    assert undone.returncode == 0, undone.stderr
    assert re.search(
        rf"marked not-ready for [0-9.]+ s \({re.escape(str(app.flag))}\)", undone.stdout
    )
    assert not app.flag.exists() and app.items() == 500


def test_a_flag_set_by_someone_else_stays(prodready, db, tmp_path):
    backup_id = backup_ok(prodready, db)["id"]
    flag = tmp_path / "not-ready"
    flag.write_text("deploy of v42 in progress\n")
    done = prodready("restore", backup_id, *db.args(), "--not-ready-wait", "0",
                     env={"PRODREADY_NOT_READY_FILE": str(flag)})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert flag.read_text() == "deploy of v42 in progress\n"
    assert "marked not-ready" not in done.stdout


def test_a_restore_stopped_while_not_ready_clears_the_flag_and_swaps_nothing(
    prodready, db, tmp_path
):
    backup_id = backup_ok(prodready, db)["id"]
    db.sql("DELETE FROM items WHERE id > 500")
    before = db.databases()
    flag = tmp_path / "not-ready"
    restoring = subprocess.Popen(
        [str(PRODREADY), "restore", backup_id, *db.args(), "--not-ready-file", str(flag),
         "--not-ready-wait", "60"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not flag.exists():
        assert restoring.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    restoring.terminate()  # systemd stop, a timeout: during the wait before the swap
    _, stderr = restoring.communicate(timeout=30)
    assert restoring.returncode == 130, stderr
    assert "interrupted: the live database was not replaced" in stderr
    assert not flag.exists()
    assert db.count() == 500 and db.databases() == before  # the restored copy was dropped


def test_a_flag_folder_that_cannot_be_written_is_refused_before_restoring(prodready, db, tmp_path):
    backup_id = backup_ok(prodready, db)["id"]
    before = db.databases()
    refused = prodready("restore", backup_id, *db.args(), "--not-ready-file",
                        tmp_path / "missing" / "not-ready")  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "cannot write the not-ready file" in refused.stderr.splitlines()[0]
    assert "Traceback" not in refused.stderr
    assert db.databases() == before


def test_the_config_names_the_flag(prodready, db, tmp_path):
    backup_id = backup_ok(prodready, db)["id"]
    (db.dest.parent / "run").mkdir()
    (db.dest.parent / ".prodready.toml").write_text('[backup]\nnot-ready-file = "run/down"\n')
    done = prodready("restore", backup_id, *db.args(), "--not-ready-wait", "0")
    assert done.returncode == 0, done.stderr
    assert f"s ({db.dest.parent / 'run' / 'down'})" in done.stdout
    assert not (db.dest.parent / "run" / "down").exists()

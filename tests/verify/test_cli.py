"""`prodready verify`'s contract: exit codes, bad input, the boot, the check item."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.verify.conftest import run_verify
from tests.verify.variants import example_copy


def test_a_directory_without_an_app_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("no app here\n")
    result = run_verify(tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: no WSGI or ASGI app found")
    assert "Traceback" not in result.stderr


def test_a_missing_directory_is_exit_2(tmp_path: Path) -> None:
    result = run_verify(tmp_path / "nowhere")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_an_unknown_item_is_named_with_the_known_ones(tmp_path: Path) -> None:
    result = run_verify(tmp_path, "--only", "helth")
    assert result.returncode == 2
    assert "unknown item helth" in result.stderr and "health" in result.stderr


def test_an_app_that_does_not_boot_shows_its_log_tail_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "from flask import Flask\nraise RuntimeError('settings missing: SECRET_KEY')\n"
        "app = Flask(__name__)\n"
    )
    result = run_verify(tmp_path, "--only", "check")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "settings missing: SECRET_KEY" in result.stderr
    assert "Traceback (most recent call last)" not in result.stderr.splitlines()[0]


def test_riskapi_check_item_fails_on_its_errors_and_the_scratch_database_is_dropped(
    tmp_path: Path, pg_server: str
) -> None:
    app = example_copy("riskapi", tmp_path)
    result = run_verify(app, "--only", "check", "--json", "--database-url", pg_server)
    assert result.returncode == 1, result.stderr
    card = json.loads(result.stdout)
    (item,) = card["items"]
    assert item["id"] == "check" and item["status"] == "fail"
    assert item["measures"]["errors"] >= 5
    assert any("PR901" in line for line in item["details"])
    scratch = [n for n in card["boot"] if "scratch database" in n]
    assert scratch, card["boot"]
    name = scratch[0].split("scratch database ")[1].split()[0]
    with psycopg.connect(pg_server, autocommit=True) as conn:
        left = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchall()
    assert left == []


def test_the_production_launch_decides_folder_app_and_environment(tmp_path: Path) -> None:
    """compose builds ./web and runs `gunicorn main:app` with GREETING set: verify serves
    main:app from web/ with GREETING, or the app (which needs both) would not boot."""
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "main.py").write_text(
        "import os\nfrom flask import Flask\n"
        "if os.environ.get('GREETING') != 'hi':\n    raise RuntimeError('GREETING unset')\n"
        "app = Flask(__name__)\n\n@app.get('/')\ndef index():\n    return 'hi'\n"
    )
    (tmp_path / "web" / "other.py").write_text("from flask import Flask\nother = Flask(__name__)\n")
    (tmp_path / "web" / ".env.web").write_text("GREETING=hello\nCOLOUR=blue\n")
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  web:\n    build: ./web\n    command: gunicorn --workers 3 main:app\n"
        "    env_file: web/.env.web\n    environment:\n      GREETING: hi\n"
        "      HOSTNAME_FROM_SHELL: ${HOSTNAME}\n"
    )
    result = run_verify(tmp_path, "--only", "check", "--json")
    assert result.returncode in (0, 1), result.stderr
    card = json.loads(result.stdout)
    assert card["app"] == "main:app"
    assert (
        "production runs `gunicorn --workers 3 main:app` (docker-compose.yml:4, with the 2 "
        "variables compose gives service web): its options reach prodready serve" in card["boot"]
    )


def test_a_dockerfile_command_gets_the_environment_of_the_service_that_builds_it(
    tmp_path: Path,
) -> None:
    """The Dockerfile's CMD runs the app; compose builds that Dockerfile and sets DATA_FILE to
    a path under the image's WORKDIR: verify gives the app that variable, as the same path in
    the folder it serves from (the app refuses to start without the file)."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "seed.txt").write_text("hi")
    (tmp_path / "main.py").write_text(
        "import os\nfrom pathlib import Path\nfrom flask import Flask\n"
        "GREETING = Path(os.environ['DATA_FILE']).read_text()\n"
        "app = Flask(__name__)\n\n@app.get('/')\ndef index():\n    return GREETING\n"
    )
    (tmp_path / "Dockerfile").write_text(
        'FROM python:3.12-slim\nWORKDIR /srv/app\nCOPY . .\nCMD ["gunicorn", "main:app"]\n'
    )
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  web:\n    build: .\n    environment:\n"
        "      DATA_FILE: /srv/app/data/seed.txt\n"
    )
    result = run_verify(tmp_path, "--only", "check", "--json")
    assert result.returncode in (0, 1), result.stderr
    card = json.loads(result.stdout)
    assert (
        "production runs `gunicorn main:app` (Dockerfile:4, with the 1 variables compose gives "
        "service web)" in card["boot"]
    ), card["boot"]


def test_several_apps_and_no_launch_naming_one_is_exit_2(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / f"{name}.py").write_text(f"from flask import Flask\n{name} = Flask(__name__)\n")
    result = run_verify(tmp_path, "--only", "check")
    assert result.returncode == 2
    assert "several apps found (one:one, two:two)" in result.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_while_the_app_boots_leaves_no_server_behind(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """The served app runs in a session of its own (so a stop can take its workers): Ctrl-C
    or SIGTERM while it boots must stop it too, or it serves on after verify is gone."""
    (tmp_path / "app.py").write_text(
        "import time\n\nfrom flask import Flask\n\ntime.sleep(60)  # a slow import\n"
        "app = Flask(__name__)\n"
    )
    (tmp_path / "requirements.txt").write_text("flask\ngunicorn\n")
    verify = subprocess.Popen(
        [sys.executable, "-m", "prodready.cli.main", "verify", str(tmp_path), "--only", "check"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    server = None
    try:
        server = _child_running(verify.pid, "serve", timeout=60)
        verify.send_signal(sig)
        assert verify.wait(timeout=60) == 130
        assert verify.stderr is not None
        assert verify.stderr.read().strip().endswith("the servers verify started are stopped")
        deadline = time.monotonic() + 20
        while _alive(server) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(server), "the app's server outlived the interrupted verify"
    finally:
        verify.kill()
        verify.wait()
        if server is not None and _alive(server):
            os.killpg(server, signal.SIGKILL)  # its own session: the group is its workers


def _child_running(parent: int, word: str, timeout: float) -> int:
    """The pid of `parent`'s child whose command line has `word` as an argument."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
            with contextlib.suppress(OSError):
                if word.encode() in Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0"):
                    return int(child)
        time.sleep(0.05)
    raise AssertionError(f"verify never started `{word}`")


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False

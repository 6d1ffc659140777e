"""`prodready serve` as users run it: real Gunicorn (gthread and ASGI workers) and Granian."""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import run_prodready
from tests.serve.support import Server, TerminalServer, free_port, get

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

SLOW_REQUESTS = 6


@pytest.mark.parametrize(
    ("target", "ready_path"), [("flaskapp:app", "/ping"), ("asgiapp:app", "/")]
)
def test_sigterm_lets_every_request_in_flight_finish(serve, target: str, ready_path: str) -> None:
    server = serve(target, ready_path=ready_path)
    with ThreadPoolExecutor(SLOW_REQUESTS) as pool:
        in_flight = [pool.submit(get, server.base + "/slow", 30) for _ in range(SLOW_REQUESTS)]
        time.sleep(0.5)
        exit_code = server.stop()
        answers = [future.result() for future in in_flight]

    assert exit_code == 0
    assert [status for status, _ in answers] == [200] * SLOW_REQUESTS
    assert all(json.loads(body)["draining_when_done"] for _, body in answers), (
        "SIGTERM turned readiness to draining in the workers"
    )
    with pytest.raises(OSError):
        get(server.base + ready_path, timeout=2)


def test_drain_seconds_keep_serving_as_draining_before_the_stop(serve) -> None:
    """--drain-seconds: after SIGTERM new connections are still accepted and answered, every
    worker reports draining (readiness 503), and only then the server stops."""
    server = serve("flaskapp:app", "--drain-seconds", "1.5")
    assert json.loads(get(server.base + "/draining")[1]) == {"draining": False}
    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    time.sleep(0.2)  # the master handles the signal from its loop
    answers: list[tuple[float, bool]] = []
    while time.monotonic() - signalled < 6:
        try:
            body = get(server.base + "/draining", timeout=2)[1]
        except OSError:
            break
        answers.append((time.monotonic() - signalled, json.loads(body)["draining"]))
        time.sleep(0.1)

    assert answers and all(draining for _, draining in answers), answers
    assert answers[-1][0] >= 1.0, f"stopped accepting {answers[-1][0]:.2f} s after SIGTERM"
    assert server.process.wait(timeout=15) == 0
    assert "still serving for 1.5 s before the stop" in server.log()


@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        ((), {"PRODREADY_DRAIN_SECONDS": "soon"}, "PRODREADY_DRAIN_SECONDS='soon' is not"),
        (("--server", "granian", "--drain-seconds", "2"), {}, "works with Gunicorn only"),
    ],
)
def test_a_drain_window_that_cannot_be_honoured_is_refused_in_one_line(
    app_dir: Path, args: tuple[str, ...], env: dict[str, str], said: str
) -> None:
    result = run_prodready(
        "serve", "flaskapp:app", "--bind", f"127.0.0.1:{free_port()}", *args,
        cwd=app_dir, env=env,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert said in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_asgi_app_runs_on_gunicorns_asgi_worker(serve) -> None:
    server = serve("asgiapp:app", ready_path="/")
    assert get(server.base + "/")[1] == b"ok"
    assert "Using worker: asgi" in server.log()


def test_granian_serves_the_same_app(serve) -> None:
    server = serve("flaskapp:app", "--server", "granian")
    assert json.loads(get(server.base + "/ping")[1]) == {"ok": True}


def test_logs_are_json_lines_on_stdout(serve) -> None:
    server = serve("flaskapp:app", "--access-log")
    get(server.base + "/ping")
    events = server.log_events()
    assert any(e["event"].startswith("Listening at") for e in events)
    assert any(e.get("path") == "/ping" and e.get("status") == 200 for e in events)


def test_printed_config_is_accepted_by_gunicorn(app_dir: Path) -> None:
    printed = run_prodready("serve", "flaskapp:app", "--print-config", cwd=app_dir)
    assert printed.returncode == 0, printed.stderr
    conf = app_dir / "gunicorn.conf.py"
    conf.write_text(printed.stdout)
    checked = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--check-config", "-c", str(conf)],
        cwd=app_dir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr + checked.stdout
    assert "worker_class = 'prodready.serve.threadworker.PollingThreadWorker'" in printed.stdout


def test_explain_gives_each_value_and_why(app_dir: Path) -> None:
    completed = run_prodready("serve", "flaskapp:app", "--explain", cwd=app_dir)
    assert completed.returncode == 0, completed.stderr
    text = completed.stdout
    for name in ("workers", "worker_class", "threads", "timeout", "graceful_timeout"):
        assert f"\n{name} " in text
    assert "handlers wait on I/O: /wait" in text
    assert "per worker (measured)" in text


# --- bad input: one line, a hint, exit 2, no traceback ------------------------------------------


def _one_clear_line(completed: subprocess.CompletedProcess[str], message: str) -> None:
    assert completed.returncode == 2, completed.stdout + completed.stderr
    lines = completed.stderr.splitlines()
    assert lines[0].startswith("error: ") and message in lines[0], completed.stderr
    assert all(line.startswith(("error: ", "hint: ")) for line in lines), completed.stderr
    assert "Traceback" not in completed.stderr + completed.stdout


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing_module:app", "no module named 'missing_module'"),
        ("flaskapp:missing", "module flaskapp has no attribute 'missing'"),
        ("version:app", "no module named 'version'"),
        ("notapp:app", "notapp:app is a dict, not a WSGI or ASGI app"),
        (
            "raises:app",
            "importing raises raised KeyError: 'RISK_DATABASE_URL_NOT_SET' (raises.py:5)",
        ),
    ],
)
def test_an_app_that_cannot_be_served_is_one_clear_line(
    app_dir: Path, target: str, message: str
) -> None:
    completed = run_prodready(
        "serve", target, "--bind", f"127.0.0.1:{free_port()}", cwd=app_dir, timeout=60
    )
    _one_clear_line(completed, message)


def test_a_port_in_use_is_one_clear_line(app_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        completed = run_prodready(
            "serve", "flaskapp:app", "--bind", f"127.0.0.1:{port}", cwd=app_dir, timeout=60
        )
    _one_clear_line(completed, f"port {port} on 127.0.0.1 is already in use")


def test_reload_without_a_server_is_one_clear_line(tmp_path: Path) -> None:
    completed = run_prodready("reload", "--pid", tmp_path / "none.pid")
    _one_clear_line(completed, "no running server has its pid in")


def test_with_json_log_format_serves_own_lines_are_json_too(tmp_path: Path) -> None:
    """flashcards' gunicorn.conf.py sets values serve warns about: those warnings come before
    the server's lines in the same log, and must be JSON lines of the same shape."""
    app_dir = shutil.copytree(EXAMPLES / "flashcards", tmp_path / "flashcards")
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cards.db'}"}
    server = Server(app_dir, "app.main:app", "--log-format", "json", "--access-log", env=env)
    server.start("/openapi.json")
    server.stop()
    records = [json.loads(line) for line in server.log().splitlines() if line.strip()]
    own = [r for r in records if r.get("logger") == "prodready.serve"]
    assert own and {r["level"] for r in own} == {"warning"}, records[:5]
    assert any("accesslog from gunicorn.conf.py" in r["event"] for r in own)
    kit_line = next(r for r in records if r.get("logger") == "gunicorn.error")
    assert set(own[0]) == set(kit_line), "not the shape of the kit's lines"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        stopped = run_prodready("serve", "app.main:app", "--bind", f"127.0.0.1:{port}",
                                "--log-format", "json", cwd=app_dir, env=env, timeout=60)  # fmt: skip
    assert stopped.returncode == 2, stopped.stderr
    lines = [json.loads(line) for line in (stopped.stdout + stopped.stderr).splitlines()]
    error = next(r for r in lines if r["level"] == "error")
    assert f"port {port} on 127.0.0.1 is already in use" in error["event"] and error["hint"]


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize(("args", "for_people"), [((), True), (("--log-format", "json"), False)])
def test_logs_on_a_terminal_are_for_people_unless_json_is_asked(
    app_dir: Path, args: tuple[str, ...], for_people: bool
) -> None:
    server = TerminalServer(app_dir, "flaskapp:app", "--access-log", *args).start()
    try:
        get(server.base + "/ping")
        get(server.base + "/missing")
    finally:
        server.stop()
    lines = [ANSI_ESCAPE.sub("", line) for line in server.log().splitlines() if line.strip()]
    listening = [line for line in lines if "Listening at" in line]
    access = [line for line in lines if "/missing" in line]
    assert listening and access, server.log()
    if for_people:
        assert not any(line.startswith("{") for line in lines), lines[:5]
        assert "status=404" in access[0] and "warning" in access[0], access
    else:
        assert all(line.startswith("{") for line in lines), lines[:5]
        assert json.loads(access[0])["status"] == 404


@pytest.mark.parametrize("server_name", ["gunicorn", "granian"])
def test_without_access_log_not_even_errors_write_access_lines(serve, server_name: str) -> None:
    server = serve("flaskapp:app", "--server", server_name)
    assert get(server.base + "/missing")[0] == 404
    server.stop()
    assert "/missing" not in server.log()


def test_granian_gets_settings_for_granians_thread_model(serve, app_dir: Path) -> None:
    explained = run_prodready("serve", "flaskapp:app", "--server", "granian", "--explain",
                              cwd=app_dir)  # fmt: skip
    assert explained.returncode == 0, explained.stderr
    for name in ("workers", "blocking_threads", "runtime_threads"):
        assert f"\n{name} " in explained.stdout
    assert "\nthreads " not in explained.stdout, "Gunicorn's setting, not Granian's"
    server = serve("flaskapp:app", "--server", "granian")
    assert get(server.base + "/wait?ms=10")[0] == 200
    server.stop()
    assert "quite high" not in server.log(), "Granian warned about the thread count"


def test_serve_runs_with_the_projects_own_gunicorn_settings(serve, app_dir: Path) -> None:
    (app_dir / "gunicorn.conf.py").write_text(
        '# card imports can take a while\ntimeout = 120\nloglevel = "debug"\n'
    )
    server = serve("flaskapp:app")
    server.stop()
    reported = gunicorn_reports(server)
    assert (reported["timeout"], reported["graceful_timeout"]) == ("120", "25")


def test_a_dangerous_project_value_is_named_on_stderr_and_override_replaces_it(
    serve, app_dir: Path
) -> None:
    (app_dir / "gunicorn.conf.py").write_text('loglevel = "debug"\n')
    env = {"GUNICORN_CMD_ARGS": "--timeout 10"}
    kept = serve("flaskapp:app", env=env)
    kept.stop()
    assert "warning: timeout = 10 (GUNICORN_CMD_ARGS): below graceful_timeout" in kept.log()
    assert gunicorn_reports(kept)["timeout"] == "10"
    overridden = serve("flaskapp:app", "--override", env=env)
    overridden.stop()
    assert "warning:" not in overridden.log()
    assert gunicorn_reports(overridden)["timeout"] == "30", "GUNICORN_CMD_ARGS not re-applied"


def gunicorn_reports(server) -> dict[str, str]:
    """The configuration Gunicorn itself runs with, from its debug line at start."""
    report = next(e["event"] for e in server.log_events() if e["event"].startswith("Current"))
    pairs = (line.strip().split(": ", 1) for line in report.splitlines()[1:])
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--log-level", "loud"), "unknown log level 'loud'"),
        (("--log-format", "xml"), "unknown log format 'xml'"),
    ],
)
def test_a_bad_log_option_is_one_clear_line(
    app_dir: Path, args: tuple[str, ...], message: str
) -> None:
    completed = run_prodready("serve", "flaskapp:app", "--explain", *args, cwd=app_dir)
    _one_clear_line(completed, message)

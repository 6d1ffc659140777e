"""JSON logs and request IDs, read back from real servers' stdout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

GUNICORN_CONF = ["-c", "gunicorn_conf.py"]


def lines_for(records: list[dict[str, Any]], request_id: str) -> list[dict[str, Any]]:
    return [record for record in records if record.get("request_id") == request_id]


def gunicorn_env(tmp_path: Path) -> dict[str, str]:
    return {"PRODREADY_TEST_METRICS_DIR": str(tmp_path / "metrics")}


@pytest.mark.server_errors(r"/boom")  # the test makes a handler raise
@pytest.mark.parametrize(
    ("kind", "target", "extra_args", "framework_error_event"),
    [
        ("uvicorn", "fastapi_app:app", [], "unhandled_exception"),
        ("gunicorn", "flask_app:app", GUNICORN_CONF, "Exception on /boom [GET]"),
        ("gunicorn", "django_app:application", GUNICORN_CONF, "Internal Server Error: /boom"),
        ("gunicorn", "wsgi_app:app", GUNICORN_CONF, "unhandled_exception"),
        ("uvicorn", "django_asgi_app:application", [], "Internal Server Error: /boom"),
    ],
)
def test_unhandled_500_carries_the_request_id(
    serve, tmp_path: Path, kind: str, target: str, extra_args: list[str], framework_error_event: str
) -> None:
    server = serve(kind, target, env=gunicorn_env(tmp_path), extra_args=extra_args)
    response = server.get("/boom")
    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    server.stop()
    mine = lines_for(server.log_records(), request_id)
    error = next(r for r in mine if r["event"] == framework_error_event)
    assert error["level"] == "error"
    assert "RuntimeError" in error["exception"]
    access = next(r for r in mine if r["event"] == "request" and "route" in r)
    assert access["status"] == 500 and access["path"] == "/boom"
    assert access["level"] == "error", "a 5xx access line is an error: users filter on level"


@pytest.mark.parametrize(
    ("kind", "target", "extra_args"),
    [
        ("uvicorn", "fastapi_app:app", []),
        ("gunicorn", "flask_app:app", GUNICORN_CONF),
        ("gunicorn", "django_app:application", GUNICORN_CONF),
        ("uvicorn", "django_asgi_app:application", []),
    ],
)
def test_sync_handler_log_lines_carry_the_callers_request_id(
    serve, tmp_path: Path, kind: str, target: str, extra_args: list[str]
) -> None:
    server = serve(kind, target, env=gunicorn_env(tmp_path), extra_args=extra_args)
    response = server.get("/items/7", headers={"X-Request-ID": "checkout-7f3a"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "checkout-7f3a"
    server.stop()
    mine = lines_for(server.log_records(), "checkout-7f3a")
    handler_line = next(r for r in mine if r["event"] == "looking up item 7")
    assert handler_line["level"] == "warning"
    assert handler_line["logger"].endswith("_app")


@pytest.mark.parametrize(
    "incoming",
    ["x" * 129, "has spaces in it", "line\\nbreak", "<script>", ""],
)
def test_malformed_request_ids_are_replaced(serve, incoming: str) -> None:
    server = serve("uvicorn", "fastapi_app:app")
    response = server.get("/hello", headers={"X-Request-ID": incoming})
    assert response.headers["X-Request-ID"] != incoming
    assert len(response.headers["X-Request-ID"]) == 32


@pytest.mark.server_errors(r"/boom")  # the test makes a handler raise
def test_every_stdout_line_is_json_under_gunicorn(serve, tmp_path: Path) -> None:
    server = serve(
        "gunicorn",
        "fastapi_app:app",
        env=gunicorn_env(tmp_path),
        extra_args=[*GUNICORN_CONF, "-k", "uvicorn_worker.UvicornWorker", "-w", "2"],
    )
    for path in ("/hello", "/items/1", "/missing", "/boom"):
        server.get(path)
    server.stop()
    lines = [line for line in server.log_text().splitlines() if line.strip()]
    not_json = [line for line in lines if not line.startswith("{")]
    assert not_json == [], not_json[:5]
    records = server.log_records()
    assert any(r.get("logger") == "gunicorn.error" for r in records)
    access = [r for r in records if r["event"] == "request" and r.get("path") == "/missing"]
    assert access and access[0]["status"] == 404 and access[0]["route"] == "/missing"


@pytest.mark.server_errors(r"/boom")  # the test makes a handler raise
def test_gunicorn_access_log_is_structured_with_request_id(serve, tmp_path: Path) -> None:
    server = serve(
        "gunicorn",
        "flask_app:app",
        env={**gunicorn_env(tmp_path), "PRODREADY_TEST_OPTIONS": '{"access_log": false}'},
        extra_args=GUNICORN_CONF,
    )
    response = server.get("/hello", headers={"X-Request-ID": "gunicorn-access-1"})
    assert response.status_code == 200
    assert server.get("/missing").status_code == 404
    assert server.get("/boom").status_code == 500
    server.stop()
    records = [r for r in server.log_records() if r.get("logger") == "gunicorn.access"]
    access = [r for r in records if r.get("request_id") == "gunicorn-access-1"]
    assert len(access) == 1
    assert access[0]["status"] == 200 and access[0]["method"] == "GET"
    assert access[0]["path"] == "/hello" and access[0]["duration_ms"] >= 0
    levels = {r["path"]: r["level"] for r in records}
    assert [levels["/hello"], levels["/missing"], levels["/boom"]] == ["info", "warning", "error"]


def test_buffered_access_lines_keep_order_with_other_lines(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import logging\n"
        "from prodready.runtime.logs import access_log, configure_logging\n"
        "configure_logging()\n"
        "write = access_log()\n"
        "write('GET', '/first', '/first', 200, 0.001, '127.0.0.1')\n"
        "logging.getLogger('app').warning('between')\n"
        "write('GET', '/last', '/last', 200, 0.001, '127.0.0.1')\n"
    )
    with open(tmp_path / "out.log", "wb") as out:
        subprocess.run([sys.executable, "-c", code], stdout=out, check=True)
    records = [json.loads(line) for line in (tmp_path / "out.log").read_text().splitlines()]
    assert [r.get("path", r["event"]) for r in records] == ["/first", "between", "/last"]


def test_batched_access_lines_stay_one_json_object_per_line_whatever_the_path(
    tmp_path: Path,
) -> None:
    import subprocess
    import sys

    paths = ["/x},{", '/y},{"method":"GET"}', "/z},\n{", '/é"},{', "/plain"]
    code = (
        "import sys\n"
        "from prodready.runtime.logs import access_log, configure_logging\n"
        "configure_logging()\n"
        "write = access_log()\n"
        f"for path in {paths!r}:\n"
        "    write('GET', path, '<unmatched>', 404, 0.001, '127.0.0.1')\n"
    )
    with open(tmp_path / "out.log", "wb") as out:
        subprocess.run([sys.executable, "-c", code], stdout=out, check=True)
    records = [json.loads(line) for line in (tmp_path / "out.log").read_text().splitlines()]
    assert [record["path"] for record in records] == paths


def test_queued_access_lines_survive_a_later_logging_configuration(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "from prodready.runtime.logs import access_log, configure_logging\n"
        "configure_logging()\n"
        "write = access_log()\n"
        "configure_logging()\n"
        "assert access_log() is write\n"
        "write('GET', '/kept', '/kept', 200, 0.001, '127.0.0.1')\n"
        "configure_logging('WARNING')\n"
    )
    with open(tmp_path / "out.log", "wb") as out:
        subprocess.run([sys.executable, "-c", code], stdout=out, check=True)
    records = [json.loads(line) for line in (tmp_path / "out.log").read_text().splitlines()]
    assert [r["path"] for r in records] == ["/kept"]


def test_access_line_level_follows_the_status_and_the_configured_level_filters_it() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from prodready.runtime.logs import access_log, configure_logging\n"
        "configure_logging(sys.argv[1])\n"
        "write = access_log()\n"
        "for status in (200, 302, 404, 503):\n"
        "    write('GET', f'/{status}', '/x', status, 0.001, '127.0.0.1')\n"
    )

    def levels(configured: str) -> dict[int, str]:
        out = subprocess.run(
            [sys.executable, "-c", code, configured], capture_output=True, text=True, check=True
        )
        return {r["status"]: r["level"] for r in map(json.loads, out.stdout.splitlines())}

    assert levels("INFO") == {200: "info", 302: "info", 404: "warning", 503: "error"}
    assert levels("WARNING") == {404: "warning", 503: "error"}
    assert levels("ERROR") == {503: "error"}


def test_no_access_log_when_the_level_hides_errors() -> None:
    import subprocess
    import sys

    code = (
        "from prodready.runtime.logs import access_log, configure_logging\n"
        "configure_logging('CRITICAL')\n"
        "print(access_log())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"


@pytest.mark.parametrize("worker", ["sync", "uvicorn_worker.UvicornWorker"])
def test_one_access_line_per_request_under_gunicorn(serve, tmp_path: Path, worker: str) -> None:
    target = "flask_app:app" if worker == "sync" else "fastapi_app:app"
    server = serve(
        "gunicorn", target, env=gunicorn_env(tmp_path), extra_args=[*GUNICORN_CONF, "-k", worker]
    )
    server.get("/hello", headers={"X-Request-ID": f"once-{worker}"})
    server.stop()
    mine = lines_for(server.log_records(), f"once-{worker}")
    assert [r["event"] for r in mine] == ["request"], mine
    assert not [r for r in server.log_records() if r.get("logger") in {"gunicorn.access",
                                                                       "uvicorn.access"}]  # fmt: skip


def test_the_apps_own_handlers_add_no_fields_to_the_json_lines(tmp_path: Path) -> None:
    """A handler of the app's that formats a record first sets `message` and `asctime` on it;
    uvicorn passes `color_message` as an extra. None of them belongs in our lines."""
    import subprocess
    import sys

    code = (
        "import logging, sys\n"
        "from prodready.runtime.logs import configure_logging\n"
        "configure_logging()\n"
        "own = logging.StreamHandler(sys.stderr)\n"
        "own.setFormatter(logging.Formatter('%(asctime)s %(levelname)s %(message)s'))\n"
        "app = logging.getLogger('app')\n"
        "app.addHandler(own)\n"
        "app.warning('card import took %d s', 90, extra={'batch': 7})\n"
        "logging.getLogger('uvicorn.error').info('Started', extra={'color_message': 'S'})\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert [sorted(r) for r in records] == [
        ["batch", "event", "level", "logger", "timestamp"],
        ["event", "level", "logger", "timestamp"],
    ]
    assert records[0]["event"] == "card import took 90 s" and records[0]["batch"] == 7
    assert "card import took 90 s" in out.stderr, "the app's own handler still works"


CANCELLED_CLIENT_TASK = """
import asyncio, logging.config, sys
from prodready.runtime.logs import gunicorn_logconfig_dict

if sys.argv[1] == "prodready":
    logging.config.dictConfig(gunicorn_logconfig_dict(json=True))
else:
    logging.basicConfig(stream=sys.stdout)

async def main():
    handlers = []

    async def handle(reader, writer):
        handlers.append(asyncio.current_task())
        if sys.argv[2] == "fails":
            raise ValueError("a real fault")
        await asyncio.sleep(3600)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    while not handlers:
        await asyncio.sleep(0.01)
    handlers[0].cancel()  # as Gunicorn's control server does when it stops before a fork
    await asyncio.sleep(0.1)
    writer.close()
    server.close()

asyncio.run(main())
"""


def _asyncio_server_output(logging_setup: str, handler: str) -> str:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", CANCELLED_CLIENT_TASK, logging_setup, handler],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return done.stdout + done.stderr


def test_a_cancelled_stream_client_task_logs_no_error_but_a_failing_one_does() -> None:
    import sys

    if sys.version_info < (3, 11, 8) or (3, 12) <= sys.version_info < (3, 12, 2):
        # The noise is there to filter on Pythons without CPython's fix (gh-113538).
        assert "CancelledError" in _asyncio_server_output("plain", "waits")
    assert _asyncio_server_output("prodready", "waits") == ""
    failing = _asyncio_server_output("prodready", "fails")
    assert "a real fault" in failing and '"level":"error"' in failing

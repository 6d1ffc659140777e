"""The items of `prodready verify` that put load on the app: the serve plan against the app's
dev server (compare), reload under load and deploy/rollback under load. On riskapi (the one
full run the modules share); then a small app whose Gunicorn settings lose to its dev server and drop
requests on reload (graceful_timeout = 0 kills in-flight requests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from prodready.verify.items.compare import CONNECTIONS, MAX_CONNECTIONS, NOISE, ROUNDS, RUN_S
from tests.verify.conftest import by_id, items_of, run_verify

LOSES_TO_DEV = '''\
"""Gunicorn settings that lose to the dev server and drop requests on reload."""

import time

from flask import Flask

app = Flask(__name__)


@app.get("/work")
def work():
    time.sleep(0.1)  # stands for a call to another service
    return {"done": True}


if __name__ == "__main__":
    app.run()
'''
# 2 x 8 threads hold 16 requests of 100 ms: 160 req/s, where the threaded dev server takes all
# 32 connections at once; graceful_timeout 0 stops a worker with its requests in flight.
LOSES_TO_DEV_CONF = "workers = 2\nthreads = 8\ngraceful_timeout = 0\n"


@pytest.fixture(scope="module")
def riskapi(riskapi_scorecard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The items of the one full run of examples/riskapi (conftest's riskapi_scorecard)."""
    return by_id(riskapi_scorecard)


def test_compare_measures_plan_and_dev_server_side_by_side_on_riskapi(riskapi):
    item = riskapi["compare"]
    m = item["measures"]
    # Light: the faster of the two routes that wait on nothing; I/O: the one that sleeps.
    assert m["light_route"] in ("/health", "/api/ping")
    assert m["io_route"] == "/api/lookup"
    for kind in ("light", "io"):
        assert m[f"{kind}_plan_rps"] > 0 and m[f"{kind}_dev_rps"] > 0
        assert m[f"{kind}_plan_failed_requests"] == 0
        assert m[f"{kind}_rps_ratio"] == pytest.approx(
            m[f"{kind}_plan_rps"] / m[f"{kind}_dev_rps"], abs=0.01
        )
    # The light route takes 32 connections; the I/O route (50 ms a request) as many as carry
    # twice the dev server's light-route req/s, so the servers, not the load, are the bound.
    assert m["light_connections"] == CONNECTIONS
    assert CONNECTIONS <= m["io_connections"] <= MAX_CONNECTIONS
    assert m["io_connections"] / 0.05 >= 2 * m["light_dev_rps"] or m["io_connections"] in (
        CONNECTIONS,
        MAX_CONNECTIONS,
    )
    assert any(f"{m['io_connections']} connections)" in d for d in item["details"])
    # The verdict follows the numbers: fail when the plan served fewer req/s beyond NOISE.
    slower = any(m[f"{k}_rps_ratio"] < 1 - NOISE for k in ("light", "io"))
    assert item["status"] in (["fail"] if slower else ["pass", "warn"])
    # A route whose p99 came out slower is measured again before a warning: its seconds
    # double, and the details say so.
    again = [k for k in ("light", "io") if m[f"{k}_seconds_per_server"] == 2 * ROUNDS * RUN_S]
    assert all(m[f"{k}_seconds_per_server"] == ROUNDS * RUN_S for k in {"light", "io"} - set(again))
    assert len([d for d in item["details"] if "more rounds" in d]) == len(again)
    if item["status"] == "warn":
        assert again, item
    assert m["light_route"] in item["summary"] and "x req/s" in item["summary"]
    assert len(item["summary"]) < 90
    # The dev server is the app's own app.run(), run as `flask run` on a loopback port.
    assert any("flask --app app:app run --host 127.0.0.1" in d for d in item["details"])
    assert any("app.run() at app.py:96" in d for d in item["details"])
    assert set(item["series"]) == {
        f"{server} {kind} p99_ms" for server in ("plan", "dev") for kind in ("light", "I/O")
    }
    assert all(len(points) >= 2 for points in item["series"].values())


def test_reload_under_load_fails_no_request_on_riskapi(riskapi):
    item = riskapi["reload"]
    assert item["status"] == "pass", item
    assert item["measures"]["reloads"] == 3
    assert item["measures"]["failed_requests"] == 0
    assert item["measures"]["responses"] > 0
    reloads = [d for d in item["details"] if d.startswith("reload ")]
    assert len(reloads) == 3 and all("control socket, workers" in d for d in reloads)
    assert any("through nginx (plain HTTP, keep-alive to the server" in d for d in item["details"])


def test_deploy_and_rollback_under_load_fail_no_request_on_riskapi(riskapi):
    item = riskapi["deploy"]
    assert item["status"] == "pass", item
    assert item["measures"]["failed_requests"] == 0
    assert item["measures"]["responses"] > 0
    steps = [d for d in item["details"] if d.endswith("under load")]
    assert [s.split()[0] for s in steps] == ["deploy", "rollback"]
    # The rollback goes back to the release the first deploy made.
    first = item["details"][0].split()[2]
    assert steps[1].startswith(f"rollback to {first} ")


def test_a_plan_that_loses_to_the_dev_server_and_drops_requests_on_reload_is_caught(
    tmp_path: Path,
):
    app = tmp_path / "slowplan"
    app.mkdir()
    (app / "app.py").write_text(LOSES_TO_DEV)
    (app / "gunicorn.conf.py").write_text(LOSES_TO_DEV_CONF)
    (app / "requirements.txt").write_text("flask\n")
    items = items_of(run_verify(app, "--only", "compare,reload", "--json"))

    compare = items["compare"]
    assert compare["status"] == "fail", compare
    assert compare["measures"]["light_route"] == "/work"
    assert compare["measures"]["light_rps_ratio"] < 1 - NOISE
    assert "io_route" not in compare["measures"]

    # Through nginx (as in production) a GET the killed worker had in flight is retried, so
    # the client may see no failure; nginx's error log still shows each one: a warning at least.
    reload = items["reload"]
    m = reload["measures"]
    assert m["failed_requests"] > 0 or m["nginx_retried"] > 0, reload
    if m["failed_requests"]:
        assert reload["status"] == "fail", reload
        assert "requests failed across 3 reloads" in reload["summary"]
    else:
        assert reload["status"] == "warn", reload
        assert "nginx retried" in reload["summary"] and "a POST would fail" in reload["summary"]
        assert any("while reading response header from upstream" in d for d in reload["details"])


def test_the_dev_server_of_a_django_app_in_a_build_folder_is_found(tmp_path: Path) -> None:
    """compose builds app/ and names hello.wsgi:application from there; detection names it
    from the project root (app.hello.wsgi:application), beside its asgi twin."""
    from prodready.project.detect import detect
    from prodready.verify.devserver import dev_command

    site = tmp_path / "app" / "hello"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text("")
    (site / "settings.py").write_text('ROOT_URLCONF = "hello.urls"\n')
    for kind in ("wsgi", "asgi"):
        (site / f"{kind}.py").write_text(
            f"from django.core.{kind} import get_{kind}_application\n\n"
            f"application = get_{kind}_application()\n"
        )
    (tmp_path / "app" / "manage.py").write_text("import django\n")
    project = detect(tmp_path)
    command = dev_command(
        project, "hello.wsgi:application", tmp_path / "app", 8000,
        root_target="app.hello.wsgi:application",
    )  # fmt: skip
    assert not isinstance(command, str), command
    assert command.argv[1:] == (str(tmp_path / "app" / "manage.py"), "runserver",
                                "127.0.0.1:8000", "--noreload")  # fmt: skip

"""Streaming routes found in the code drive the serve plan (worker class, threads, why) and
init's nginx site (a location that does not buffer them)."""

from __future__ import annotations

from pathlib import Path

from prodready.generate.context import Options
from prodready.generate.run import init_project, parse_only
from prodready.project import detect
from prodready.serve.machine import Machine
from prodready.serve.plan import STREAM_THREADS, THREAD_WORKER, Overrides, compute_plan
from tests.generate.conftest import write_app

FLASK_STREAMS = """\
from flask import Flask
from prodready.runtime import Production

app = Flask(__name__)
prod = Production(app)
reports = prod.stream("reports", broker="redis://127.0.0.1:6379/0")


@app.get("/reports/<task_id>/updates")
def report_updates(task_id):
    return reports.response(task_id)


@app.get("/")
def index():
    return "hello"
"""

FASTAPI_STREAMS = """\
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()


@app.get("/feed")
async def feed():
    return StreamingResponse(ticks(), media_type="text/event-stream")


@app.get("/plain")
async def plain():
    return {"ok": True}
"""

MACHINE = Machine(2, "2 CPUs", 4096 << 20, "test", "/dev/shm")


def plan_of(root: Path):
    return compute_plan(detect(root), MACHINE, Overrides(state_dir="/run/test"))


def test_routes_answering_streams_are_detected(tmp_path: Path) -> None:
    flask_root = write_app(tmp_path / "f", {"app.py": FLASK_STREAMS})
    fastapi_root = write_app(tmp_path / "a", {"app.py": FASTAPI_STREAMS})
    flask_routes = {r.path: r.streams for r in detect(flask_root).routes}
    fastapi_routes = {r.path: r.streams for r in detect(fastapi_root).routes}
    assert flask_routes == {"/reports/<task_id>/updates": True, "/": False}
    assert fastapi_routes == {"/feed": True, "/plain": False}


def test_a_wsgi_app_with_streams_gets_gthread_with_a_thread_per_stream(tmp_path: Path) -> None:
    plan = plan_of(write_app(tmp_path / "f", {"app.py": FLASK_STREAMS}))
    assert plan["worker_class"] == THREAD_WORKER
    assert plan["threads"] == STREAM_THREADS
    explained = plan.explain()
    assert "streaming routes: /reports/<task_id>/updates (app.py:10)" in explained
    assert "never a limit on a stream" in explained


def test_an_asgi_app_with_streams_is_explained(tmp_path: Path) -> None:
    plan = plan_of(write_app(tmp_path / "a", {"app.py": FASTAPI_STREAMS}))
    assert plan["worker_class"] == "asgi"
    assert "streaming routes: /feed (app.py:8): one event loop holds" in plan.explain()


def test_init_writes_an_unbuffered_location_for_a_detected_stream(tmp_path: Path) -> None:
    root = write_app(tmp_path / "f", {"app.py": FLASK_STREAMS, "requirements.txt": "flask\n"})
    init_project(root, Options(), parse_only("nginx"))
    site = (root / "deploy/nginx/f.conf").read_text()
    block = site[site.index("location /reports {") :]
    block = block[: block.index("}")]
    for directive in (
        "proxy_buffering off;",
        "proxy_cache off;",
        "proxy_http_version 1.1;",
        "proxy_read_timeout 1h;",
    ):
        assert directive in block

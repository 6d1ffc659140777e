"""End to end through real nginx: the site `prodready init` writes for an app with a stream
route, in front of Gunicorn with the generated gunicorn.conf.py. Each event reaches the client
as soon as it is published, heartbeats pass, and the stream survives idle time."""

from __future__ import annotations

import json
import ssl
import uuid
from pathlib import Path

import httpx
import redis

from prodready.generate import validate
from prodready.generate.context import Options
from prodready.generate.run import init_project
from prodready.runtime.streams import Stream
from tests.generate.conftest import write_app
from tests.generate.servers import HOST, running
from tests.runtime.runtime_support import REDIS_URL, need_service

APP = """\
import os

from flask import Flask
from prodready.runtime import Production

app = Flask(__name__)
prod = Production(app)
reports = prod.stream(
    "reports", broker=os.environ["REDIS_URL"], key_prefix=os.environ["STREAM_PREFIX"],
    heartbeat=0.5,
)


@app.get("/reports/<task_id>/updates")
def report_updates(task_id):
    return reports.response(task_id)
"""


def test_events_and_heartbeats_pass_nginx_unbuffered(tmp_path: Path) -> None:
    need_service("Redis", 6379)
    missing = [tool for tool in ("nginx", "openssl") if not validate.find_tool(tool)]
    assert not missing, f"not installed: {missing} (scripts/ensure-system-deps.sh)"
    prefix = f"prodready-test:{uuid.uuid4().hex}:"
    root = write_app(tmp_path / "sse", {"app.py": APP, "requirements.txt": "flask==3.1.0\n"})
    result = init_project(root, Options(server_name=HOST))
    env = {"REDIS_URL": REDIS_URL, "STREAM_PREFIX": prefix}
    publisher = Stream("reports", broker=REDIS_URL, key_prefix=prefix, ttl=60)
    with running(root, result.context, tmp_path / "servers", env) as stack:
        url = f"https://127.0.0.1:{stack.https_port}/reports/t1/updates"
        trust = ssl.create_default_context(cafile=str(stack.certificate))
        with httpx.Client(verify=trust, timeout=5) as client:
            request = client.build_request(
                "GET", url, headers={"Host": HOST}, extensions={"sni_hostname": HOST}
            )
            response = client.send(request, stream=True)
            try:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                lines = response.iter_lines()
                assert next(lines) == "retry: 2000"
                # Buffered by nginx, this event would wait for 4 KiB more or the stream's end:
                # the 5 s read timeout would fail the test first.
                publisher.publish("t1", {"n": 1}, event="progress")
                seen = []
                for line in lines:
                    seen.append(line)
                    if line.startswith("data: "):
                        break
                assert "event: progress" in seen
                assert json.loads(seen[-1].removeprefix("data: ")) == {"n": 1}
                assert next(line for line in lines if line.startswith(":")) == ": ping"
            finally:
                response.close()
    redis.Redis.from_url(REDIS_URL).delete(f"{prefix}reports:t1")

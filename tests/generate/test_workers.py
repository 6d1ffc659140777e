"""Background workers: an app with a task queue gets a worker service in compose and its own
systemd unit, and the generated worker command really runs the app's jobs (RQ on real Redis)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from prodready.generate import validate
from prodready.generate.context import Options
from prodready.generate.run import init_project
from tests.generate.conftest import write_app

REDIS = ("127.0.0.1", 6379)
RQ_APP = {
    "app.py": """\
import os

from flask import Flask
from redis import Redis
from rq import Queue

from tasks import add

app = Flask(__name__)
queue = Queue("shop-jobs", connection=Redis.from_url(os.environ["REDIS_URL"]))


@app.post("/sum")
def enqueue_sum():
    return {"job": queue.enqueue(add, 2, 3).id}
""",
    "tasks.py": "def add(a, b):\n    return a + b\n",
    "requirements.txt": "flask==3.1.0\nredis==5.2.1\nrq==2.1.0\n",
}


def _redis_or_skip() -> None:
    try:
        socket.create_connection(REDIS, timeout=1).close()
    except OSError:
        message = "Redis is not running on 127.0.0.1:6379"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def test_an_rq_app_gets_a_worker_that_runs_its_jobs(tmp_path: Path) -> None:
    _redis_or_skip()
    from redis import Redis
    from rq import Queue

    root = write_app(tmp_path / "shop", RQ_APP)
    result = init_project(root, Options())
    ctx = result.context
    assert ctx.worker is not None and ctx.worker.command == ("rq", "worker", "shop-jobs")
    services = yaml.safe_load((root / "compose.yaml").read_text())["services"]
    assert services["worker"]["command"] == ["rq", "worker", "shop-jobs"]
    assert "ports" not in services["worker"] and "healthcheck" not in services["worker"]
    env_example = (root / ".env.production.example").read_text()
    assert "RQ_REDIS_URL=redis://redis:6379/0" in env_example
    unit = root / "deploy/systemd/shop-worker.service"
    assert "ExecStart=/srv/shop/.venv/bin/rq worker shop-jobs\n" in unit.read_text()
    verify, security = validate.check_systemd(ctx, unit)
    assert verify.ok, verify.output
    assert security.ok, security.output

    # The generated command, run as the unit runs it, takes the app's job from real Redis.
    url = f"redis://{REDIS[0]}:{REDIS[1]}/13"
    queue = Queue("shop-jobs", connection=Redis.from_url(url))
    queue.empty()
    sys.path.insert(0, str(root))
    try:
        job = queue.enqueue("tasks.add", 2, 3)
    finally:
        sys.path.remove(str(root))
    program = str(Path(sys.executable).with_name(ctx.worker.command[0]))
    try:
        done = subprocess.run(
            [program, *ctx.worker.command[1:], "--burst"],
            cwd=root,
            env={**os.environ, "RQ_REDIS_URL": url},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        job.refresh()
        assert job.return_value() == 5
    finally:
        job.delete()
        queue.delete(delete_jobs=True)


def test_an_app_without_a_task_queue_gets_no_worker(tmp_path: Path) -> None:
    root = write_app(tmp_path / "plain", {k: v for k, v in RQ_APP.items() if k != "app.py"})
    (root / "requirements.txt").write_text("flask==3.1.0\n")
    (root / "app.py").write_text("from flask import Flask\n\napp = Flask(__name__)\n")
    result = init_project(root, Options())
    assert result.context.worker is None
    assert "worker" not in yaml.safe_load((root / "compose.yaml").read_text())["services"]
    assert not (root / "deploy/systemd/plain-worker.service").exists()


@pytest.mark.parametrize(
    ("library", "module_text", "command"),
    [
        (
            "celery",
            "from celery import Celery\n\ncelery = Celery('shop')\n",
            ["celery", "--app", "worker", "worker", "--loglevel", "INFO"],
        ),
        ("dramatiq", "import dramatiq\n\n\n@dramatiq.actor\ndef send():\n    pass\n", None),
        ("huey", "from huey import RedisHuey\n\nhuey = RedisHuey('shop')\n", None),
    ],
)
def test_each_task_queue_gets_its_own_worker_command(
    tmp_path: Path, library: str, module_text: str, command: list[str] | None
) -> None:
    files = {
        "app.py": "import worker\nfrom flask import Flask\n\napp = Flask(__name__)\n",
        "worker.py": module_text,
        "requirements.txt": f"flask==3.1.0\n{library}\n",
    }
    root = write_app(tmp_path / "shop", files)
    init_project(root, Options())
    expected = (
        command
        or {"dramatiq": ["dramatiq", "worker"], "huey": ["huey_consumer", "worker.huey"]}[library]
    )
    services = yaml.safe_load((root / "compose.yaml").read_text())["services"]
    assert services["worker"]["command"] == expected
    assert (root / "deploy/systemd/shop-worker.service").is_file()


@pytest.mark.parametrize(
    ("app_lines", "queues"),
    [
        ("import rq\nq = rq.Queue('mail', connection=None)\n", ["mail"]),
        (
            "from rq import Queue as Q\n"
            "high = Q(name='high')\nlow = Q('low')\nplain = Q()\nagain = Q('high')\n",
            ["high", "low", "default"],
        ),
        ("from rq import Queue\nq = Queue(connection=None)\n", []),
        ("import rq as r\nq = r.Queue(NAME_FROM_CONFIG)\n", []),
        ("import queue\nfrom rq import Queue\nlocal = queue.Queue(10)\n", []),
    ],
)
def test_the_rq_worker_listens_on_the_queues_the_app_enqueues_on(
    tmp_path: Path, app_lines: str, queues: list[str]
) -> None:
    files = {
        "app.py": f"from flask import Flask\n{app_lines}\napp = Flask(__name__)\n",
        "requirements.txt": "flask==3.1.0\nredis==5.2.1\nrq==2.1.0\n",
    }
    root = write_app(tmp_path / "shop", files)
    init_project(root, Options())
    services = yaml.safe_load((root / "compose.yaml").read_text())["services"]
    assert services["worker"]["command"] == ["rq", "worker", *queues]
    unit = (root / "deploy/systemd/shop-worker.service").read_text()
    assert f"/bin/rq worker{''.join(' ' + q for q in queues)}\n" in unit

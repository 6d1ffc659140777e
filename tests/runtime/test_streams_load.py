"""`prodready load --sse` against real servers: latency from the publisher's stamps, and gaps
and duplicates counted across the reconnects a graceful reload forces."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from pathlib import Path

import redis
from runtime_support import PYTHON, REDIS_URL, need_service

CLI_ENTRY = Path(__file__).parents[1] / "load" / "cli_entry.py"

PUBLISHER = """
import sys, time
from prodready.runtime.streams import Stream
url, prefix, task, numbers, delay, pause = sys.argv[1:7]
stream = Stream("reports", broker=url, key_prefix=prefix, ttl=120)
time.sleep(float(delay))
for n in map(int, numbers.split(",")):
    stream.publish(task, {"n": n, "sent_at": time.time()}, event="progress")
    time.sleep(float(pause))
"""


def load_sse(url: str, streams: int, duration: str) -> tuple[int, dict, str]:
    done = subprocess.run(
        [PYTHON, str(CLI_ENTRY), "load", "--sse", str(streams), url, "-d", duration, "--json", "-"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    report = json.loads(done.stdout) if done.stdout.strip() else {}
    return done.returncode, report, done.stderr


def publisher(prefix: str, task: str, numbers: list[int], delay: float, pause: float):
    args = [REDIS_URL, prefix, task, ",".join(map(str, numbers)), str(delay), str(pause)]
    return subprocess.Popen([PYTHON, "-c", PUBLISHER, *args])


def redis_env(prefix: str) -> dict[str, str]:
    options = {"broker": REDIS_URL, "key_prefix": prefix, "ttl": 120, "heartbeat": 1}
    return {"PRODREADY_TEST_STREAM": json.dumps(options)}


def established(port: int) -> int:
    """Established TCP connections to 127.0.0.1:`port` (server side), from /proc/net/tcp."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, _remote, state = line.split()[1:4]
        if state == "01" and int(local.split(":")[1], 16) == port:
            count += 1
    return count


def wait_for_streams(url: str, streams: int) -> None:
    """Until the server holds `streams` connections: a busy machine may take seconds to
    start the load client, and its streams begin at the newest event."""
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    deadline = time.monotonic() + 30
    while established(port) < streams and time.monotonic() < deadline:
        time.sleep(0.05)
    assert established(port) >= streams


def test_load_sse_counts_every_event_across_a_reload_with_no_gap(serve) -> None:
    need_service("Redis", 6379)
    prefix = f"prodready-test:{uuid.uuid4().hex}:"
    args = ["-k", "gthread", "--threads", "32", "-w", "2", "--graceful-timeout", "10"]
    server = serve("gunicorn", "stream_flask_app:app", env=redis_env(prefix), extra_args=args)
    assert server.process is not None
    url = f"{server.url}/reports/load/events"
    loading = subprocess.Popen(
        [PYTHON, str(CLI_ENTRY), "load", "--sse", "20", url, "-d", "8s", "--json", "-"],
        stdout=subprocess.PIPE,
        text=True,
    )
    wait_for_streams(server.url, 20)
    source = publisher(prefix, "load", list(range(80)), delay=0.5, pause=0.03)
    time.sleep(1.5)  # the publisher is running
    server.process.send_signal(signal.SIGHUP)
    output, _ = loading.communicate(timeout=60)
    assert source.wait(timeout=30) == 0
    report = json.loads(output)
    assert loading.returncode == 0, report
    assert report["max_open"] == 20, report
    assert report["never_opened"] == 0
    assert report["reconnects"] >= 20  # every stream was ended by the reload and came back
    assert report["events"] == 20 * 80
    assert report["gaps"] == 0 and report["duplicates"] == 0
    assert report["stamped_events"] == report["events"]
    assert report["latency_ms"]["p99"] > 0
    redis.Redis.from_url(REDIS_URL).delete(f"{prefix}reports:load")


def test_load_sse_finds_a_gap_and_fails(serve) -> None:
    need_service("Redis", 6379)
    prefix = f"prodready-test:{uuid.uuid4().hex}:"
    env = redis_env(prefix)
    server = serve("uvicorn", "stream_fastapi_app:app", env=env)
    url = f"{server.url}/reports/holes/events"
    argv = [PYTHON, str(CLI_ENTRY), "load", "--sse", "3", url, "-d", "4s", "--json", "-"]
    loading = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    wait_for_streams(server.url, 3)
    source = publisher(prefix, "holes", [0, 1, 2, 5, 6], delay=0.2, pause=0.01)
    output, _ = loading.communicate(timeout=60)
    code, report = loading.returncode, json.loads(output)
    assert source.wait(timeout=30) == 0
    assert code == 1, report
    assert report["gaps"] == 3 and report["missing_events"] == 6
    assert report["duplicates"] == 0
    redis.Redis.from_url(REDIS_URL).delete(f"{prefix}reports:holes")


def test_load_sse_bad_url_is_a_usage_error() -> None:
    code, report, stderr = load_sse("ftp://example", 2, "1s")
    assert code == 2
    assert report == {}
    assert stderr.startswith("error: bad URL 'ftp://example'")
    assert "hint:" in stderr

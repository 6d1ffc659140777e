"""SSE streams under real Gunicorn gthread workers (Flask, Django WSGI) and Redis: events from
a publisher in another process, replay after a reconnect, and 0 lost events across a
graceful reload (HUP) and a SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from runtime_support import PYTHON, REDIS_URL, Server, need_service
from sse_reader import Reconnecting, read

PUBLISHER = """
import sys, time
from prodready.runtime.streams import Stream
url, prefix, task, count, pause = sys.argv[1:6]
stream = Stream("reports", broker=url, key_prefix=prefix)
for n in range(int(count)):
    stream.publish(task, {"n": n, "sent_at": time.time()}, event="progress")
    time.sleep(float(pause))
"""


@pytest.fixture
def key_prefix() -> Iterator[str]:
    need_service("Redis", 6379)
    prefix = f"prodready-test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def stream_env(prefix: str, **options: object) -> dict[str, str]:
    options = {"broker": REDIS_URL, "key_prefix": prefix, "ttl": 120, **options}
    return {"PRODREADY_TEST_STREAM": json.dumps(options)}


def start_publisher(prefix: str, task: str, count: int, pause: float) -> subprocess.Popen[bytes]:
    args = [REDIS_URL, prefix, task, str(count), str(pause)]
    return subprocess.Popen([PYTHON, "-c", PUBLISHER, *args])


def gthread(serve, app: str, prefix: str, workers: int = 1, **options: object) -> Server:
    args = ["-k", "gthread", "--threads", "8", "-w", str(workers), "--graceful-timeout", "10"]
    return serve("gunicorn", app, env=stream_env(prefix, **options), extra_args=args)


def test_flask_gthread_gets_events_from_a_publisher_process(serve, key_prefix: str) -> None:
    server = gthread(serve, "stream_flask_app:app", key_prefix, heartbeat=5)
    url = f"{server.url}/reports/p1/events"
    publishers = []
    received = read(
        url,
        lambda r: len(r.events) >= 5,
        on_open=lambda: publishers.append(start_publisher(key_prefix, "p1", 5, 0.01)),
    )
    assert publishers[0].wait(timeout=20) == 0
    assert received.headers["content-type"].startswith("text/event-stream")
    assert received.headers["x-accel-buffering"] == "no"
    assert received.numbers() == [0, 1, 2, 3, 4]
    # Redis Stream ids, as Redis gave them to the publisher.
    client = redis.Redis.from_url(REDIS_URL)
    stored = client.xrange(f"{key_prefix}reports:p1")
    assert [entry_id.decode() for entry_id, _ in stored] == [e["id"] for e in received.events]
    assert client.ttl(f"{key_prefix}reports:p1") > 0


def test_replay_across_workers_after_reconnect(serve, key_prefix: str) -> None:
    server = gthread(serve, "stream_flask_app:app", key_prefix, workers=2, heartbeat=5)
    url = f"{server.url}/reports/p2/events"
    first = read(
        url,
        lambda r: len(r.events) >= 3,
        on_open=lambda: start_publisher(key_prefix, "p2", 8, 0).wait(timeout=20),
    )
    assert first.numbers()[:3] == [0, 1, 2]
    # Whichever worker takes the reconnect replays from Redis.
    second = read(url, lambda r: len(r.events) >= 5, last_event_id=first.events[2]["id"])
    assert second.numbers() == [3, 4, 5, 6, 7]


def test_django_wsgi_stream_with_replay(serve, key_prefix: str) -> None:
    server = gthread(serve, "stream_django_app:wsgi", key_prefix, heartbeat=5)
    url = f"{server.url}/reports/d1/events"
    first = read(
        url,
        lambda r: len(r.events) >= 2,
        on_open=lambda: server.get("/reports/d1/publish?count=4").raise_for_status(),
    )
    assert first.headers["content-type"].startswith("text/event-stream")
    assert first.numbers()[:2] == [0, 1]
    second = read(url, lambda r: len(r.events) >= 2, last_event_id=first.events[1]["id"])
    assert second.numbers() == [2, 3]


def test_hup_mid_stream_loses_no_event_after_reconnect(serve, key_prefix: str) -> None:
    server = gthread(serve, "stream_flask_app:app", key_prefix, workers=2, heartbeat=0.5)
    client = Reconnecting(f"{server.url}/reports/reload/events")
    client.start()
    assert client.connected.wait(10)
    publisher = start_publisher(key_prefix, "reload", 150, 0.02)
    time.sleep(1)
    assert server.process is not None
    server.process.send_signal(signal.SIGHUP)  # new workers, old ones stopped gracefully
    assert publisher.wait(timeout=30) == 0
    deadline = time.monotonic() + 20
    while len(client.events) < 150 and time.monotonic() < deadline:
        time.sleep(0.1)
    client.stop()
    assert client.connections >= 2  # the old worker ended the stream; the client came back
    assert client.numbers() == list(range(150))  # no gap, no duplicate, in order
    assert "Handling signal: hup" in server.log_text()


def test_sigterm_ends_a_wsgi_stream_with_retry_inside_the_graceful_timeout(
    serve, key_prefix: str
) -> None:
    server = gthread(serve, "stream_flask_app:app", key_prefix, heartbeat=5)
    received: list = []

    def stop_server() -> None:
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)

    received.append(read(f"{server.url}/reports/term/events", lambda r: False, on_open=stop_server))
    assert received[0].ended
    assert received[0].retries == [2000, 2000]
    assert server.process is not None
    assert server.process.wait(timeout=15) == 0

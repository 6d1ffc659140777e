"""SSE streams under real uvicorn (FastAPI, memory broker): headers, replay, heartbeats,
disconnects, slow clients and drain on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import uuid

import httpx
import redis
import requests
from runtime_support import PYTHON, REDIS_URL, Server, need_service
from sse_reader import Received, read

APP = "stream_fastapi_app:app"


def stream_env(**options: object) -> dict[str, str]:
    return {"PRODREADY_TEST_STREAM": json.dumps(options)}


def publish(server: Server, task: str, count: int = 1, start: int = 0) -> list[str]:
    response = requests.post(
        f"{server.url}/reports/{task}/publish", params={"count": count, "start": start}, timeout=10
    )
    response.raise_for_status()
    return response.json()["ids"]


def metric(server: Server, name: str) -> float:
    for line in server.get("/metrics").text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_headers_retry_hint_then_live_events_in_order(serve) -> None:
    server = serve("uvicorn", APP, env=stream_env(heartbeat=5))
    url = f"{server.url}/reports/t1/events"
    received = read(url, lambda r: len(r.events) >= 3, on_open=lambda: publish(server, "t1", 3))
    assert received.status == 200
    assert received.headers["content-type"].startswith("text/event-stream")
    assert received.headers["cache-control"] == "no-cache"
    assert received.headers["x-accel-buffering"] == "no"
    assert received.retries[:1] == [2000]
    assert received.last_id == received.events[-1]["id"]
    assert received.numbers() == [0, 1, 2]
    assert {e["event"] for e in received.events} == {"progress"}
    ids = [e["id"] for e in received.events]
    assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))
    assert len(set(ids)) == 3


def test_reconnect_with_last_event_id_replays_the_rest_then_live(serve) -> None:
    server = serve("uvicorn", APP, env=stream_env(heartbeat=5))
    url = f"{server.url}/reports/t2/events"
    first = read(url, lambda r: len(r.events) >= 2, on_open=lambda: publish(server, "t2", 5))
    assert first.numbers()[:2] == [0, 1]
    # Events 2..4 were published while nobody read them; 5..6 come after the reconnect.
    second = read(
        url,
        lambda r: len(r.events) >= 5,
        last_event_id=first.events[1]["id"],
        on_open=lambda: publish(server, "t2", 2, start=5),
    )
    assert second.numbers() == [2, 3, 4, 5, 6]
    assert metric(server, "sse_events_replayed_total") == 3


def test_no_last_event_id_or_a_malformed_one_gets_only_live_events(serve) -> None:
    server = serve("uvicorn", APP, env=stream_env(heartbeat=5))
    publish(server, "t3", 3)
    url = f"{server.url}/reports/t3/events"
    for last in (None, "not-an-id"):
        received = read(
            url,
            lambda r: len(r.events) >= 1,
            last_event_id=last,
            on_open=lambda: publish(server, "t3", 1, start=100),
        )
        assert received.numbers() == [100]


def test_heartbeat_comments_on_an_idle_stream(serve) -> None:
    server = serve("uvicorn", APP, env=stream_env(heartbeat=0.2))
    received = read(f"{server.url}/reports/idle/events", lambda r: len(r.comments) >= 2)
    assert received.comments[:2] == ["ping", "ping"]
    assert received.events == []


def test_a_gone_client_is_noticed_and_its_stream_closed(serve) -> None:
    server = serve("uvicorn", APP, env=stream_env(heartbeat=0.2))
    url = f"{server.url}/reports/gone/events"
    with httpx.stream("GET", url, timeout=10) as response:
        lines = response.iter_lines()  # kept: dropping the iterator closes the connection
        assert next(lines) == "retry: 2000"
        assert metric(server, "sse_streams_open") == 1
    deadline = time.monotonic() + 10
    while metric(server, "sse_streams_open") != 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert metric(server, "sse_streams_open") == 0


def test_a_client_too_far_behind_is_dropped_with_retry_and_replays_on_reconnect(serve) -> None:
    server = serve("uvicorn", APP, env=stream_env(heartbeat=5, max_lag=5))
    url = f"{server.url}/reports/burst/events"
    first = read(url, lambda r: False, on_open=lambda: publish(server, "burst", 50))
    assert first.ended
    assert first.events == []
    assert first.retries == [2000, 2000]
    assert metric(server, "sse_slow_clients_dropped_total") == 1
    # The opening frame's id is the client's Last-Event-ID: a reconnect replays all 50, as
    # replay is never cut short for lag.
    assert first.last_id is not None
    again = read(url, lambda r: len(r.events) >= 50, last_event_id=first.last_id)
    assert again.numbers() == list(range(50))
    assert metric(server, "sse_slow_clients_dropped_total") == 1


def test_sigterm_ends_open_streams_with_a_retry_hint(serve) -> None:
    server = serve("uvicorn", APP, env=stream_env(heartbeat=5))
    url = f"{server.url}/reports/drain/events"
    opened = threading.Event()
    result: list[Received] = []

    def listen() -> None:
        result.append(read(url, lambda r: False, on_open=opened.set, timeout=20))

    listener = threading.Thread(target=listen)
    listener.start()
    assert opened.wait(10)
    time.sleep(0.2)
    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    listener.join(timeout=15)
    assert result and result[0].ended
    assert result[0].retries == [2000, 2000]
    server.process.wait(timeout=10)
    assert "Application shutdown complete" in server.log_text()


def test_django_asgi_under_uvicorn_with_redis_and_a_publisher_process(serve) -> None:
    need_service("Redis", 6379)
    prefix = f"prodready-test:{uuid.uuid4().hex}:"
    env = stream_env(broker=REDIS_URL, key_prefix=prefix, ttl=60, heartbeat=5)
    server = serve("uvicorn", "stream_django_app:asgi", env=env)
    url = f"{server.url}/reports/dj/events"
    publisher = f"""
from prodready.runtime.streams import Stream
stream = Stream("reports", broker={REDIS_URL!r}, key_prefix={prefix!r}, ttl=60)
for n in range(4):
    stream.publish("dj", {{"n": n}}, event="progress")
"""
    first = read(
        url,
        lambda r: len(r.events) >= 2,
        on_open=lambda: subprocess.run([PYTHON, "-c", publisher], check=True, timeout=30),
    )
    assert first.headers["content-type"].startswith("text/event-stream")
    assert first.numbers()[:2] == [0, 1]
    second = read(url, lambda r: len(r.events) >= 2, last_event_id=first.events[1]["id"])
    assert second.numbers() == [2, 3]
    redis.Redis.from_url(REDIS_URL).delete(f"{prefix}reports:dj")


def test_redis_replay_from_before_a_watched_key_joins_the_live_feed(serve) -> None:
    """One process, one key already watched from its head: a second client resuming from an
    older id is replayed from Redis up to where the process's feed starts, then shares the
    feed; it gets every event once."""
    need_service("Redis", 6379)
    prefix = f"prodready-test:{uuid.uuid4().hex}:"
    env = stream_env(broker=REDIS_URL, key_prefix=prefix, ttl=60, heartbeat=5)
    server = serve("uvicorn", APP, env=env)
    url = f"{server.url}/reports/seam/events"
    older = publish(server, "seam", 3)  # n = 0, 1, 2 before anyone listens
    watcher: list[Received] = []
    watching = threading.Event()

    def watch() -> None:
        watcher.append(read(url, lambda r: len(r.events) >= 2, on_open=watching.set))

    first = threading.Thread(target=watch)
    first.start()
    assert watching.wait(10)
    time.sleep(0.5)  # the feed now reads the key from its head (after n = 2)
    resumed = read(
        url,
        lambda r: len(r.events) >= 4,
        last_event_id=older[0],
        on_open=lambda: publish(server, "seam", 2, start=3),
    )
    first.join(timeout=15)
    assert resumed.numbers() == [1, 2, 3, 4]
    assert watcher[0].numbers() == [3, 4]
    redis.Redis.from_url(REDIS_URL).delete(f"{prefix}reports:seam")


def test_gunicorn_asgi_worker_ends_streams_with_retry_on_sigterm(serve) -> None:
    """The worker class `prodready serve` picks for ASGI apps drains streams too."""
    server = serve("gunicorn", APP, env=stream_env(heartbeat=5), extra_args=["-k", "asgi"])
    assert server.process is not None
    received = read(
        f"{server.url}/reports/term/events",
        lambda r: False,
        on_open=lambda: server.process.send_signal(signal.SIGTERM),
    )
    assert received.ended
    assert received.retries == [2000, 2000]
    assert server.process.wait(timeout=15) == 0


def test_django_asgi_stream_ends_when_the_client_leaves(serve) -> None:
    server = serve("uvicorn", "stream_django_app:asgi", env=stream_env(heartbeat=5))
    url = f"{server.url}/reports/left/events"
    with httpx.stream("GET", url, timeout=10) as response:
        lines = response.iter_lines()  # kept: dropping the iterator closes the connection
        assert next(lines) == "retry: 2000"
        assert metric(server, "sse_streams_open") == 1
    deadline = time.monotonic() + 10
    while metric(server, "sse_streams_open") != 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert metric(server, "sse_streams_open") == 0

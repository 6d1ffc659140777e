"""The access-log hook under every request-time type Gunicorn passes it.

Gunicorn 27's asyncio ASGI worker passes `_RequestTime` (seconds, microseconds) where its other
workers pass a `datetime.timedelta`; a hook that called `.total_seconds()` logged an exception
on every request while every response still came back right.
"""

from __future__ import annotations

from datetime import timedelta

from gunicorn.asgi.protocol import _RequestTime

from prodready.runtime.logs import request_time_ms
from tests.serve.support import get
from tests.server_errors import unexpected_errors

REQUESTS = 5


def test_request_time_in_ms_from_both_gunicorn_types() -> None:
    assert request_time_ms(timedelta(seconds=1, microseconds=234_500)) == 1234.5
    assert request_time_ms(timedelta(days=1, milliseconds=2)) == 86_400_002.0
    assert request_time_ms(_RequestTime(1.25)) == 1250.0


def test_asgi_worker_access_lines_have_durations_and_the_error_log_stays_empty(serve) -> None:
    server = serve("asgiapp:app", "--access-log", ready_path="/")
    for _ in range(REQUESTS):
        assert get(server.base + "/") == (200, b"ok")
    assert server.stop() == 0

    log = server.log()
    assert "Using worker: asgi" in log
    access = [e for e in server.log_events() if e.get("path") == "/" and e.get("status") == 200]
    assert len(access) >= REQUESTS, log
    assert all(0 <= e["duration_ms"] < 10_000 for e in access), access
    assert unexpected_errors(log) == [], log

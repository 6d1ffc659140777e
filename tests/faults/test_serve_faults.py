"""`prodready serve` against hostile clients: sockets that connect and say nothing.

Plain gthread gives each new connection a thread for up to 5 s while it waits for the first
bytes: a dozen idle sockets hold every thread of a small server. prodready's worker gives a
connection a thread only once it speaks.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serve.support import Server, copy_apps, get

pytestmark = pytest.mark.slow

IDLE_SOCKETS = 200


@pytest.fixture
def flask_server(tmp_path: Path) -> Iterator[Server]:
    server = Server(copy_apps(tmp_path / "apps"), "flaskapp:app").start()
    yield server
    server.stop()


def _open_idle(port: int, count: int) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sockets.append(socket.create_connection(("127.0.0.1", port), timeout=5))
    return sockets


def _timed_get(url: str) -> tuple[int, float]:
    started = time.monotonic()
    status, _ = get(url, timeout=30)
    return status, time.monotonic() - started


def test_200_idle_connections_do_not_delay_a_real_request(flask_server: Server) -> None:
    idle = _open_idle(flask_server.port, IDLE_SOCKETS)
    try:
        time.sleep(0.5)  # let the workers accept them all
        answers = [_timed_get(flask_server.base + "/ping") for _ in range(5)]
    finally:
        for sock in idle:
            sock.close()

    assert all(status == 200 for status, _ in answers)
    # Plain gthread: ~10 s for 12 idle sockets, no answer in 20 s for 24.
    assert max(seconds for _, seconds in answers) < 2.0, answers


def test_idle_connections_are_closed_after_the_keepalive_time(flask_server: Server) -> None:
    (idle,) = _open_idle(flask_server.port, 1)
    idle.settimeout(20)
    started = time.monotonic()

    assert idle.recv(1) == b""  # closed by the server, nothing sent
    assert 3 < time.monotonic() - started < 15  # keepalive is 5 s when serving directly


def test_a_server_with_idle_connections_stops_promptly(tmp_path: Path) -> None:
    server = Server(copy_apps(tmp_path / "apps"), "flaskapp:app").start()
    idle = _open_idle(server.port, 20)
    try:
        started = time.monotonic()
        assert server.stop() == 0
        assert time.monotonic() - started < 10  # not graceful_timeout (25 s)
    finally:
        for sock in idle:
            sock.close()

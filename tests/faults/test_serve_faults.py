"""`prodready serve`, and the nginx site `prodready init` writes, against hostile clients:
sockets that connect and say nothing, clients that stall in their headers or their body.

Plain gthread gives each new connection a thread for up to 5 s while it waits for the first
bytes: a dozen idle sockets hold every thread of a small server. prodready's worker gives a
connection a thread only once it speaks. Behind nginx, nginx takes the hostile clients: it
passes a request on only once it has it whole, and cuts off a stalled client in seconds.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from prodready.generate import validate
from prodready.generate.context import Options
from prodready.generate.run import init_project
from tests.generate.conftest import write_app
from tests.generate.servers import HOST, Stack, curl, response, running
from tests.generate.test_tuning import KIT_APP
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


def test_clients_stalling_in_their_headers_do_not_hold_the_threads(tmp_path: Path) -> None:
    """20 clients send half a request head and stall (10 of them in a second request on a
    kept-alive connection), against 2 workers x 2 threads: a thread takes a connection only
    once its head is complete, so a real request is served."""
    server = Server(
        copy_apps(tmp_path / "apps"), "flaskapp:app", "--workers", "2", "--threads", "2"
    ).start()
    stalled = _open_idle(server.port, 20)
    try:
        for sock in stalled[10:]:  # these stall in their second request, on keep-alive
            sock.sendall(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        for sock in stalled:
            sock.sendall(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        time.sleep(0.5)
        status, seconds = _timed_get(server.base + "/ping")
        # Cut off once keepalive (5 s) has passed since they connected, head incomplete.
        stalled[0].settimeout(20)
        cut_off = stalled[0].recv(1) == b""
    finally:
        for sock in stalled:
            sock.close()
        server.stop()

    assert status == 200
    assert seconds < 2.0
    assert cut_off


def test_a_request_head_sent_byte_by_byte_is_still_served(flask_server: Server) -> None:
    with socket.create_connection(("127.0.0.1", flask_server.port), timeout=10) as sock:
        for byte in b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n":
            sock.sendall(bytes([byte]))
            time.sleep(0.01)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk

    assert answer.startswith(b"HTTP/1.1 200")
    assert answer.endswith(b'{"ok":true}\n')


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


# --- behind the nginx site `prodready init` writes ------------------------------------------


@pytest.fixture(scope="module")
def behind_nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The generated nginx site in front of Gunicorn with the generated gunicorn.conf.py
    (plain gthread: nginx must shield it)."""
    missing = [tool for tool in ("nginx", "openssl", "curl") if not validate.find_tool(tool)]
    assert not missing, f"not installed: {missing} (scripts/ensure-system-deps.sh)"
    base = tmp_path_factory.mktemp("behind-nginx")
    root = write_app(base / "app", {"app.py": KIT_APP, "requirements.txt": "flask==3.1.0\n"})
    result = init_project(root, Options(server_name=HOST))
    with running(root, result.context, base / "servers", {}) as stack:
        yield stack


def _tls_client(stack: Stack) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(stack.certificate))
    raw = socket.create_connection(("127.0.0.1", stack.https_port), timeout=60)
    return context.wrap_socket(raw, server_hostname=HOST)


def test_behind_nginx_a_client_stalling_in_its_headers_is_cut_off_in_seconds(
    behind_nginx: Stack,
) -> None:
    client = _tls_client(behind_nginx)
    client.sendall(f"GET / HTTP/1.1\r\nHost: {HOST}\r\nX-Slow: ".encode())
    started = time.monotonic()
    try:
        while client.recv(4096):
            pass
    except OSError:
        pass
    finally:
        client.close()

    # client_header_timeout: nginx's default keeps such a socket 60 s.
    assert time.monotonic() - started < 20


def test_behind_nginx_a_client_stalling_in_its_body_is_cut_off_in_seconds(
    behind_nginx: Stack,
) -> None:
    client = _tls_client(behind_nginx)
    client.sendall(
        f"POST / HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: 100000\r\n\r\n0123456789".encode()
    )
    started = time.monotonic()
    try:
        while client.recv(4096):
            pass
    except OSError:
        pass
    finally:
        client.close()

    assert time.monotonic() - started < 20  # client_body_timeout; nginx's default is 60 s


def test_behind_nginx_idle_and_slow_clients_do_not_delay_a_real_request(
    behind_nginx: Stack,
) -> None:
    idle = _open_idle(behind_nginx.https_port, IDLE_SOCKETS)
    slow = [_tls_client(behind_nginx) for _ in range(20)]
    for client in slow[:10]:
        client.sendall(f"GET / HTTP/1.1\r\nHost: {HOST}\r\n".encode())
    for client in slow[10:]:
        client.sendall(f"POST / HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: 9999\r\n\r\n".encode())
    try:
        started = time.monotonic()
        result = curl(behind_nginx, "https://{host}:{port}/")
        elapsed = time.monotonic() - started
    finally:
        for sock in [*idle, *slow]:
            sock.close()

    assert response(result)[0] == 200, result.stderr
    assert elapsed < 2.0


@pytest.mark.parametrize("server_kind", ["gunicorn", "granian"])
def test_sigterm_answers_queued_requests_beyond_the_thread_count(
    tmp_path: Path, server_kind: str
) -> None:
    """10 slow requests on 2 workers x 2 threads: 4 run, 6 wait. SIGTERM must answer all."""
    server = Server(
        copy_apps(tmp_path / "apps"), "flaskapp:app", "--server", server_kind,
        "--workers", "2", "--threads", "2",
    ).start()  # fmt: skip
    with ThreadPoolExecutor(10) as pool:
        in_flight = [pool.submit(_status_or_error, server.base + "/slow") for _ in range(10)]
        time.sleep(0.5)
        exit_code = server.stop()
        answers = [future.result() for future in in_flight]

    assert exit_code == 0
    assert answers == [200] * 10


def _status_or_error(url: str) -> int | str:
    try:
        return get(url, timeout=30)[0]
    except OSError as error:
        return type(error).__name__

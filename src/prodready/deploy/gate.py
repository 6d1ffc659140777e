"""Step 4: the health gate. The new generation serves the readiness route N times in a row,
half a second apart, over its own socket, before any client request can reach it."""

from __future__ import annotations

import http.client
import socket
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from prodready.deploy.failure import DeployFailed

PROBE_TIMEOUT_S = 5.0
WARM_CONNECTIONS = 16
"""Concurrent requests per warm-up path (the health path, then each --warmup path). Arriving at
once, they are spread over the generation's workers as they accept, so most workers have served
the path before the switch, and their first request (lazy imports, the URL resolver, templates,
the database connection) is not a client's. The gate's passes alone may all land on one
worker."""


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a unix socket (the Host header stays `localhost`)."""

    def __init__(self, path: str, timeout: float = PROBE_TIMEOUT_S) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def get(socket_path: str, path: str, timeout: float = PROBE_TIMEOUT_S) -> int:
    """The status of GET path over the socket; raises OSError when it cannot connect."""
    connection = UnixHTTPConnection(socket_path, timeout)
    try:
        connection.request("GET", path, headers={"User-Agent": "prodready-deploy-gate"})
        response = connection.getresponse()
        response.read()
        return response.status
    except http.client.HTTPException as error:
        raise OSError(str(error)) from error
    finally:
        connection.close()


@dataclass(frozen=True)
class Gate:
    path: str
    passes: int = 3
    timeout_s: float = 60.0
    interval_s: float = 0.5
    """Between two passes: 3 passes span a second of serving, enough to see a generation whose
    workers die after their first requests (kamal-proxy switches after one pass, Kubernetes'
    successThreshold is 1). Before the first pass it polls every `boot_poll_s`: the gate ends
    as soon after boot as N passes allow, and a rollback stays a matter of seconds (1 s apart,
    the passes were 2 of a rollback's 4.6 to 5.5 s to the switch, measured)."""
    boot_poll_s: float = 0.25
    warmup: tuple[str, ...] = ()


def wait_healthy(gate: Gate, socket_path: str, alive: Callable[[], bool]) -> str:
    """Returns once `passes` consecutive probes answered 2xx; DeployFailed on timeout or when
    the generation exits (a crash is reported at once, not after the timeout)."""
    start = time.monotonic()
    deadline = start + gate.timeout_s
    streak, last = 0, "no answer yet"
    while True:
        if not alive():
            raise DeployFailed(f"the new generation exited during the health gate ({last})")
        try:
            status = get(socket_path, gate.path)
            last = f"GET {gate.path}: {status}"
            streak = streak + 1 if 200 <= status < 300 else 0
        except OSError as error:
            last, streak = f"GET {gate.path}: {error.strerror or error}", 0
        if streak >= gate.passes:
            break
        pause = gate.interval_s if streak else gate.boot_poll_s
        if time.monotonic() + pause > deadline:
            raise DeployFailed(
                f"the new generation did not pass the health gate in {gate.timeout_s:g} s "
                f"({streak}/{gate.passes} passes; last: {last})"
            )
        time.sleep(pause)
    warmed = [_warm(socket_path, path) for path in (gate.path, *gate.warmup)]
    took = time.monotonic() - start
    return (
        f"{gate.passes} passes of GET {gate.path} in {took:.1f} s; "
        f"warm-up on {WARM_CONNECTIONS} connections: {', '.join(warmed)}"
    )


def _warm(socket_path: str, path: str) -> str:
    """GET path on WARM_CONNECTIONS connections at once; the outcome is reported, not gated."""
    with ThreadPoolExecutor(WARM_CONNECTIONS) as pool:
        outcomes = Counter(
            pool.map(lambda _: _warm_once(socket_path, path), range(WARM_CONNECTIONS))
        )
    if len(outcomes) == 1:
        return f"{path} {next(iter(outcomes))}"
    return f"{path} " + " ".join(f"{what} x{n}" for what, n in outcomes.most_common())


def _warm_once(socket_path: str, path: str) -> str:
    try:
        return str(get(socket_path, path, timeout=30))
    except OSError as error:
        return f"failed ({error.strerror or error})"

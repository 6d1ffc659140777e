"""A drain window between SIGTERM and the stop, for the Gunicorn master.

Gunicorn closes its listening sockets the moment the master gets SIGTERM. A load balancer that
still routes to this server then meets refused connections (nginx answers 502) until its own
health check notices, and the readiness 503 the workers turn to is never seen: nobody can
connect to ask. Kubernetes users add a `preStop: sleep` for this; here it is a setting.

With PRODREADY_DRAIN_SECONDS=N (or `prodready serve --drain-seconds N`), the first SIGTERM
creates the drain file that every worker's readiness reads (prodready.runtime answers 503 while
it exists), keeps serving for N seconds, then stops as Gunicorn always does: gracefully, within
graceful_timeout. A second SIGTERM during the window stops at once (gracefully). SIGINT and
SIGQUIT keep their meaning (a fast stop).

The process manager's stop timeout must cover N + graceful_timeout (systemd TimeoutStopSec,
docker stop -t, terminationGracePeriodSeconds), and only the master may get SIGTERM
(systemd KillMode=mixed, as the unit `prodready init` writes has).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from prodready.errors import InputError
from prodready.serve.runtimedir import environ_of

DRAIN_SECONDS_ENV = "PRODREADY_DRAIN_SECONDS"
MAX_DRAIN_SECONDS = 300.0
SECOND_SIGNAL_AFTER_S = 0.2
"""Two signals sent closer together may merge into one pending signal."""


def drain_seconds(value: str | None) -> float:
    """The window in seconds from the variable's text (unset or empty: 0)."""
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_DRAIN_SECONDS:
        raise InputError(
            f"{DRAIN_SECONDS_ENV}={value!r} is not a number of seconds from 0 to "
            f"{MAX_DRAIN_SECONDS:.0f}",
            "a few probe intervals of the load balancer in front, e.g. 5",
        )
    return seconds


def export_drain_seconds(given: float | None, server: str) -> None:
    """Puts the window (a flag wins over the environment) where the master's hook reads it;
    raises a one-line error for a bad value or a server that cannot honour it."""
    seconds = given if given is not None else drain_seconds(os.environ.get(DRAIN_SECONDS_ENV))
    if seconds and server != "gunicorn":
        raise InputError(
            "--drain-seconds works with Gunicorn only",
            f"leave out --server {server}, or unset {DRAIN_SECONDS_ENV}",
        )
    if given is not None:
        os.environ[DRAIN_SECONDS_ENV] = f"{given:g}"


def install_drain_delay(server: Any, drain_file: Path, seconds: float) -> None:
    """Makes the arbiter's first SIGTERM open a drain window of `seconds` (see the module).

    Gunicorn dispatches queued signals to `handle_<name>` methods looked up on the arbiter, so
    an instance attribute replaces its SIGTERM handling for this server only. The workers find
    the drain file through PRODREADY_DRAIN_FILE, set here before they are forked.
    """
    from prodready.runtime.health import DRAIN_FILE_ENV

    os.environ[DRAIN_FILE_ENV] = str(drain_file)
    drain_file.unlink(missing_ok=True)
    stop = server.handle_term
    opened = threading.Event()

    def handle_term() -> None:
        if opened.is_set():
            stop()
            return
        opened.set()
        drain_file.touch()
        server.log.info(
            "SIGTERM: readiness answers 503, still serving for %.1f s before the stop", seconds
        )
        timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGTERM))
        timer.daemon = True
        timer.start()

    server.handle_term = handle_term


def end_drain_window(pid: int) -> None:
    """For a caller that has just sent SIGTERM and already moved the traffic away (a deploy
    switched at nginx, verify tearing down): ends the server's drain window, if it has one,
    with the second SIGTERM, so the stop begins now."""
    if environ_of(pid).get(DRAIN_SECONDS_ENV, "0") in ("", "0"):
        return
    time.sleep(SECOND_SIGNAL_AFTER_S)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)

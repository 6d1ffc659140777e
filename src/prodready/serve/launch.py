"""Turns this process into the server: checks what would make it fail at once, then execs.

exec keeps the pid, so a process manager (systemd, a container's PID 1, a test) that started
`prodready serve` signals the Gunicorn or Granian master directly.
"""

from __future__ import annotations

import errno
import os
import socket
from typing import NoReturn

from prodready.errors import InputError, ToolError, UserError
from prodready.project.gunicornsettings import CMD_ARGS_ENV
from prodready.runtime.logs import LOG_FORMAT_ENV
from prodready.serve.granian import granian_argv
from prodready.serve.gunicorn import gunicorn_argv
from prodready.serve.plan import ServerPlan
from prodready.serve.runtimedir import (
    STATE_ENV,
    TARGET_ENV,
    record_master,
    sweep_stale_state_dirs,
)


def run_plan(plan: ServerPlan) -> NoReturn:
    for bind in plan["bind"]:
        ensure_bind_free(bind)
    sweep_stale_state_dirs()
    plan.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    record_master(plan.state_dir, os.getpid())  # exec keeps the pid and its start time
    argv = gunicorn_argv(plan) if plan.server == "gunicorn" else granian_argv(plan)
    os.environ[STATE_ENV] = str(plan.state_dir)
    os.environ[TARGET_ENV] = plan.target
    # The plan has taken $GUNICORN_CMD_ARGS in (or overridden it); Gunicorn must not again.
    os.environ.pop(CMD_ARGS_ENV, None)
    if plan.json_logs is not None:  # the workers' own logging (prodready.runtime) follows
        os.environ[LOG_FORMAT_ENV] = plan.log_format
    try:
        os.execv(argv[0], argv)
    except OSError as error:
        raise ToolError(f"cannot start {plan.server}: {error.strerror}") from error


def ensure_bind_free(bind: str) -> None:
    """Raises a one-line error when HOST:PORT cannot be bound (Gunicorn would retry for 5 s,
    then print a traceback)."""
    if bind.startswith(("unix:", "fd://")):
        return
    host, _, port = bind.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    try:
        infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise InputError(f"cannot bind {bind}: unknown host {host!r}") from error
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise UserError(
                    f"port {port} on {host} is already in use",
                    "stop the process listening there or choose another with --bind HOST:PORT",
                ) from error
            raise UserError(f"cannot bind {bind}: {error.strerror}") from error

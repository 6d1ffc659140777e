"""Runs a plan under Granian (`--server granian`): the same numbers, as Granian options."""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

from prodready.serve.plan import ServerPlan, granian_python_thread_bound
from prodready.serve.runtimedir import metrics_dir

GRANIAN_LOGGERS = ("_granian", "granian.access")


def granian_argv(plan: ServerPlan) -> list[str]:
    """Granian options equivalent to the plan; prepares the state dir they refer to.

    Granian serves both WSGI and ASGI from its own Rust runtime: its `--runtime-threads` do the
    network I/O, a sync WSGI app's handlers run on `--blocking-threads`. Reload is Granian's
    own: SIGHUP respawns workers one at a time, each new one started before its old one stops.
    Logs go through prodready.runtime's pipeline (a dictConfig file); the Prometheus
    multiprocess directory is prepared here, as Granian has no hook to do it in.
    """
    from prodready.runtime.metrics import MULTIPROC_ENV, prepare_multiprocess_dir

    prepare_multiprocess_dir(os.environ.get(MULTIPROC_ENV) or metrics_dir(plan.state_dir))
    log_config = plan.state_dir / "granian-logging.json"
    config = granian_logconfig(plan["accesslog"] is not None, plan.json_logs, plan["loglevel"])
    if plan.interface == "wsgi" and plan["blocking_threads"] > granian_python_thread_bound(
        plan.machine
    ):
        note_chosen_thread_count(config, plan)
    log_config.write_text(json.dumps(config))
    target = plan.target.removesuffix("()")
    argv = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        plan.interface,
        *_listen_options(plan["bind"][0]),
        "--workers",
        str(plan["workers"]),
        "--runtime-threads",
        str(plan["runtime_threads"]),
        "--working-dir",
        str(plan.root),
        "--pid-file",
        str(plan["pidfile"]),
        "--workers-kill-timeout",
        str(plan["graceful_timeout"]),
        "--respawn-failed-workers",
        "--no-access-log" if plan["accesslog"] is None else "--access-log",
        "--log-config",
        str(log_config),
    ]
    if plan.interface == "wsgi":
        # No --backpressure: Granian's default (backlog / workers) lets a worker accept more
        # requests than it has threads, queued in Granian, which drains them on SIGTERM.
        # Backpressure = threads left them in the kernel's backlog instead, and closing the
        # listener on SIGTERM reset them (6 of 10 slow requests with 2 x 2 threads).
        argv += ["--blocking-threads", str(plan["blocking_threads"])]
    if plan.target.endswith("()"):
        argv.append("--factory")
    return [*argv, target]


def _listen_options(bind: str) -> list[str]:
    """Granian's options for a --bind value: `--uds PATH` for unix:PATH (what `prodready
    deploy` gives each generation), else --host and --port."""
    if bind.startswith("unix:"):
        return ["--uds", bind.removeprefix("unix:")]
    host, _, port = bind.rpartition(":")
    return ["--host", host.strip("[]") or "0.0.0.0", "--port", port]


def granian_logconfig(
    access_log: bool, json_logs: bool | None, level: str = "info"
) -> dict[str, Any]:
    """prodready.runtime's Gunicorn log config, re-targeted at Granian's loggers, as JSON-able
    data (the formatter by its dotted name)."""
    from prodready.runtime.logs import gunicorn_logconfig_dict

    config = gunicorn_logconfig_dict(json=json_logs, level=level)
    config["formatters"]["prodready"]["()"] = "prodready.runtime.logs.json_formatter"
    noise_filter = config["filters"]["cancelled_stream_task"]
    noise_filter["()"] = "prodready.runtime.logs.CancelledStreamTaskNoise"
    for name in GRANIAN_LOGGERS:
        config["loggers"][name] = {
            "level": "INFO" if name.endswith(".access") else level.upper(),
            "handlers": ["stdout"],
            "propagate": False,
        }
    if not access_log:
        config["loggers"]["granian.access"]["level"] = "CRITICAL"
    return config


def note_chosen_thread_count(config: dict[str, Any], plan: ServerPlan) -> None:
    """Granian warns that more blocking threads than 2 x CPUs + 1 "seems quite high", advice
    for CPU-bound code that its message says to ignore when intended. The plan chose them for
    handlers that wait on I/O; the warning becomes an info line that says why."""
    config.setdefault("filters", {})["thread_count"] = {
        "()": "prodready.serve.granian.ChosenThreadCount",
        "note": f"{plan['blocking_threads']} blocking threads per worker, chosen by prodready "
        f"serve: {_why(plan, 'blocking_threads')}",
    }
    config["loggers"]["_granian"]["filters"] = ["thread_count"]


def _why(plan: ServerPlan, name: str) -> str:
    return next(s.why for s in plan.settings if s.name == name)


class ChosenThreadCount(logging.Filter):
    """Turns Granian's thread-count warning into an info line with prodready's reason."""

    def __init__(self, note: str) -> None:
        super().__init__()
        self.note = note

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and "Python threads" in str(record.msg):
            record.msg, record.args = self.note, None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True

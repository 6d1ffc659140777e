"""Runs a plan under Granian (`--server granian`): the same numbers, as Granian options."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from prodready.serve.plan import ServerPlan
from prodready.serve.runtimedir import metrics_dir

GRANIAN_LOGGERS = ("_granian", "granian.access")


def granian_argv(plan: ServerPlan) -> list[str]:
    """Granian options equivalent to the plan; prepares the state dir they refer to.

    Granian serves both WSGI and ASGI from its own Rust runtime; a sync WSGI app runs its
    handlers on `--blocking-threads`, the plan's threads. Reload is Granian's own: SIGHUP
    respawns workers one at a time, each new one started before its old one stops. Logs go
    through prodready.runtime's JSON pipeline (a dictConfig file); the Prometheus
    multiprocess directory is prepared here, as Granian has no hook to do it in.
    """
    from prodready.runtime.metrics import MULTIPROC_ENV, prepare_multiprocess_dir

    prepare_multiprocess_dir(os.environ.get(MULTIPROC_ENV) or metrics_dir(plan.state_dir))
    log_config = plan.state_dir / "granian-logging.json"
    log_config.write_text(
        json.dumps(granian_logconfig(plan["accesslog"] is not None, plan.json_logs))
    )
    host, port = _host_port(plan["bind"][0])
    target = plan.target.removesuffix("()")
    argv = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        plan.interface,
        "--host",
        host,
        "--port",
        port,
        "--workers",
        str(plan["workers"]),
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
        # Backpressure = threads: a worker takes no more requests than it has threads for;
        # the rest wait in the kernel's backlog, where another worker can take them.
        argv += ["--blocking-threads", str(plan["threads"]), "--backpressure", str(plan["threads"])]
    if plan.target.endswith("()"):
        argv.append("--factory")
    return [*argv, target]


def _host_port(bind: str) -> tuple[str, str]:
    host, _, port = bind.rpartition(":")
    return host.strip("[]") or "0.0.0.0", port


def granian_logconfig(access_log: bool, json_logs: bool | None) -> dict[str, Any]:
    """prodready.runtime's Gunicorn log config, re-targeted at Granian's loggers, as JSON-able
    data (the formatter by its dotted name)."""
    from prodready.runtime.logs import gunicorn_logconfig_dict

    config = gunicorn_logconfig_dict(json=json_logs)
    config["formatters"]["prodready"]["()"] = "prodready.runtime.logs.json_formatter"
    for name in GRANIAN_LOGGERS:
        config["loggers"][name] = {"level": "INFO", "handlers": ["stdout"], "propagate": False}
    if not access_log:
        config["loggers"]["granian.access"]["level"] = "CRITICAL"
    return config

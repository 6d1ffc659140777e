"""Runs a plan under Granian (`--server granian`): the same numbers, as Granian options."""

from __future__ import annotations

import sys

from prodready.serve.plan import ServerPlan


def granian_argv(plan: ServerPlan) -> list[str]:
    """Granian options equivalent to the plan.

    Granian serves both WSGI and ASGI from its own Rust runtime; a sync WSGI app runs its
    handlers on `--blocking-threads`, the plan's threads. Reload is Granian's own: SIGHUP
    respawns workers one at a time.
    """
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
    ]
    if plan.interface == "wsgi":
        argv += ["--blocking-threads", str(plan["threads"])]
    if plan.target.endswith("()"):
        argv.append("--factory")
    return [*argv, target]


def _host_port(bind: str) -> tuple[str, str]:
    host, _, port = bind.rpartition(":")
    return host.strip("[]") or "0.0.0.0", port

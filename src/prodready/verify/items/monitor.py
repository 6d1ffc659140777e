"""monitor: one round of `prodready monitor URL --once --json` against the running app's health
endpoint (or /), through the nginx front when there is one, as production's monitor meets it.

Through the front the URL names the site's server name, so the TLS check is the real one
(certificate and host name, the throwaway certificate trusted through SSL_CERT_FILE). That
name resolves nowhere here: the monitor runs in a child process (this module, run with -m)
where it resolves to 127.0.0.1, as a hosts entry would make it on a monitoring box."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from typing import Any

from prodready.project.probes import choose_probes
from prodready.verify.model import ItemResult
from prodready.verify.stage import Stage

TITLE = "monitor"
MONITOR_TIMEOUT = 60
"""One round with its re-checks (a probe times out after 10 s, re-checked twice)."""


def verify(stage: Stage) -> ItemResult:
    path = choose_probes(stage.project).ready
    if stage.front:
        front = stage.front
        url = f"https://{front.server_name}:{front.https_port}{path}"
        env = {**os.environ, "SSL_CERT_FILE": str(front.certificate)}
        host, through = front.server_name, "through nginx"
    else:
        url = f"http://127.0.0.1:{stage.server.port}{path}"
        env, host, through = dict(os.environ), "", f"straight to the app ({stage.front_missing})"
    argv = [sys.executable, "-m", __name__, host, url, str(stage.work / "monitor.db")]
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, env=env, timeout=MONITOR_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return ItemResult.failed(
            "monitor", TITLE, f"prodready monitor --once ran over {MONITOR_TIMEOUT} s"
        )
    command = f"prodready monitor {url} --once --json ({through})"
    try:
        (row,) = json.loads(done.stdout)["endpoints"]
    except (ValueError, KeyError, TypeError):
        return ItemResult.failed(
            "monitor", TITLE, f"prodready monitor exited {done.returncode} without a verdict",
            details=[command], log=(done.stderr or done.stdout)[-2000:],
        )  # fmt: skip
    return _judged(row, done.returncode, path, command)


def _judged(row: dict[str, Any], code: int, path: str, command: str) -> ItemResult:
    measures: dict[str, int | float | str | bool] = {
        "up": bool(row["up"]),
        "latency_ms": row["latency_ms"],
        "probes": row["probes"],
        "exit_code": code,
    }
    if row.get("cert_days") is not None:
        measures["cert_days"] = row["cert_days"]
    details = [command, f"monitor said: {json.dumps(row)}"]
    if not row["up"] or code != 0:
        reason = row.get("reason") or "down"
        return ItemResult.failed(
            "monitor", TITLE, f"{path} DOWN: {reason}"[:88], measures=measures, details=details
        )
    if row.get("blip"):
        return ItemResult.warned(
            "monitor", TITLE, f"{path} up only after a re-check", measures=measures,
            details=details,
        )  # fmt: skip
    return ItemResult.passed(
        "monitor", TITLE, f"{path} up in {row['latency_ms']} ms", measures=measures,
        details=details,
    )  # fmt: skip


def _resolve_to_loopback(name: str) -> None:
    """`name` resolves to 127.0.0.1 in this process (asyncio and aiohttp resolve through
    socket.getaddrinfo)."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if host == name else host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def _monitor_once(host: str, url: str, store: str) -> None:
    from prodready.cli.main import main

    if host:
        _resolve_to_loopback(host)
    sys.argv = ["prodready", "monitor", url, "--once", "--json", "--store", store]
    main()


if __name__ == "__main__":
    _monitor_once(*sys.argv[1:4])

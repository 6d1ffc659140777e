"""Step 5: the switch, without dropping a client connection.

nginx's upstream names one stable path, ROOT/run/app.sock, a symlink to the serving
generation's socket. Switching is replacing that symlink atomically (rename over it): nginx
resolves the path at every connect(), so new upstream connections reach the new generation and
nginx is not reloaded. Rewriting the upstream and reloading nginx on each deploy would close
every idle keep-alive client connection at each reload (clients racing a request onto a closing
connection see an error). The include is written, tested (nginx -t) and nginx reloaded only
when its own text changes: the first deploy, or a new ROOT.

The server is listed twice (the second as backup) so nginx has a second try: a request sent on
a connection the old generation closed while draining is retried on a fresh connect, which
reaches the new generation (proxy_next_upstream's default `error timeout`)."""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from prodready.deploy.failure import DeployFailed
from prodready.deploy.layout import Layout, swap_symlink

NGINX_TIMEOUT_S = 30


@dataclass(frozen=True)
class Nginx:
    """How to run this host's nginx: `nginx [-p PREFIX] [-c CONF] ...`."""

    binary: str = "nginx"
    prefix: Path | None = None
    conf: Path | None = None

    def argv(self, *args: str) -> list[str]:
        argv = [self.binary]
        if self.prefix:
            argv += ["-p", str(self.prefix)]
        if self.conf:
            argv += ["-c", str(self.conf)]
        return [*argv, *args]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                self.argv(*args),
                capture_output=True,
                text=True,
                timeout=NGINX_TIMEOUT_S,
                check=False,
            )
        except FileNotFoundError as error:
            raise DeployFailed(
                f"{self.binary} not found: the switch needs nginx",
                "install nginx, or deploy with --proxy none",
            ) from error


RETRY_ENTRIES = 7
"""Backup entries for the one stable socket. nginx tries each server of an upstream at most
once per request, so these are the retries an idempotent request gets when the keep-alive
connection it went out on is closed under it (nginx never retries a POST it has sent). A
worker that recycles or a generation that drains closes all of its connections at once, and
a retry can take another of them from nginx's cache before nginx has seen it close. Measured
with flashcards' uvicorn workers recycling every few seconds under 300 req/s: 1 backup entry
let 3 to 5 requests in 20,000 through as 502s, 3 let 1 and 0, 7 let 1 in 5 runs."""


def include_text(layout: Layout) -> str:
    sock = layout.stable_socket
    backups = "".join(f"server unix:{sock} max_fails=0 backup;\n" for _ in range(RETRY_ENTRIES))
    return (
        "# Written by `prodready deploy`: the upstream of the site. Do not edit: deploys switch\n"
        f"# generations by pointing {sock} at the new one's socket; the backup lines are\n"
        "# retries for requests whose keep-alive connection a stopping worker closed.\n"
        f"server unix:{sock} max_fails=0;\n{backups}"
    )


def ensure_include(layout: Layout, nginx: Nginx) -> str:
    """Writes the include when it differs, then nginx -t and reload. A config nginx refuses
    puts the previous include back and stops the deploy (nginx keeps its running config)."""
    wanted = include_text(layout)
    path = layout.include
    before = path.read_text() if path.is_file() else None
    if before == wanted:
        return "upstream include unchanged: no nginx reload"
    _write_atomic(path, wanted)
    tested = nginx.run("-t")
    if tested.returncode != 0:
        if before is None:
            path.unlink()
        else:
            _write_atomic(path, before)
        raise DeployFailed(
            "nginx -t refused the configuration: nothing was switched",
            f"fix the nginx configuration ({shlex.join(nginx.argv('-t'))} shows how)",
            details=tested.stderr.strip()[-1200:],
        )
    reloaded = nginx.run("-s", "reload")
    if reloaded.returncode != 0 and ".pid" in reloaded.stderr:
        # nginx is not running (no pid file): nothing serves yet, nothing to switch away from.
        return f"wrote {path}; nginx -t ok; nginx is not running: it reads the include at start"
    if reloaded.returncode != 0:
        raise DeployFailed(
            "nginx -s reload failed: nginx does not have the new upstream include",
            "start nginx with the site that includes it, then deploy again",
            details=reloaded.stderr.strip()[-600:],
        )
    return f"wrote {path}; nginx -t ok; nginx reloaded"


def point_traffic(layout: Layout, release_id: str) -> None:
    """New upstream connections go to `release_id`'s generation from now on."""
    swap_symlink(layout.stable_socket, layout.socket(release_id).name)


def point_current(layout: Layout, release_id: str) -> None:
    swap_symlink(layout.current, os.path.relpath(layout.release(release_id), layout.root))


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)

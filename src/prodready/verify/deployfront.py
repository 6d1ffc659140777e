"""nginx in front of a deploy root for the deploy item: plain HTTP on a loopback port, its
upstream the include `prodready deploy` writes (ROOT/nginx/upstream.conf: the stable socket
each switch points at the new generation). The requests reach the app as the generated site
sends them (the site's name as Host, https as the forwarded scheme); TLS and the site's rate
limit are left out, so a load test measures the switch, not the limit."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from prodready.verify.front import stop_nginx
from prodready.verify.http import request
from prodready.verify.server import free_port

START_TIMEOUT_S = 15.0
TEMPLATE = """{user}
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp; proxy_temp_path {prefix}/tmp;
    fastcgi_temp_path {prefix}/tmp; uwsgi_temp_path {prefix}/tmp; scgi_temp_path {prefix}/tmp;
    upstream app {{
        include {root}/nginx/upstream.conf;
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host {server_name};
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto https;
        }}
    }}
}}
"""


@dataclass
class DeployFront:
    prefix: Path
    conf: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    def start(self, nginx: str) -> str | None:
        """Starts nginx (once the include exists); returns why it did not answer, or None."""
        self.process = subprocess.Popen(
            [nginx, "-p", str(self.prefix), "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return "nginx exited: " + self.error_tail()
            try:
                request(self.port, "/", timeout=2.0)
                return None
            except OSError:
                time.sleep(0.1)
        return f"nginx did not answer within {START_TIMEOUT_S:.0f} s"

    def error_tail(self) -> str:
        try:
            lines = (self.prefix / "error.log").read_text(errors="replace").splitlines()
        except OSError:
            return "(no error log)"
        return " | ".join(lines[-3:])

    def stop(self) -> None:
        if self.process is not None:
            stop_nginx(self.process)


def deploy_front(prefix: Path, root: Path, server_name: str) -> DeployFront:
    """Writes the configuration (not started: nginx needs the include deploy writes)."""
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    port = free_port()
    # As root, nginx's workers would run as nobody, who cannot enter the private work dir.
    user = "user root;" if os.geteuid() == 0 else ""
    conf = prefix / "nginx.conf"
    conf.write_text(
        TEMPLATE.format(user=user, prefix=prefix, root=root, port=port, server_name=server_name)
    )
    return DeployFront(prefix, conf, port)

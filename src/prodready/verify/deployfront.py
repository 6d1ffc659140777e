"""nginx in front of a deploy root: plain HTTP on a loopback port, its upstream the include
`prodready deploy` writes (ROOT/nginx/upstream.conf: the stable socket each switch points at
the new generation). For the deploy item, the deploy tests and benchmarks/deploy_under_load.py.
Given a host, the requests reach the app as the generated site sends them (that name as Host,
https as the forwarded scheme); TLS and the site's rate limit are left out, so a load test
measures the switch, not the limit."""

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
AS_SITE = """
            proxy_set_header Host {host};
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto https;"""
TEMPLATE = """{user}
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections {connections}; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp; proxy_temp_path {prefix}/tmp;
    fastcgi_temp_path {prefix}/tmp; uwsgi_temp_path {prefix}/tmp; scgi_temp_path {prefix}/tmp;
    upstream app {{
        include {root}/nginx/upstream.conf;
        keepalive {keepalive};
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";{as_site}
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

    def upstream_errors(self) -> list[str]:
        """nginx's error lines about the server: each a request it met a closed or reset
        connection for (and retried, for an idempotent one) or could not reach it with."""
        try:
            lines = (self.prefix / "error.log").read_text(errors="replace").splitlines()
        except OSError:
            return []
        return [line for line in lines if "[error]" in line and "upstream" in line]

    def stop(self) -> None:
        if self.process is not None:
            stop_nginx(self.process)


def deploy_front(prefix: Path, root: Path, server_name: str) -> DeployFront:
    """Writes the configuration (not started: nginx needs the include deploy writes)."""
    port = free_port()
    conf = prefix / "nginx.conf"
    write_deploy_front_conf(conf, root, port, host=server_name)
    return DeployFront(prefix, conf, port)


def server_front(prefix: Path, upstream_port: int, server_name: str) -> DeployFront:
    """The same front for one server on a loopback port (its include names that server)."""
    root = prefix / "upstream"
    (root / "nginx").mkdir(parents=True, exist_ok=True)
    (root / "nginx" / "upstream.conf").write_text(f"server 127.0.0.1:{upstream_port};\n")
    return deploy_front(prefix, root, server_name)


def write_deploy_front_conf(
    conf: Path,
    root: Path,
    port: int,
    *,
    host: str | None = None,
    connections: int = 512,
    keepalive: int = 16,
) -> None:
    """Writes nginx.conf, its pid, log and temp files beside it. `host`: the Host header the
    app gets (a name its ALLOWED_HOSTS accept), with forwarded headers as the site sends them;
    None passes nginx's defaults."""
    prefix = conf.parent
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    # As root, nginx's workers would run as nobody, who cannot enter a private tmp directory.
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(
        TEMPLATE.format(
            user=user, prefix=prefix, root=root, port=port, connections=connections,
            keepalive=keepalive, as_site=AS_SITE.format(host=host) if host else "",
        )
    )  # fmt: skip

"""nginx in front of a deploy root's stable socket (it includes the root's nginx/upstream.conf,
which `prodready deploy` rewrites at each switch), for the deploy tests and
benchmarks/deploy_under_load.py. A plain module: the benchmark imports it without pytest."""

from __future__ import annotations

import os
from pathlib import Path

TEMPLATE = """
{user}
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections {connections}; }}
http {{
    access_log off;
    client_body_temp_path {dir}; proxy_temp_path {dir}; fastcgi_temp_path {dir};
    uwsgi_temp_path {dir}; scgi_temp_path {dir};
    upstream app {{
        include {root}/nginx/upstream.conf;
        keepalive {keepalive};
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";{host}
        }}
    }}
}}
"""


def write_front_conf(
    conf: Path,
    root: Path,
    port: int,
    *,
    connections: int = 512,
    keepalive: int = 16,
    host: str | None = None,
) -> None:
    """Writes nginx.conf (temp files and pid beside it). `host` fixes the Host header sent to
    the app (Django's ALLOWED_HOSTS); by default the client's is passed on."""
    # As root, nginx's workers would run as nobody, who cannot enter a private tmp directory.
    user = "user root;" if os.geteuid() == 0 else ""
    host_line = f"\n            proxy_set_header Host {host};" if host else ""
    conf.write_text(
        TEMPLATE.format(
            user=user,
            dir=conf.parent,
            root=root,
            port=port,
            connections=connections,
            keepalive=keepalive,
            host=host_line,
        )
    )

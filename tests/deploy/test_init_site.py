"""`prodready init --deploy-root ROOT`: the nginx site's upstream is the include deploy writes,
and nginx accepts the two together."""

from __future__ import annotations

import subprocess
from pathlib import Path

from prodready.deploy.layout import Layout
from prodready.deploy.switch import include_text
from prodready.generate.context import Options
from prodready.generate.nginx import Listen
from prodready.generate.run import init_project, parse_only
from prodready.generate.validate import nginx_prefix
from tests.deploy.conftest import APP, require


def test_the_site_includes_deploys_upstream_and_nginx_accepts_it(tmp_path: Path):
    require("nginx")
    app = tmp_path / "app"
    app.mkdir()
    (app / "app.py").write_text((APP / "app.py").read_text())
    (app / "requirements.txt").write_text("flask\n")
    root = tmp_path / "srv"
    options = Options(deploy_root=str(root))
    result = init_project(app, options, parse_only("nginx"))
    site = next(o.rendered for o in result.outcomes if o.rendered.rel.endswith(".conf")).text
    assert f"include {root}/nginx/upstream.conf;" in site
    assert "server 127.0.0.1:" not in site

    layout = Layout(root)
    layout.create()
    layout.include.write_text(include_text(layout))
    # One stable socket, then the same socket as backups: the retries of a request whose
    # keep-alive connection a stopping worker closed (nginx tries each server once).
    servers = [ln for ln in layout.include.read_text().splitlines() if ln.startswith("server ")]
    assert servers[0] == f"server unix:{layout.stable_socket} max_fails=0;"
    assert servers[1:] == [f"server unix:{layout.stable_socket} max_fails=0 backup;"] * 7
    listen = Listen("unused", 18080, 18443, upstream_include=str(layout.include))
    conf = nginx_prefix(tmp_path / "nginx", result.context, listen)
    tested = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path / "nginx"), "-c", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert tested.returncode == 0, tested.stderr

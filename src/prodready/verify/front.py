"""nginx in front of the served app with the site `prodready init` generates (or would), a
throwaway certificate, on loopback ports: what clients meet in production."""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from prodready.errors import UserError
from prodready.generate import validate
from prodready.generate.context import Options, build_context
from prodready.generate.nginx import Listen
from prodready.generate.nginxtarget import nginx_target
from prodready.project.model import Project
from prodready.verify.http import Reply, request
from prodready.verify.server import free_port

SERVER_NAME = "app.example.com"


@dataclass
class Front:
    process: subprocess.Popen[bytes]
    prefix: Path
    http_port: int
    https_port: int
    server_name: str

    @property
    def certificate(self) -> Path:
        return self.prefix / "tls" / "fullchain.pem"

    @property
    def error_log(self) -> Path:
        return self.prefix / "logs" / "error.log"

    def https(self, path: str, **kw: object) -> Reply:
        return request(
            self.https_port,
            path,
            tls_ca=self.certificate,
            host=self.server_name,
            **kw,  # type: ignore[arg-type]
        )

    def http(self, path: str, **kw: object) -> Reply:
        return request(self.http_port, path, host=self.server_name, **kw)  # type: ignore[arg-type]

    def stop(self) -> None:
        stop_nginx(self.process)


def stop_nginx(process: subprocess.Popen[bytes]) -> None:
    """Graceful shutdown (SIGQUIT lets requests finish), killed past 15 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_front(
    project: Project, app: str, app_port: int, work: Path, server_name: str = SERVER_NAME
) -> Front | str:
    """The running front for `app` (MODULE:ATTR from the project root), or why there is none
    (no nginx or openssl on this machine, a site init cannot generate)."""
    nginx = validate.find_tool("nginx")
    if not nginx or not validate.find_tool("openssl"):
        return "nginx or openssl is not installed"
    try:
        ctx = build_context(
            project, Options(app=app, server_name=server_name), nginx_target(None, None)
        )
    except UserError as error:
        return f"the nginx site cannot be generated: {error.message}"
    http_port, https_port = free_port(), free_port()
    prefix = work / "nginx"
    listen = Listen(f"127.0.0.1:{app_port}", http_port, https_port, address="127.0.0.1:")
    conf = validate.nginx_prefix(prefix, ctx, listen)
    process = subprocess.Popen(
        [nginx, "-p", str(prefix), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    front = Front(process, prefix, http_port, https_port, ctx.server_name)
    try:
        answered = _wait_for(front)
    except BaseException:  # Ctrl-C while nginx starts
        front.stop()
        raise
    if answered is None:
        front.stop()
        return "nginx did not answer within 15 s"
    return front if answered else "nginx refused the generated site: " + _tail(front.error_log)


def _wait_for(front: Front, timeout: float = 15.0) -> bool | None:
    """True once nginx answers, False when it exits first, None when it is still silent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if front.process.poll() is not None:
            return False
        try:
            front.http("/", timeout=2.0)
            return True
        except OSError:
            time.sleep(0.1)
    return None


def _tail(path: Path) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").splitlines()[-3:])
    except OSError:
        return "(no error log)"

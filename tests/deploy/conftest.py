"""Fixtures for the deploy tests: a private copy of the test app, a deploy root, real nginx on
a free loopback port in front of ROOT/run/app.sock, and every generation stopped afterwards."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from prodready.verify.deployfront import write_deploy_front_conf
from tests.conftest import run_prodready
from tests.serve.support import free_port

APP = Path(__file__).parent / "apps" / "hello"


def require(tool: str) -> None:
    """A missing tool skips locally and fails in CI, where it must be there."""
    if shutil.which(tool) is None:
        message = f"{tool} is not installed (scripts/ensure-system-deps.sh installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


class Site:
    """An app directory to deploy, its root, and nginx in front of the root's stable socket."""

    def __init__(self, tmp_path: Path) -> None:
        self.app = tmp_path / "app"
        shutil.copytree(APP, self.app, ignore=shutil.ignore_patterns("__pycache__"))
        self.root = tmp_path / "root"
        self.nginx_dir = tmp_path / "nginx"
        self.nginx_dir.mkdir()
        self.conf = self.nginx_dir / "nginx.conf"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.nginx: subprocess.Popen[bytes] | None = None
        write_deploy_front_conf(self.conf, self.root, self.port)

    def nginx_args(self) -> list[str]:
        return ["--nginx-prefix", str(self.nginx_dir), "--nginx-conf", str(self.conf)]

    def deploy(self, version: str, *args: str, timeout: float = 180):
        (self.app / "VERSION").write_text(f"{version}\n")
        return run_prodready(
            "deploy", self.app, "--root", self.root, "--skip-check", "--timeout", "20",
            *self.nginx_args(), *args, timeout=timeout,
        )  # fmt: skip

    def deploy_process(self, version: str, *args: str) -> subprocess.Popen[str]:
        """A deploy running in the background (to interrupt it, or to race it)."""
        from tests.conftest import PRODREADY

        (self.app / "VERSION").write_text(f"{version}\n")
        argv = [
            str(PRODREADY), "deploy", str(self.app), "--root", str(self.root), "--skip-check",
            "--timeout", "20", *self.nginx_args(), *args,
        ]  # fmt: skip
        return subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ
        )

    def rollback(self, *args: str):
        return run_prodready("rollback", "--root", self.root, *self.nginx_args(), *args)

    def start_nginx(self) -> None:
        require("nginx")
        self.nginx = subprocess.Popen(
            ["nginx", "-p", str(self.nginx_dir), "-c", str(self.conf)], stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                pass
            assert self.nginx.poll() is None, (self.nginx_dir / "error.log").read_text()
            time.sleep(0.05)
        raise AssertionError("nginx did not start")

    def version(self) -> str:
        """The version that answers through nginx."""
        import json
        import urllib.request

        with urllib.request.urlopen(f"{self.base}/version", timeout=10) as response:
            return json.loads(response.read())["version"]

    def generations(self) -> list[str]:
        """Release ids whose generation runs (by their pid file and a live process)."""
        running = []
        for pidfile in sorted((self.root / "run").glob("*.pid")):
            pid = int(pidfile.read_text().split()[0])
            if Path(f"/proc/{pid}").exists() and b"Z" not in _state(pid):
                running.append(pidfile.stem)
        return running

    def stop(self) -> None:
        for pidfile in (self.root / "run").glob("*.pid"):
            pid = int(pidfile.read_text().split()[0])
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        if self.nginx is not None:
            self.nginx.terminate()
            self.nginx.wait(timeout=10)


def _state(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return b"Z"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    require("nginx")
    created = Site(tmp_path)
    yield created
    created.stop()


@pytest.fixture
def live(site: Site) -> Site:
    """v1 deployed and served through nginx."""
    first = site.deploy("v1")
    assert first.returncode == 0, first.stderr
    site.start_nginx()
    assert site.version() == "v1"
    return site

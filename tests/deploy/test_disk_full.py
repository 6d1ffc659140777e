"""A full disk during the build: the deploy stops with exit 1 and says so, the old release
keeps serving, the half-built release is removed. The root is a small tmpfs, really full."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from prodready.deploy.gate import get
from tests.conftest import run_prodready
from tests.deploy.conftest import Site

pytestmark = pytest.mark.slow


@pytest.fixture
def small_root(site: Site) -> Iterator[Site]:
    """The site's root on a 24 MB tmpfs (mounting needs root; CI must run it)."""
    if os.geteuid() != 0:
        message = "mounting a tmpfs to fill needs root"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    site.root.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(site.root)], check=True)
    yield site
    site.stop()
    subprocess.run(["umount", "-l", str(site.root)], check=False)


def test_a_full_disk_during_the_venv_build_stops_the_deploy(small_root: Site):
    site = small_root
    first = site.deploy("v1", "--proxy", "none")
    assert first.returncode == 0, first.stderr
    (site.app / "requirements.txt").write_text("Django>=4.2\n")  # ~40 MB installed: cannot fit
    full = site.deploy("v2", "--proxy", "none")
    assert full.returncode == 1
    assert full.stderr.startswith("error: disk full while building the release's venv")
    assert "Traceback" not in full.stderr
    assert get(str(site.root / "run" / "app.sock"), "/version") == 200
    releases = sorted(p.name for p in (site.root / "releases").iterdir())
    assert len(releases) == 1  # the half-built one is gone, its space free again
    status = run_prodready("deploy", "--status", "--root", site.root)
    assert "running, GET /ready: 200" in status.stdout

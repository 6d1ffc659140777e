"""SOURCE as a git ref: the release is `git archive` of that commit, named by its short sha."""

from __future__ import annotations

import json
import subprocess

import pytest

from prodready.deploy.gate import get
from tests.conftest import run_prodready
from tests.deploy.conftest import Site, require

pytestmark = pytest.mark.slow


def git(site: Site, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(site.app), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_a_git_ref_deploys_that_commit_not_the_work_tree(site: Site):
    require("git")
    (site.app / "VERSION").write_text("committed\n")
    git(site, "init", "-q")
    git(site, "add", ".")
    git(site, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "v")
    sha = git(site, "rev-parse", "HEAD")
    (site.app / "VERSION").write_text("uncommitted\n")
    result = run_prodready(
        "deploy", "HEAD", "--repo", site.app, "--root", site.root, "--proxy", "none",
        "--skip-check", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["release"] == sha[:12]  # stdout is the JSON, clean
    assert (site.root / "current").resolve().name == sha[:12]
    assert get(str(site.root / "run" / "app.sock"), "/version") == 200
    assert (site.root / "current" / "VERSION").read_text() == "committed\n"

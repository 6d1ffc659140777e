"""Bad input to deploy and rollback: one line and a hint, exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_prodready
from tests.deploy.conftest import APP


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--server", "waitress"], "error: bad --server 'waitress'"),
        (["--proxy", "traefik"], "error: bad --proxy 'traefik'"),
        (["--health-path", "ready"], "error: bad path 'ready'"),
        (["--supervisor", "systemd"], "error: --supervisor systemd needs systemd as PID 1"),
    ],
)
def test_bad_options_exit_2_in_one_line(tmp_path: Path, args: list[str], message: str):
    result = run_prodready("deploy", APP, "--root", tmp_path / "root", "--skip-check", *args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "root" / "releases").exists() or not any(
        (tmp_path / "root" / "releases").iterdir()
    )


def test_a_source_that_is_neither_a_directory_nor_a_ref_exits_2(tmp_path: Path):
    result = run_prodready("deploy", "no-such-ref", "--root", tmp_path, "--repo", tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: no-such-ref is neither a directory nor a git ref")


def test_rollback_with_nothing_deployed_exits_2(tmp_path: Path):
    result = run_prodready("rollback", "--root", tmp_path / "root")
    assert result.returncode == 2
    assert result.stderr.startswith("error: nothing is deployed under")


def test_status_of_an_empty_root_says_so(tmp_path: Path):
    result = run_prodready("deploy", "--status", "--root", tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith(f"{tmp_path}: current none")

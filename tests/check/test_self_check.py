"""prodready's own repository passes its own check (examples and fixtures excluded by the
repository's [tool.prodready] config, as a user's project would exclude its own)."""

from __future__ import annotations

from tests.conftest import REPO, run_prodready


def test_repository_is_clean_under_its_own_check() -> None:
    result = run_prodready("check", REPO, "--fail-on", "info")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert result.stdout.startswith("No findings")

"""Shared assertions of the fault suite: what a command may do with hostile input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import run_prodready


def assert_refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Bad input: one `error:` line (and a hint), exit code 2, never a traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], errors[0]


def check_json(root: Path, *extra: str, timeout: float = 120, **kwargs: bool) -> dict:
    """`check --format json` on a hostile tree: findings (exit 0 or 1), never a traceback."""
    result = run_prodready("check", root, "--format", "json", *extra, timeout=timeout, **kwargs)
    assert result.returncode in (0, 1), (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    return json.loads(result.stdout)


def problems(data: dict) -> dict[str, str]:
    """PR001 messages by file."""
    return {f["path"]: f["message"] for f in data["findings"] if f["rule"] == "PR001"}

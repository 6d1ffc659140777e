"""Waiting for a client tool: the exit is seen as it happens, with or without a pidfd."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from prodready.backup.tools import ExitWatch

WAITS_FOR_STDIN_THEN_EXITS_3 = "import sys; sys.stdin.read(); sys.exit(3)"


@pytest.mark.parametrize("pidfd", [True, False], ids=["pidfd", "polling"])
def test_a_running_tool_is_reported_running_then_by_its_exit_code(
    pidfd: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not pidfd:  # a kernel before 5.3 (or a seccomp filter) refuses pidfd_open

        def refused(pid: int) -> int:
            raise OSError(38, "Function not implemented")

        monkeypatch.setattr(os, "pidfd_open", refused)
    proc = subprocess.Popen(
        [sys.executable, "-c", WAITS_FOR_STDIN_THEN_EXITS_3], stdin=subprocess.PIPE
    )
    assert proc.stdin is not None
    with ExitWatch(proc) as watch:
        if pidfd and watch.pidfd is None:
            proc.kill()
            proc.wait()
            pytest.skip("this kernel (or its seccomp filter) gives no pidfd")
        assert (watch.pidfd is not None) is pidfd
        assert watch.wait(0.05) is None
        assert proc.returncode is None
        proc.stdin.close()
        assert watch.wait(30) == 3
    assert proc.returncode == 3

"""A SIGTERM that reaches `prodready deploy` just as it starts a generation: the generation is
recorded in its pidfile before the interrupt unwinds the deploy, so the clean-up can stop it
(a generation started in its own session and left unrecorded would serve on, unmanaged)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SCRIPT = """
import os, signal, subprocess, sys
from pathlib import Path
from prodready.deploy.layout import Layout
from prodready.deploy.run import Interrupted, _interruptible
from prodready.deploy.supervisors import ProcessSupervisor, ServeOptions

layout = Layout(Path(sys.argv[1]))
layout.create()
layout.release("r1").mkdir(parents=True)
supervisor = ProcessSupervisor(layout, ServeOptions())
supervisor.argv = lambda release_id: ["sleep", "30"]
real_popen = subprocess.Popen

def popen_then_sigterm(*args, **kwargs):
    process = real_popen(*args, **kwargs)
    print(process.pid, flush=True)
    os.kill(os.getpid(), signal.SIGTERM)  # handled before start() records it
    return process

subprocess.Popen = popen_then_sigterm
try:
    with _interruptible():
        supervisor.start("r1")
except Interrupted:
    print("interrupted", supervisor.pid("r1"), flush=True)
"""


def test_a_sigterm_as_a_generation_starts_leaves_it_recorded(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "app")],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    started, *rest = done.stdout.split("\n", 1)
    generation = int(started)
    try:
        assert done.returncode == 0, done.stderr
        assert rest and rest[0].split() == ["interrupted", started], done.stdout
    finally:
        os.kill(generation, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while Path(f"/proc/{generation}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)

"""What importing the app does, seen from outside: the app's MODULE:ATTR imported in a fresh
Python process (the app's environment and directory, as a server worker imports it), timed,
and under `strace -f -e trace=connect` to list the network connections it opens.

A fresh process per import is what a worker's boot is: nothing is shared but what the first
import left behind on disk or in a database. So a second import that takes longer than the
first shows a side effect that grows with every boot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

IMPORT_TIMEOUT_S = 60.0
MARK = "PRODREADY_IMPORT_S="
IMPORT_SCRIPT = (
    "import importlib, sys, time\n"
    "started = time.perf_counter()\n"
    "getattr(importlib.import_module(sys.argv[1]), sys.argv[2])\n"
    f"print('{MARK}%f' % (time.perf_counter() - started), flush=True)\n"
)
CONNECT = re.compile(r"connect\(\d+, \{sa_family=(AF_INET6?), (?P<addr>[^}]*)\}(?P<rest>.*)")
PORT = re.compile(r"sin6?_port=htons\((\d+)\)")
HOST = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"')


@dataclass
class ImportRun:
    seconds: float | None
    """How long the import took in the child; None when it failed or timed out."""
    output: str
    connects: list[str] = field(default_factory=list)
    """host:port (and the call's result) of each AF_INET/AF_INET6 connect() (strace only)."""


def timed_import(app_dir: Path, target: str, env: dict[str, str]) -> ImportRun:
    return _run([], app_dir, target, env)


def strace_missing() -> str | None:
    """Why connect() calls cannot be traced here, or None when strace can."""
    if shutil.which("strace") is None:
        return "strace is not installed"
    try:
        done = subprocess.run(
            ["strace", "-qq", "-e", "trace=none", "true"],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"strace does not run: {error}"
    if done.returncode != 0:
        return f"strace does not run here: {done.stderr.strip()[:120]}"
    return None


def traced_import(app_dir: Path, target: str, env: dict[str, str], trace: Path) -> ImportRun:
    """The import under strace; `connects` lists the network connect() calls of every thread
    and child process."""
    run = _run(["strace", "-f", "-qq", "-e", "trace=connect", "-o", str(trace)],
               app_dir, target, env)  # fmt: skip
    text = trace.read_text(errors="replace") if trace.exists() else ""
    run.connects = [found for line in text.splitlines() if (found := _connect(line))]
    return run


def _run(prefix: list[str], app_dir: Path, target: str, env: dict[str, str]) -> ImportRun:
    module, _, attr = target.partition(":")
    argv = [*prefix, sys.executable, "-c", IMPORT_SCRIPT, module, attr or "app"]
    try:
        done = subprocess.run(
            argv, cwd=app_dir, env={**os.environ, **env}, capture_output=True, text=True,
            timeout=IMPORT_TIMEOUT_S, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as timeout:
        return ImportRun(None, f"the import ran over {IMPORT_TIMEOUT_S:.0f} s: {timeout}")
    lines = done.stdout.splitlines()
    marks = [float(line.removeprefix(MARK)) for line in lines if line.startswith(MARK)]
    output = [line for line in lines if not line.startswith(MARK)] + done.stderr.splitlines()
    return ImportRun(marks[-1] if marks else None, "\n".join(output).strip())


def _connect(line: str) -> str | None:
    found = CONNECT.search(line)
    if found is None:
        return None
    port = PORT.search(found["addr"])
    host = HOST.search(found["addr"])
    where = f"{(host[1] or host[2]) if host else '?'}:{port[1] if port else '?'}"
    result = found["rest"].partition("=")[2].split(" (")[0].strip()  # "-1 EINPROGRESS"
    return f"{where} ({found[1]}{', ' + result if result else ''})"

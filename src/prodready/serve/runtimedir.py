"""Where a running server keeps its control socket, pid file, ready markers and metrics files.

One private directory per server ("state dir") under a runtime directory only this user can
write: $XDG_RUNTIME_DIR (systemd's /run/user/UID), else /tmp/prodready-UID created 0700.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path

from prodready.errors import InputError

STATE_ENV = "PRODREADY_SERVE_STATE"
"""Set in the server's environment: its state dir (read back by `prodready reload`)."""
TARGET_ENV = "PRODREADY_SERVE_TARGET"
"""Set in the server's environment: the app it serves (probed again before a reload)."""
MASTER_FILE = "master"
"""In the state dir: the server's pid and start time (see `record_master`)."""


def runtime_dir() -> Path:
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isdir(xdg) and os.access(xdg, os.W_OK):
        return Path(xdg)
    private = Path(f"/tmp/prodready-{os.getuid()}")
    try:
        private.mkdir(mode=0o700, exist_ok=True)
        info = private.lstat()
    except OSError as error:
        raise InputError(f"cannot create {private}: {error.strerror}") from error
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise InputError(
            f"{private} is not a private directory of this user",
            "set XDG_RUNTIME_DIR to a directory only you can write",
        )
    return private


def state_dir_for(name: str | int) -> Path:
    """runtime_dir()/prodready-NAME, NAME made file-name safe (an app target or a pid)."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(name)).strip("-")
    return runtime_dir() / f"prodready-{slug}"


def ready_dir(state_dir: Path) -> Path:
    """Holds one empty file per worker pid that has loaded the app and serves."""
    return state_dir / "ready"


def boot_failed_dir(state_dir: Path) -> Path:
    """Holds one empty file per worker pid that died before loading the app while others
    served (see gunicorn_hooks.child_exit)."""
    return state_dir / "boot-failed"


def abandoned_dir(state_dir: Path) -> Path:
    """Holds one empty file per worker pid `prodready reload` stops for good: when it exits,
    the master lowers its worker count instead of starting a replacement."""
    return state_dir / "abandoned"


def metrics_dir(state_dir: Path) -> Path:
    return state_dir / "metrics"


def record_master(state_dir: Path, pid: int) -> None:
    """Notes which process is this state dir's server: its pid and its start time, so a pid
    file left behind (and its pid reused by another process) is never taken for the server."""
    (state_dir / MASTER_FILE).write_text(f"{pid} {process_start_ticks(pid)}\n")


def is_recorded_master(state_dir: Path, pid: int) -> bool:
    """True when `pid` is the process `record_master` noted in `state_dir`, not a reuse of
    its pid by a later process."""
    try:
        recorded = (state_dir / MASTER_FILE).read_text().split()
    except OSError:
        return False
    start = process_start_ticks(pid)
    return start is not None and recorded == [str(pid), str(start)]


def process_start_ticks(pid: int) -> int | None:
    """When `pid` started, in clock ticks since boot (/proc/PID/stat field 22); None if gone."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the command name, which is in parentheses and may contain anything.
    return int(stat_line.rpartition(")")[2].split()[19])


def sweep_stale_state_dirs() -> None:
    """Removes the per-server state dirs (prodready-PID) of servers no longer running: Granian
    has no exit hook to remove its own, and a master killed with SIGKILL runs none."""
    for path in runtime_dir().glob("prodready-*"):
        suffix = path.name.removeprefix("prodready-")
        if suffix.isdigit() and not process_exists(int(suffix)):
            shutil.rmtree(path, ignore_errors=True)


def process_exists(pid: int) -> bool:
    """True while `pid` exists (also when it belongs to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def environ_of(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {key.decode(errors="replace"): value.decode(errors="replace") for key, value in pairs}

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


def metrics_dir(state_dir: Path) -> Path:
    return state_dir / "metrics"


def sweep_stale_state_dirs() -> None:
    """Removes the per-server state dirs (prodready-PID) of servers no longer running: Granian
    has no exit hook to remove its own, and a master killed with SIGKILL runs none."""
    for path in runtime_dir().glob("prodready-*"):
        suffix = path.name.removeprefix("prodready-")
        if suffix.isdigit() and not _running(int(suffix)):
            shutil.rmtree(path, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

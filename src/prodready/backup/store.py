"""The local destination: one directory per backup id, a lock so that only one backup or restore
runs at a time, and each backup's state (incomplete, unverified, verified, failed)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prodready.backup.files import write_json_atomic
from prodready.backup.manifest import MANIFEST, Manifest, read_manifest
from prodready.errors import InputError, UserError

VERIFICATION = "verification.json"
LOCK = ".lock"
PARTIAL = ".partial"
ID = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")


class BusyError(UserError):
    """Another backup or restore holds the destination's lock."""


def default_dest(root: Path) -> Path:
    """`$XDG_DATA_HOME/prodready/backups/<app folder>`: per app, outside the app's folder (a
    backup beside the code goes with it when the folder is deleted or redeployed)."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "prodready" / "backups" / (root.resolve().name or "app")


@dataclass(frozen=True)
class Entry:
    id: str
    path: Path
    state: str  # unverified | verified | failed | incomplete
    manifest: Manifest | None
    verification: dict[str, Any] | None

    @property
    def good(self) -> bool:
        return self.state == "verified"


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root

    def ensure(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputError(
                f"cannot create the backup folder {self.root}: {error.strerror}",
                "pass --dest with a folder you may write to",
            ) from None

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """An exclusive flock on `<dest>/.lock`: the kernel drops it when the process dies, so a
        killed backup never leaves a stale lock behind."""
        self.ensure()
        fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                raise BusyError(
                    f"another backup or restore is running on {self.root} (pid {holder})",
                    "wait for it to finish; only one runs at a time per destination",
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(fd)

    def new_id(self, now: datetime | None = None) -> str:
        base = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        candidate, n = base, 1
        while (self.root / candidate).exists() or (self.root / (candidate + PARTIAL)).exists():
            candidate, n = f"{base}-{n}", n + 1
        return candidate

    def sweep_leftovers(self) -> list[str]:
        """Removes what a killed (SIGKILL) backup, prune or verification left: `.partial`
        directories, `.deleting-*` ones and decrypted `.plain-*` copies. Safe only under the
        lock: whoever made them is gone. Returns what was removed."""
        removed = []
        leftovers = [*self.root.glob(f"*{PARTIAL}"), *self.root.glob(".deleting-*")]
        leftovers += self.root.glob("*/.plain-*")
        for path in leftovers:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        return removed

    def partial_dir(self, backup_id: str) -> Path:
        return self.root / (backup_id + PARTIAL)

    def entries(self) -> list[Entry]:
        """Every backup directory, oldest first (ids sort by time)."""
        if not self.root.is_dir():
            return []
        found = []
        for path in sorted(self.root.iterdir()):
            if path.is_dir() and ID.match(path.name):
                found.append(self.entry(path.name))
        return found

    def entry(self, backup_id: str) -> Entry:
        path = self.root / backup_id
        if not ID.match(backup_id) or not path.is_dir():
            raise InputError(
                f"no backup {backup_id!r} in {self.root}",
                "run `prodready restore --list` to see the backup ids",
            )
        if not (path / MANIFEST).exists():
            return Entry(backup_id, path, "incomplete", None, None)
        try:
            manifest = read_manifest(path)
        except InputError:
            return Entry(backup_id, path, "incomplete", None, None)
        verification = self.verification(backup_id)
        if verification is None:
            state = "unverified"
        else:
            state = "verified" if verification.get("ok") else "failed"
        return Entry(backup_id, path, state, manifest, verification)

    def verification(self, backup_id: str) -> dict[str, Any] | None:
        try:
            data = json.loads((self.root / backup_id / VERIFICATION).read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def record_verification(self, backup_id: str, result: dict[str, Any]) -> None:
        write_json_atomic(self.root / backup_id / VERIFICATION, result)

    def latest(self, verified_only: bool = False) -> Entry:
        candidates = [
            e
            for e in self.entries()
            if e.manifest and (e.good if verified_only else e.state != "incomplete")
        ]
        if not candidates:
            what = "verified backup" if verified_only else "complete backup"
            raise InputError(f"no {what} in {self.root}", "run `prodready backup` first")
        return candidates[-1]

    def previous_verified(self, before: str) -> Entry | None:
        good = [e for e in self.entries() if e.good and e.id < before]
        return good[-1] if good else None

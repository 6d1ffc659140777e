"""Where everything of a deployed app lives under ROOT, and which release is which."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

MARKER = ".prodready-release.json"
"""Written last into a release directory: a release without it is an unfinished build."""
STABLE_SOCKET = "app.sock"


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def releases(self) -> Path:
        return self.root / "releases"

    @property
    def shared(self) -> Path:
        return self.root / "shared"

    @property
    def current(self) -> Path:
        return self.root / "current"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def log(self) -> Path:
        return self.root / "deploy.log"

    @property
    def lock(self) -> Path:
        return self.root / "deploy.lock"

    @property
    def include(self) -> Path:
        """The nginx upstream include: names the stable socket, so it rarely changes."""
        return self.root / "nginx" / "upstream.conf"

    @property
    def stable_socket(self) -> Path:
        """A symlink to the serving generation's socket: the only upstream nginx knows."""
        return self.run / STABLE_SOCKET

    def release(self, release_id: str) -> Path:
        return self.releases / release_id

    def socket(self, release_id: str) -> Path:
        return self.run / f"{release_id}.sock"

    def pidfile(self, release_id: str) -> Path:
        return self.run / f"{release_id}.pid"

    def serve_log(self, release_id: str) -> Path:
        return self.run / f"{release_id}.log"

    def create(self) -> None:
        for directory in (self.releases, self.shared, self.run, self.include.parent):
            directory.mkdir(parents=True, exist_ok=True)

    def complete_releases(self) -> list[str]:
        """Finished releases, oldest first (by the time their build finished)."""
        found = []
        for marker in self.releases.glob(f"*/{MARKER}"):
            try:
                created = float(json.loads(marker.read_text())["created"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
            found.append((created, marker.parent.name))
        return [name for _, name in sorted(found)]

    def unfinished_releases(self) -> list[str]:
        if not self.releases.is_dir():
            return []
        return sorted(
            p.name for p in self.releases.iterdir() if p.is_dir() and not (p / MARKER).exists()
        )

    def release_info(self, release_id: str) -> dict[str, object]:
        try:
            return dict(json.loads((self.release(release_id) / MARKER).read_text()))
        except (OSError, ValueError):
            return {}

    def mark_complete(self, release_id: str, info: dict[str, object]) -> None:
        (self.release(release_id) / MARKER).write_text(json.dumps({**info, "created": time.time()}))

    def mark_served(self, release_id: str) -> None:
        """Records that traffic reached the release: only such releases are rollback targets."""
        info = self.release_info(release_id)
        info["served"] = time.time()
        (self.release(release_id) / MARKER).write_text(json.dumps(info))

    def current_id(self) -> str | None:
        return _link_name(self.current)

    def serving_id(self) -> str | None:
        """The release whose generation the stable socket leads to (`current` may lag it by
        one step if a deploy was killed between the two swaps)."""
        name = _link_name(self.stable_socket)
        return name.removesuffix(".sock") if name else None

    def previous_id(self, before: str | None = None) -> str | None:
        """The newest release that has served, built before `before` (default: current)."""
        releases = [r for r in self.complete_releases() if "served" in self.release_info(r)]
        anchor = before or self.current_id()
        if anchor not in releases:
            return releases[-1] if releases else None
        index = releases.index(anchor)
        return releases[index - 1] if index > 0 else None


def _link_name(link: Path) -> str | None:
    try:
        return Path(os.readlink(link)).name
    except OSError:
        return None


def swap_symlink(link: Path, target: str) -> None:
    """Points `link` at `target` atomically: a new symlink renamed over the old one, so every
    reader sees either the old target or the new one, never no file."""
    temporary = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    os.symlink(target, temporary)
    os.replace(temporary, link)

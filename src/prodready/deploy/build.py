"""Step 1: the release directory. Code from a directory (copied) or a git ref (`git archive`),
the shared files linked in."""

from __future__ import annotations

import errno
import io
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prodready.deploy.failure import DeployFailed
from prodready.deploy.layout import Layout
from prodready.errors import InputError

IGNORED = (".git", ".venv", "venv", "__pycache__", "*.pyc", "node_modules", ".pytest_cache")


@dataclass(frozen=True)
class Source:
    """What to deploy: a directory, or a commit of the git repository at `repo`."""

    directory: Path | None
    repo: Path | None = None
    commit: str | None = None

    def release_id(self, layout: Layout) -> str:
        """The short commit for a git ref, else a UTC timestamp; made unique under releases/."""
        base = self.commit[:12] if self.commit else datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        candidate, n = base, 1
        while layout.release(candidate).exists():
            n += 1
            candidate = f"{base}-{n}"
        return candidate


def resolve_source(text: str, repo: Path) -> Source:
    """SOURCE as given: an existing directory, else a git ref in `repo`."""
    path = Path(text)
    if path.is_dir():
        return Source(directory=path.resolve())
    if shutil.which("git") is None:
        raise InputError(f"{text} is not a directory, and git is not installed to read it as a ref")
    found = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{text}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        raise InputError(
            f"{text} is neither a directory nor a git ref in {repo}",
            "give the app's directory, or a branch, tag or commit (--repo names the repository)",
        )
    return Source(directory=None, repo=repo.resolve(), commit=found.stdout.strip())


def write_code(source: Source, destination: Path) -> None:
    """Puts the code into `destination` (which must not exist). A full disk becomes a
    DeployFailed that says so; the half-written directory is the caller's to remove."""
    try:
        if source.directory is not None:
            shutil.copytree(
                source.directory,
                destination,
                ignore=shutil.ignore_patterns(*IGNORED),
                symlinks=True,
            )
            return
        archive = subprocess.run(
            ["git", "-C", str(source.repo), "archive", "--format=tar", str(source.commit)],
            capture_output=True,
            check=False,
        )
        if archive.returncode != 0:
            raise DeployFailed(
                f"git archive {source.commit} failed: {archive.stderr.decode()[-300:]}"
            )
        destination.mkdir(parents=True)
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(destination, filter="data")
    except OSError as error:
        raise disk_error(error, f"copying the code into {destination}") from error


def disk_error(error: OSError, doing: str) -> DeployFailed:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return DeployFailed(
            f"disk full while {doing}", "free space on that file system; nothing was switched"
        )
    return DeployFailed(f"{doing} failed: {error.strerror or error}")


def link_shared(layout: Layout, release: Path) -> list[str]:
    """Links every entry of ROOT/shared/ into the release (replacing the release's own copy of
    it, e.g. an uploads/ folder in the repository). Returns the linked names."""
    linked = []
    for entry in sorted(layout.shared.iterdir()):
        target = release / entry.name
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
        target.symlink_to(entry)
        linked.append(entry.name)
    return linked

"""Folders and files (uploads, `.env.production`) as tar parts: written streaming, counted,
checked by reading every member back; restored into a new folder beside the old one, then
renamed into place with the previous one kept."""

from __future__ import annotations

import os
import re
import tarfile
from pathlib import Path

from prodready.backup.files import fsync_dir, fsync_file, sha256_of
from prodready.backup.manifest import Part
from prodready.errors import InputError


def part_name(path: Path, taken: set[str]) -> str:
    """`files-<name>.tar`, unique within the backup."""
    base = "files-" + (re.sub(r"[^A-Za-z0-9._-]", "_", path.name) or "root")
    name, n = f"{base}.tar", 1
    while name in taken:
        name, n = f"{base}-{n}.tar", n + 1
    return name


def dump_path(source: Path, work: Path, name: str) -> Part:
    if not source.exists():
        raise InputError(f"{source} does not exist", "check --files (or files in the config)")
    tmp = work / f".{name}.tmp"
    entries = 0
    with tarfile.open(tmp, "w") as tar:
        for path in [source, *sorted(source.rglob("*"))] if source.is_dir() else [source]:
            tar.add(
                path, arcname=str(Path(source.name) / path.relative_to(source)), recursive=False
            )
            entries += 1
    fsync_file(tmp)
    final = work / name
    os.rename(tmp, final)
    fsync_dir(work)
    return Part(name, "files", final.stat().st_size, sha256_of(final), str(source), entries)


def tar_problem(path: Path, entries: int | None) -> str | None:
    """Every member read back to the end; None when the archive is whole."""
    try:
        with tarfile.open(path, "r") as tar:
            count = 0
            for member in tar:
                if member.isfile():
                    extracted = tar.extractfile(member)
                    while extracted is not None and extracted.read(1 << 20):
                        pass
                count += 1
    except (tarfile.TarError, OSError, EOFError) as error:
        return f"{path.name} cannot be read back: {error}"
    if entries is not None and count != entries:
        return f"{path.name} holds {count} entries, the manifest says {entries}"
    return None


def extract_beside(path: Path, target: Path, stamp: str) -> Path:
    """Extracts the part next to `target` as `<target>.restore-<stamp>` (the data filter
    refuses absolute paths, `..` and links out of the folder)."""
    staging = target.with_name(f"{target.name}.restore-{stamp}")
    unpack = target.with_name(f".{target.name}.unpack-{stamp}")
    unpack.mkdir()
    with tarfile.open(path, "r") as tar:
        tar.extractall(unpack, filter="data")
    os.rename(unpack / target.name, staging)
    unpack.rmdir()
    return staging

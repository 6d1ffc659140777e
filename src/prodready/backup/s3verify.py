"""Checking an object at the destination against the backup part it should hold.

First its size, then the SHA-256 checksum the server computed from the bytes it stored: for the
multipart objects prodready writes, the checksum of the parts' SHA-256s, compared with the same
computed from the local part (whose sha256 is the manifest's, checked before sending). A server
that keeps no SHA-256 (or an object written by something else) gets its object downloaded and
hashed against the manifest's sha256 instead."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from prodready.backup.manifest import Part
from prodready.backup.s3 import Bucket
from prodready.backup.s3download import head, stream_object
from prodready.backup.s3upload import PART_SIZE_META, b64, composite_sha256


@dataclass(frozen=True)
class Check:
    problem: str | None  # None: the object holds the part's bytes
    how: str  # sha256 (the server's checksum), download, or what was found wrong first


def check_object(
    bucket: Bucket,
    key: str,
    part: Part,
    local: Path | None,
    on_bytes: Callable[[int], None],
    expected: tuple[str, int] | None = None,
) -> Check:
    """Whether the object at `key` holds `part`. `local`: the part's file, to compute the
    multipart checksum from (None: download and hash). `expected`: that checksum and its
    number of parts when the caller has it already (it just sent the file)."""
    found = head(bucket, key)
    name = f"{bucket.url}/{key.rsplit('/', 2)[-2]}/{part.name}"
    if found is None:
        return Check(f"{name} is missing", "missing")
    if found.get("ContentLength") != part.size:
        return Check(
            f"{name} is {found.get('ContentLength')} bytes, the manifest says {part.size}", "size"
        )
    remote = str(found.get("ChecksumSHA256") or "")
    value, _, parts = remote.partition("-")
    if value and value == b64(bytes.fromhex(part.sha256)):
        return Check(None, "sha256")  # a checksum of the whole object
    part_size = str(found.get("Metadata", {}).get(PART_SIZE_META, ""))
    if value and local is not None and part_size.isdigit() and int(part_size) > 0:
        checksum, count = expected or composite_sha256(local, int(part_size))
        if value == checksum and (not parts.isdigit() or int(parts) == count):
            return Check(None, "sha256")
        return Check(f"{name} does not match its sha256 in the manifest", "sha256")
    sha256, size = stream_object(bucket, key, None, on_bytes)
    if size != part.size:
        return Check(f"{name} is {size} bytes, the manifest says {part.size}", "download")
    if sha256 != part.sha256:
        return Check(f"{name} does not match its sha256 in the manifest", "download")
    return Check(None, "download")

"""Sending one file to S3 as a multipart upload that survives being killed: the next run finds
the upload left open for that key (`list_multipart_uploads`), asks which parts landed
(`list_parts`), checks each against the local bytes and sends only the others.

boto3's TransferManager cannot do this (it aborts or forgets an interrupted upload), so the loop
is written here with the client's calls. Every file goes up as a multipart upload, even one of a
single part: the server then keeps a SHA-256 per part and a checksum of those checksums, which it
computes from the bytes it stored (AWS, and moto too, which only echoes the checksum of a plain
PUT), and that is what the upload is checked against afterwards."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prodready.backup.s3 import Bucket
from prodready.errors import InputError, UserError

MIB = 1 << 20
MIN_PART = 5 * MIB
"""S3's smallest part (all but the last)."""
DEFAULT_PART = 16 * MIB
MAX_PARTS = 10_000
PART_SIZE_ENV = "PRODREADY_S3_PART_SIZE"
SHA256_META = "prodready-sha256"
PART_SIZE_META = "prodready-part-size"
MD5_ETAG = re.compile(r'^"?([0-9a-f]{32})"?$')


class ChangedWhileSending(UserError):
    """The local file changed during the upload: what was sent is not the backup."""


@dataclass(frozen=True)
class Sent:
    key: str
    size: int
    sent: int  # bytes sent in this run
    reused: int  # parts an interrupted run had sent, checked and kept
    parts: int
    checksum: str  # base64 SHA-256 of the parts' SHA-256s: what the server should report


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def part_size_for(size: int) -> int:
    """16 MiB (or $PRODREADY_S3_PART_SIZE bytes), grown in whole MiB so that no file needs more
    than S3's 10,000 parts."""
    wanted = DEFAULT_PART
    configured = os.environ.get(PART_SIZE_ENV)
    if configured:
        try:
            wanted = int(configured)
        except ValueError:
            wanted = 0
        if wanted < MIN_PART:
            raise InputError(
                f"${PART_SIZE_ENV} must be a number of bytes of at least {MIN_PART} (5 MiB)",
                f"e.g. {PART_SIZE_ENV}={64 * MIB} for 64 MiB parts, or unset it",
            )
    needed = -(-size // MAX_PARTS)
    return max(wanted, -(-needed // MIB) * MIB)


def composite_sha256(path: Path, part_size: int) -> tuple[str, int]:
    """The checksum S3 reports for a multipart object of `path` cut into `part_size` parts, and
    the number of parts."""
    digests = [hashlib.sha256(chunk).digest() for chunk in _chunks(path, part_size)]
    return b64(hashlib.sha256(b"".join(digests)).digest()), len(digests)


def send_file(
    bucket: Bucket,
    key: str,
    path: Path,
    sha256: str,
    on_sent: Callable[[int], None],
) -> Sent:
    """Uploads `path` to `key`, resuming an upload an earlier run left open. `sha256` is the
    manifest's: the bytes read while sending must hash to it, else nothing is completed."""
    size = path.stat().st_size
    part_size = part_size_for(size)
    count = max(1, -(-size // part_size))
    client = bucket.client
    with bucket.errors(f"resuming the upload of {key}"):
        upload_id, landed, stale = _open_upload(bucket, key, size, part_size, count)
    if upload_id is None:
        with bucket.errors(f"starting the upload of {key}"):
            upload_id = client.create_multipart_upload(
                Bucket=bucket.name,
                Key=key,
                ChecksumAlgorithm="SHA256",
                Metadata={SHA256_META: sha256, PART_SIZE_META: str(part_size)},
            )["UploadId"]
    whole = hashlib.sha256()
    done: list[dict[str, Any]] = []
    digests: list[bytes] = []
    sent = reused = 0
    for number, chunk in enumerate(_chunks(path, part_size), start=1):
        whole.update(chunk)
        digest = hashlib.sha256(chunk).digest()
        digests.append(digest)
        etag = _matching(landed.get(number), chunk, digest)
        if etag is not None:
            reused += 1
            on_sent(len(chunk))
        else:
            with bucket.errors(f"sending part {number} of {count} of {key}"):
                etag = client.upload_part(
                    Bucket=bucket.name,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=chunk,
                    ChecksumSHA256=b64(digest),
                )["ETag"]
            sent += len(chunk)
            on_sent(len(chunk))
        done.append({"PartNumber": number, "ETag": etag, "ChecksumSHA256": b64(digest)})
    if whole.hexdigest() != sha256:
        with bucket.errors(f"abandoning the upload of {key}"):
            client.abort_multipart_upload(Bucket=bucket.name, Key=key, UploadId=upload_id)
        raise ChangedWhileSending(
            f"{path} changed while it was being sent: it no longer matches its manifest",
            f"verify the backup (`prodready backup verify {path.parent.name}`); nothing was "
            "completed at the destination",
        )
    with bucket.errors(f"completing the upload of {key}"):
        client.complete_multipart_upload(
            Bucket=bucket.name, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done}
        )
        for other in stale:  # older uploads of the same key, left by runs killed earlier
            client.abort_multipart_upload(Bucket=bucket.name, Key=key, UploadId=other)
    checksum = b64(hashlib.sha256(b"".join(digests)).digest())
    return Sent(key, size, sent, reused, count, checksum)


def _open_upload(
    bucket: Bucket, key: str, size: int, part_size: int, count: int
) -> tuple[str | None, dict[int, dict[str, Any]], list[str]]:
    """The newest upload left open for `key` whose parts fit this file cut into `part_size`
    parts, with the parts it holds (by number); and the other open uploads of the key, which
    are aborted once the upload is complete."""
    client = bucket.client
    uploads = []
    for page in client.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket.name, Prefix=key
    ):
        uploads += [u for u in page.get("Uploads", []) if u["Key"] == key]
    uploads.sort(key=lambda u: u["Initiated"], reverse=True)
    chosen: str | None = None
    landed: dict[int, dict[str, Any]] = {}
    stale: list[str] = []
    for upload in uploads:
        if chosen is None and upload.get("ChecksumAlgorithm", "SHA256") == "SHA256":
            parts = {}
            for page in client.get_paginator("list_parts").paginate(
                Bucket=bucket.name, Key=key, UploadId=upload["UploadId"]
            ):
                parts.update({p["PartNumber"]: p for p in page.get("Parts", [])})
            expected = {n: part_size if n < count else size - part_size * (count - 1)
                        for n in range(1, count + 1)}  # fmt: skip
            # Cut like this file: a part cut short by a kill is merely sent again. An upload
            # without parts may have been started with another part size: a new one is safer.
            if any(expected.get(n) == p["Size"] for n, p in parts.items()):
                chosen, landed = upload["UploadId"], parts
                continue
        stale.append(upload["UploadId"])
    return chosen, landed, stale


def _matching(landed: dict[str, Any] | None, chunk: bytes, digest: bytes) -> str | None:
    """The ETag of a part already on the server when it holds these bytes: by its SHA-256 where
    the server lists one, else by its ETag where that is the MD5 of the part (AWS without
    SSE-KMS, MinIO, moto). A part that cannot be told apart is sent again."""
    if landed is None or landed["Size"] != len(chunk):
        return None
    if landed.get("ChecksumSHA256"):
        return landed["ETag"] if landed["ChecksumSHA256"] == b64(digest) else None
    md5 = MD5_ETAG.match(str(landed.get("ETag", "")))
    if md5 and md5.group(1) == hashlib.md5(chunk, usedforsecurity=False).hexdigest():
        return str(landed["ETag"])
    return None


def _chunks(path: Path, part_size: int) -> Iterator[bytes]:
    """The file in `part_size` pieces; one empty piece for an empty file."""
    with open(path, "rb") as source:
        chunk = source.read(part_size)
        yield chunk
        while chunk := source.read(part_size):
            yield chunk

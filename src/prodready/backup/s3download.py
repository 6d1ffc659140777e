"""Reading objects back from S3: HEAD, small objects whole, large ones streamed in 1 MiB chunks
and hashed on the way (memory stays flat whatever the size)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, BinaryIO

from prodready.backup.s3 import Bucket

CHUNK = 1 << 20
MISSING = {"404", "NoSuchKey", "NotFound"}


def head(bucket: Bucket, key: str) -> dict[str, Any] | None:
    """The object's metadata with its stored checksum (ChecksumMode), None when it is not
    there."""
    from botocore.exceptions import ClientError

    with bucket.errors(f"reading {key}"):
        try:
            return dict(
                bucket.client.head_object(Bucket=bucket.name, Key=key, ChecksumMode="ENABLED")
            )
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in MISSING:
                return None
            raise


def get_small(bucket: Bucket, key: str) -> bytes | None:
    """A small object (a manifest, a verification record) whole; None when it is not there."""
    from botocore.exceptions import ClientError

    with bucket.errors(f"reading {key}"):
        try:
            return bytes(bucket.client.get_object(Bucket=bucket.name, Key=key)["Body"].read())
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in MISSING:
                return None
            raise


def stream_object(
    bucket: Bucket, key: str, out: BinaryIO | None, on_bytes: Callable[[int], None]
) -> tuple[str, int]:
    """Reads the object to the end (into `out` when given); its sha256 (hex) and size."""
    digest = hashlib.sha256()
    size = 0
    with bucket.errors(f"downloading {key}"):
        body = bucket.client.get_object(Bucket=bucket.name, Key=key)["Body"]
        for chunk in body.iter_chunks(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if out is not None:
                out.write(chunk)
            on_bytes(len(chunk))
    return digest.hexdigest(), size

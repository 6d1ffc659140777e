"""Backups at an S3-compatible destination, `s3://bucket/prefix/<id>/<part>`: sending a local
backup there, fetching one back into the local store, listing them.

The local store stays the staging area and the lock holder: a backup is taken and verified
there, then sent; a restore from S3 first fetches the backup there and checks it. Sending puts
each part up as a resumable multipart upload, checks every object against the manifest, then
puts the verification record and the manifest LAST: a backup at the destination without its
manifest is incomplete and is never listed as good. Each local backup's `uploads.json` records,
per destination, whether its upload started, failed or completed, so that an interrupted one is
resumed by the next `prodready backup --upload`. Nothing at the destination is deleted except
the manifest of a backup found damaged there while it is sent again (the manifest goes back up
last, once the backup is whole); pruning is local only."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prodready.backup.files import fsync_dir, fsync_file, sha256_of, write_json_atomic
from prodready.backup.manifest import MANIFEST, Manifest, parse_manifest
from prodready.backup.progress import Progress
from prodready.backup.s3 import Bucket
from prodready.backup.s3download import get_small, stream_object
from prodready.backup.s3upload import b64, send_file
from prodready.backup.s3verify import check_object
from prodready.backup.store import ID, VERIFICATION, Entry, Store
from prodready.errors import InputError, UserError

UPLOADS = "uploads.json"
REFRESH_S = 0.2
HOW = {
    "sha256": "by the SHA-256 checksums the server computed",
    "download": "downloaded and hashed, the server keeping no SHA-256",
}


class RemoteInvalid(UserError):
    """A backup at the destination is incomplete or does not match its manifest."""


class LocalInvalid(UserError):
    """The local backup no longer matches its manifest: it is not sent."""


@dataclass(frozen=True)
class Pushed:
    id: str
    url: str
    ok: bool
    reason: str
    size: int
    sent: int  # bytes sent by this run
    reused_parts: int  # multipart parts an interrupted run had sent, checked and kept
    already_there: int  # parts found whole at the destination, not sent again
    checked_by: str  # sha256 (the server's checksums), download, or both
    duration_s: float

    def summary(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RemoteEntry:
    """A backup at the destination as `restore --list --from` shows it."""

    id: str
    state: str  # verified | unverified | failed (as verified before sending) | incomplete
    manifest: Manifest | None
    verification: dict[str, Any] | None


def push(store: Store, entry: Entry, bucket: Bucket, progress: Progress) -> Pushed:
    """Sends `entry` (or what an interrupted run left unsent of it) and checks what landed. A
    mismatch is returned as a failed Pushed, with the manifest not sent. The caller holds the
    store's lock, so the backup cannot be pruned while it is read."""
    started = time.monotonic()
    url = str(bucket.url)
    manifest = entry.manifest
    if manifest is None or entry.state not in ("verified", "unverified"):
        raise InputError(
            f"backup {entry.id} is {entry.state}: only complete backups that did not fail their "
            "verification are sent",
            "send a verified one (`prodready restore --list` shows their states)",
        )
    manifest_bytes = (entry.path / MANIFEST).read_bytes()
    there = get_small(bucket, bucket.url.key(entry.id, MANIFEST))
    if there is not None and there != manifest_bytes:
        raise InputError(
            f"{url}/{entry.id} holds another backup with the same id",
            "give each app its own prefix (s3://bucket/<app>); nothing was sent",
        )
    progress.step(f"checking {entry.id} and what {url} holds of it")
    _check_local(entry, manifest)
    record_upload(store, entry.id, url, "started")
    hows: set[str] = set()
    needed = []
    for part in manifest.parts:
        key = bucket.url.key(entry.id, part.name)
        check = check_object(
            bucket, key, part, entry.path / part.name, _counter(progress, "checked")
        )
        if check.problem is None:
            hows.add(check.how)
        else:
            needed.append(part)
    if needed and there is not None:
        # A part of a backup complete at the destination is missing or damaged: until it is
        # whole again, the backup there must read as incomplete, not as good.
        with bucket.errors(f"marking {url}/{entry.id} incomplete"):
            bucket.client.delete_object(Bucket=bucket.name, Key=bucket.url.key(entry.id, MANIFEST))
    total = sum(part.size for part in needed)
    progress.step(f"uploading {entry.id} to {url}: {len(needed)} of {len(manifest.parts)} parts")
    on_sent = _counter(progress, "sent", total)
    sent = reused = 0
    for part in needed:
        key = bucket.url.key(entry.id, part.name)
        result = send_file(bucket, key, entry.path / part.name, part.sha256, on_sent)
        sent, reused = sent + result.sent, reused + result.reused
        check = check_object(
            bucket,
            key,
            part,
            entry.path / part.name,
            _counter(progress, "read back"),
            (result.checksum, result.parts),
        )
        hows.add(check.how)
        if check.problem is not None:
            reason = f"{check.problem} after the upload"
            record_upload(store, entry.id, url, "failed", reason)
            return Pushed(
                entry.id, url, False, reason, manifest.size, sent, reused,
                len(manifest.parts) - len(needed), "+".join(sorted(hows)),
                round(time.monotonic() - started, 3),
            )  # fmt: skip
    progress.done()
    for name in (VERIFICATION, MANIFEST):  # the manifest last
        if (entry.path / name).is_file():
            data, key = (entry.path / name).read_bytes(), bucket.url.key(entry.id, name)
            if get_small(bucket, key) != data:
                _put_small(bucket, key, data)
    record_upload(store, entry.id, url, "complete")
    how = " and ".join(HOW[h] for h in sorted(hows)) or HOW["sha256"]
    return Pushed(
        entry.id, url, True, f"every part matches the manifest's sha256 ({how})",
        manifest.size, sent, reused, len(manifest.parts) - len(needed), "+".join(sorted(hows)),
        round(time.monotonic() - started, 3),
    )  # fmt: skip


def pull(
    store: Store, bucket: Bucket, backup_id: str, progress: Progress, encrypted_ok: bool
) -> Entry:
    """Fetches backup `backup_id` into the local store as `<dest>/<id>`: into `<id>.partial`
    first, every part checked against the manifest's size and sha256, renamed only when all
    match (a damaged copy is removed and nothing else is touched). `encrypted_ok`: a key was
    given (an encrypted backup without one is refused before anything is downloaded). The
    caller holds the store's lock."""
    url = str(bucket.url)
    if not ID.match(backup_id):
        raise InputError(
            f"{backup_id!r} is not a backup id", f"`prodready restore --list --from {url}`"
        )
    local = store.root / backup_id
    if local.exists():
        raise InputError(
            f"backup {backup_id} is in {store.root} already",
            f"restore it without --from, or move {local} away to fetch it again from {url}",
        )
    manifest, raw = _remote_manifest(bucket, backup_id)
    if manifest.key_id is not None and not encrypted_ok:
        raise InputError(
            f"backup {backup_id} is encrypted",
            "pass --key-file or set $PRODREADY_BACKUP_KEY to the key it was made with",
        )
    work = store.partial_dir(backup_id)
    shutil.rmtree(work, ignore_errors=True)  # left by a fetch killed earlier: we hold the lock
    store.ensure()
    work.mkdir()
    try:
        progress.step(f"downloading {backup_id} from {url}")
        on_bytes = _counter(progress, "downloaded", manifest.size)
        for part in manifest.parts:
            if Path(part.name).name != part.name or part.name in (".", "..", MANIFEST):
                raise RemoteInvalid(
                    f"backup {backup_id} at {url}: its manifest names a part {part.name!r}",
                    "this manifest was not written by prodready; use another backup",
                )
            with open(work / part.name, "wb") as out:
                key = bucket.url.key(backup_id, part.name)
                sha256, size = stream_object(bucket, key, out, on_bytes)
                out.flush()
                os.fsync(out.fileno())
            if size != part.size or sha256 != part.sha256:
                what = f"is {size} bytes, the manifest says {part.size}"
                raise RemoteInvalid(
                    f"backup {backup_id} at {url}: {part.name} "
                    + (what if size != part.size else "does not match its sha256 in the manifest"),
                    "the copy at the destination is damaged; nothing was restored: use another "
                    f"backup (`prodready restore --list --from {url}`)",
                )
        progress.done()
        verification = get_small(bucket, bucket.url.key(backup_id, VERIFICATION))
        if verification is not None and _json_object(verification) is not None:
            (work / VERIFICATION).write_bytes(verification)
            fsync_file(work / VERIFICATION)
        write_json_atomic(work / UPLOADS, {url: _state("complete")})
        (work / MANIFEST).write_bytes(raw)
        fsync_file(work / MANIFEST)
        os.rename(work, local)
        fsync_dir(store.root)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return store.entry(backup_id)


def list_remote(bucket: Bucket) -> list[RemoteEntry]:
    """The backups at the destination, oldest first: complete ones (with a manifest) in the
    state they were verified in before sending, the others incomplete."""
    ids = []
    with bucket.errors(f"listing {bucket.url}"):
        pages = bucket.client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket.name, Prefix=bucket.url.key(""), Delimiter="/"
        )
        for page in pages:
            for common in page.get("CommonPrefixes", []):
                name = common["Prefix"].rstrip("/").rsplit("/", 1)[-1]
                if ID.match(name):
                    ids.append(name)
    found = []
    for backup_id in sorted(ids):
        raw = get_small(bucket, bucket.url.key(backup_id, MANIFEST))
        manifest = None
        if raw is not None:
            try:
                manifest = parse_manifest(raw)
            except (ValueError, TypeError, KeyError, AttributeError):
                manifest = None
        record = None
        if manifest is not None:
            record = _json_object(get_small(bucket, bucket.url.key(backup_id, VERIFICATION)))
        if manifest is None:
            state = "incomplete"
        elif record is None:
            state = "unverified"
        else:
            state = "verified" if record.get("ok") else "failed"
        found.append(RemoteEntry(backup_id, state, manifest, record))
    return found


def record_upload(
    store: Store, backup_id: str, url: str, state: str, reason: str | None = None
) -> None:
    """Notes in the backup's `uploads.json` how its upload to `url` went."""
    records = uploads_of(store.root / backup_id)
    records[url] = _state(state, reason)
    write_json_atomic(store.root / backup_id / UPLOADS, records)


def uploads_of(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / UPLOADS).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def pending(store: Store, url: str, besides: str | None = None) -> list[Entry]:
    """The local backups whose upload to `url` was started (or failed) and never completed,
    oldest first: the next `backup --upload` resumes them."""
    waiting = []
    for entry in store.entries():
        record = uploads_of(entry.path).get(url)
        if (
            entry.id != besides
            and isinstance(record, dict)
            and record.get("state") != "complete"
            and entry.state in ("verified", "unverified")
        ):
            waiting.append(entry)
    return waiting


def _state(state: str, reason: str | None = None) -> dict[str, Any]:
    record = {"state": state, "at": datetime.now(UTC).isoformat(timespec="seconds")}
    if reason:
        record["reason"] = reason
    return record


def _check_local(entry: Entry, manifest: Manifest) -> None:
    for part in manifest.parts:
        path = entry.path / part.name
        if not path.is_file() or path.stat().st_size != part.size or sha256_of(path) != part.sha256:
            raise LocalInvalid(
                f"backup {entry.id}: {part.name} is missing or no longer matches its manifest: "
                "it is not sent",
                f"check it with `prodready backup verify {entry.id}`; send another backup",
            )


def _remote_manifest(bucket: Bucket, backup_id: str) -> tuple[Manifest, bytes]:
    url = str(bucket.url)
    raw = get_small(bucket, bucket.url.key(backup_id, MANIFEST))
    if raw is None:
        with bucket.errors(f"listing {url}/{backup_id}"):
            listing = bucket.client.list_objects_v2(
                Bucket=bucket.name, Prefix=bucket.url.key(backup_id, ""), MaxKeys=1
            )
        if listing.get("KeyCount", 0):
            raise RemoteInvalid(
                f"backup {backup_id} at {url} is incomplete (no manifest)",
                f"its upload was interrupted: `prodready backup upload {backup_id} --to {url}` "
                "resumes it from the local copy; or use another backup",
            )
        raise InputError(
            f"no backup {backup_id} at {url}",
            f"`prodready restore --list --from {url}` shows the backups there",
        )
    try:
        manifest = parse_manifest(raw)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise RemoteInvalid(
            f"backup {backup_id} at {url}: unreadable manifest ({type(error).__name__})",
            "this backup cannot be trusted; use another one",
        ) from None
    if manifest.id != backup_id:
        raise RemoteInvalid(
            f"backup {backup_id} at {url}: its manifest is of backup {manifest.id}",
            "this backup cannot be trusted; use another one",
        )
    return manifest, raw


def _put_small(bucket: Bucket, key: str, data: bytes) -> None:
    """A small object in one PUT, read back and compared byte for byte."""
    with bucket.errors(f"sending {key}"):
        bucket.client.put_object(
            Bucket=bucket.name,
            Key=key,
            Body=data,
            ChecksumSHA256=b64(hashlib.sha256(data).digest()),
        )
    if get_small(bucket, key) != data:
        raise RemoteInvalid(
            f"{bucket.url}: {key} reads back different from what was sent",
            "run it again; if it persists, the destination is not storing what it is sent",
        )


def _json_object(data: bytes | None) -> dict[str, Any] | None:
    try:
        value = json.loads(data) if data is not None else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _counter(progress: Progress, label: str, total: int | None = None) -> Callable[[int], None]:
    """A callback that adds up bytes and shows them (at most every 0.2 s, and at the end)."""
    done = 0
    shown = 0.0

    def add(count: int) -> None:
        nonlocal done, shown
        done += count
        now = time.monotonic()
        if now - shown >= REFRESH_S or (total is not None and done >= total):
            shown = now
            progress.bytes(label, done, total)

    return add

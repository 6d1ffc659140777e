"""Encryption at rest: AES-256-GCM over 1 MiB chunks, streamed (memory stays flat).

File layout: `PRBKENC1` + an 8-byte random nonce prefix + the key's 8-byte id, then chunks of
ciphertext + 16-byte tag. Chunk i uses nonce prefix + i and authenticates its index and whether
it is the last one, so reordered, dropped or truncated chunks fail like flipped bytes do.
The key id (also in the manifest) tells a wrong key from a corrupt file before decrypting."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from prodready.errors import InputError, UserError

MAGIC = b"PRBKENC1"
CHUNK = 1 << 20
TAG = 16
KEY_ENV = "PRODREADY_BACKUP_KEY"
GENERATE = 'python -c "import secrets; print(secrets.token_hex(32))"'


class WrongKey(UserError):
    """The key is not the one the backup was encrypted with."""


class CorruptPart(UserError):
    """The encrypted file fails authentication: changed, truncated or not ours."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"prodready-backup-key-id\0" + key).hexdigest()[:16]


def load_key(key_file: Path | None) -> bytes | None:
    """The 32-byte key from `--key-file` or `$PRODREADY_BACKUP_KEY` (64 hex digits or base64;
    a file may also hold the 32 raw bytes). None when neither is given."""
    if key_file is not None:
        try:
            raw = key_file.read_bytes()
        except OSError as error:
            raise InputError(
                f"cannot read the key file {key_file}: {error.strerror}", "check --key-file"
            ) from None
        if len(raw) == 32:
            return raw
        return _decode(raw.decode(errors="replace").strip(), f"key file {key_file}")
    text = os.environ.get(KEY_ENV)
    return _decode(text.strip(), f"${KEY_ENV}") if text else None


def _decode(text: str, where: str) -> bytes:
    for decode in (bytes.fromhex, base64.b64decode):
        try:
            key = decode(text)
        except (ValueError, binascii.Error):
            continue
        if len(key) == 32:
            return key
    raise InputError(
        f"the {where} does not hold a 256-bit key (64 hex digits or 32 bytes in base64)",
        f"draw one with: {GENERATE}",
    )


def _aead(key: bytes):  # type: ignore[no-untyped-def]
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ModuleNotFoundError:
        raise InputError(
            "encryption needs the cryptography package", "pip install 'prodready[cli,backup]'"
        ) from None
    return AESGCM(key)


def _aad(index: int, last: bool) -> bytes:
    return MAGIC + index.to_bytes(8, "big") + (b"\1" if last else b"\0")


def encrypt_file(source: Path, target: Path, key: bytes) -> None:
    aead = _aead(key)
    prefix = os.urandom(8)
    with open(source, "rb") as src, open(target, "wb") as out:
        out.write(MAGIC + prefix + bytes.fromhex(key_id(key)))
        index, chunk = 0, src.read(CHUNK)
        while True:
            following = src.read(CHUNK)
            last = not following
            nonce = prefix + index.to_bytes(4, "big")
            out.write(aead.encrypt(nonce, chunk, _aad(index, last)))
            if last:
                break
            index, chunk = index + 1, following
        out.flush()
        os.fsync(out.fileno())


def check_key(path: Path, key: bytes | None, name: str) -> None:
    """Refuses a missing or wrong key from the file's header, before any decryption."""
    with open(path, "rb") as src:
        header = src.read(len(MAGIC) + 16)
    if len(header) < len(MAGIC) + 16 or not header.startswith(MAGIC):
        raise CorruptPart(f"{name} is not an encrypted prodready part", "use another backup")
    if key is None:
        raise InputError(
            f"{name} is encrypted", f"pass --key-file or set ${KEY_ENV} to the backup's key"
        )
    if header[len(MAGIC) + 8 :].hex() != key_id(key):
        raise WrongKey(
            f"{name} was encrypted with another key (key id {header[len(MAGIC) + 8 :].hex()}, "
            f"given {key_id(key)})",
            "pass the key the backup was made with (--key-file or $" + KEY_ENV + ")",
        )


def decrypt_file(source: Path, target: Path, key: bytes) -> None:
    """Decrypts `source` into `target`; CorruptPart when any chunk fails authentication."""
    check_key(source, key, source.name)
    aead = _aead(key)
    from cryptography.exceptions import InvalidTag

    with open(source, "rb") as src, open(target, "wb") as out:
        prefix = src.read(len(MAGIC) + 16)[len(MAGIC) : len(MAGIC) + 8]
        index, chunk = 0, src.read(CHUNK + TAG)
        while True:
            following = src.read(CHUNK + TAG)
            last = not following
            nonce = prefix + index.to_bytes(4, "big")
            try:
                out.write(aead.decrypt(nonce, chunk, _aad(index, last)))
            except InvalidTag:
                raise CorruptPart(
                    f"{source.name} fails authentication at chunk {index}: it was changed or cut",
                    "the key is right but the file is damaged; use another backup",
                ) from None
            if last:
                break
            index, chunk = index + 1, following

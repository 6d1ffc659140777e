"""Encryption at rest (AES-256-GCM in 1 MiB chunks): backups that hold no clear text, restores
that need the key and tell a wrong key apart from a damaged file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from prodready.backup.crypto import (
    CHUNK,
    CorruptPart,
    WrongKey,
    decrypt_file,
    encrypt_file,
)

KEY = bytes(range(32))
OTHER = bytes(range(1, 33))


@pytest.mark.parametrize("size", [0, 1, CHUNK, 2 * CHUNK + 123])
def test_round_trip_at_chunk_edges(tmp_path, size):
    clear = tmp_path / "clear"
    clear.write_bytes(os.urandom(size))
    encrypt_file(clear, tmp_path / "sealed", KEY)
    decrypt_file(tmp_path / "sealed", tmp_path / "back", KEY)
    assert (tmp_path / "back").read_bytes() == clear.read_bytes()


def test_wrong_key_flipped_byte_and_cut_chunks_are_told_apart(tmp_path):
    clear = tmp_path / "clear"
    clear.write_bytes(os.urandom(2 * CHUNK + 500))
    sealed = tmp_path / "sealed"
    encrypt_file(clear, sealed, KEY)
    with pytest.raises(WrongKey):
        decrypt_file(sealed, tmp_path / "out", OTHER)
    data = sealed.read_bytes()
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 1
    cut_at_chunk = data[: 24 + CHUNK + 16]  # the header, then exactly one whole chunk
    for damaged in (bytes(flipped), cut_at_chunk, data[:-1]):
        sealed.write_bytes(damaged)
        with pytest.raises(CorruptPart):
            decrypt_file(sealed, tmp_path / "out", KEY)


def _env(key: bytes | None) -> dict[str, str]:
    return {"PRODREADY_BACKUP_KEY": key.hex() if key else ""}


def test_encrypted_postgres_backup_verify_and_restore(prodready, db):
    done = prodready("backup", "--json", *db.args(), env=_env(KEY))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["verified"] is True
    folder = Path(summary["path"])
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["db.dump.enc", "manifest.json", "verification.json"]
    assert not (folder / "db.dump.enc").read_bytes().startswith(b"PGDMP")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["key_id"] and manifest["parts"][0]["encrypted"] is True

    db.sql("DELETE FROM items WHERE id > 10")
    key_file = db.dest.parent / "backup.key"
    key_file.write_text(KEY.hex() + "\n")
    done = prodready(
        "restore", summary["id"], *db.args(), "--key-file", str(key_file), env=_env(None)
    )
    assert done.returncode == 0, done.stderr
    assert db.count() == 2000
    assert not list(folder.glob(".plain-*"))


def test_a_key_that_is_not_256_bits_is_one_line(prodready, db):
    done = prodready("backup", *db.args(), env={"PRODREADY_BACKUP_KEY": "abc"})
    assert done.returncode == 2 and "does not hold a 256-bit key" in done.stderr
    assert db.states() == {}

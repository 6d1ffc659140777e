"""The manifest: what a backup holds, written last, never changed afterwards."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from prodready.errors import InputError

MANIFEST = "manifest.json"
FORMAT = 1


@dataclass(frozen=True)
class Part:
    name: str  # file name inside the backup directory
    kind: str  # postgresql, mariadb, sqlite or files
    size: int
    sha256: str
    source: str | None = None
    """Where a files or SQLite part came from (and is restored to)."""
    entries: int | None = None
    """Members of a files part."""
    encrypted: bool = False


@dataclass(frozen=True)
class Manifest:
    id: str
    created_at: str  # ISO 8601, UTC
    source: str  # host:port/db, no password
    database: str
    server_version: str
    client_version: int | None
    app_release: str | None
    locale: dict[str, str]
    parts: list[Part]
    toc: list[str]
    """`pg_restore --list` entries (comment lines dropped: they carry the dump's date); for
    MariaDB, `KIND name` lines read from the dump (mariadb_dump.read_dump)."""
    row_counts: dict[str, int]
    duration_s: float
    engine: str = "postgresql"  # or mariadb, sqlite
    key_id: str | None = None
    """The encryption key's id (crypto.key_id), None when the parts are not encrypted."""
    format: int = FORMAT

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())

    @property
    def size(self) -> int:
        return sum(part.size for part in self.parts)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """The keys this version knows: a manifest written by a newer prodready still reads."""
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in data.items() if key in names}


def parse_manifest(text: str | bytes) -> Manifest:
    """A manifest from its JSON (a file's, or an object's at a remote destination); raises
    ValueError, TypeError, KeyError or AttributeError when it is malformed."""
    data = json.loads(text)
    parts = [Part(**_known(Part, part)) for part in data.pop("parts")]
    return Manifest(parts=parts, **_known(Manifest, data))


def read_manifest(directory: Path) -> Manifest:
    """The manifest of a backup directory; a missing or malformed one is an input error."""
    path = directory / MANIFEST
    try:
        return parse_manifest(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"backup {directory.name} has no manifest: it is incomplete",
            "run `prodready restore --list` to see the complete ones",
        ) from None
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise InputError(
            f"backup {directory.name}: unreadable manifest ({type(error).__name__})",
            "this backup cannot be trusted; use another one (`prodready restore --list`)",
        ) from None

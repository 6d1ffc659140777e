"""`[tool.prodready.backup]` in pyproject.toml, or in `.prodready.toml` (which wins), as
`prodready check` reads `[tool.prodready]`:

[tool.prodready.backup]
database = "postgresql://app@127.0.0.1/app"   # else DATABASE_URL, else .env.production
dest = "/var/backups/app"
keep-daily = 7
keep-weekly = 4
keep-monthly = 6
files = ["uploads", ".env.production"]          # folders and files, relative to the app
upload = "s3://my-backups/app"                  # also send each backup there (backup/s3.py)
alert = ["https://hooks.example.com/backup"]    # webhook or apprise URLs told of a failure
not-ready-file = "/run/app/not-ready"           # the app's PRODREADY_NOT_READY_FILE (restore)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prodready.errors import InputError

KEYS = {
    "database",
    "dest",
    "keep-daily",
    "keep-weekly",
    "keep-monthly",
    "files",
    "alert",
    "upload",
    "not-ready-file",
}


@dataclass(frozen=True)
class BackupConfig:
    database: str | None = None
    dest: str | None = None
    keep_daily: int | None = None
    keep_weekly: int | None = None
    keep_monthly: int | None = None
    files: tuple[str, ...] = ()
    upload: str | None = None
    alert: tuple[str, ...] = ()
    not_ready_file: str | None = None
    source: str | None = None


def load_backup_config(root: Path) -> BackupConfig:
    """The backup section of the project's config; an empty config when there is none."""
    for path in (root / ".prodready.toml", root / "pyproject.toml"):
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise InputError(f"cannot read {path.name}: {error}", "fix the TOML syntax") from None
        section = data.get("tool", {}).get("prodready", {}).get("backup")
        if section is None and path.name == ".prodready.toml":
            section = data.get("backup")
        if section is not None:
            return _validated(section, f"{path.name} [tool.prodready.backup]")
    return BackupConfig()


def _validated(section: Any, source: str) -> BackupConfig:
    if not isinstance(section, dict):
        raise InputError(f"{source} must be a table", "write [tool.prodready.backup] and keys")
    unknown = sorted(set(section) - KEYS)
    if unknown:
        raise InputError(f"{source}: unknown setting {unknown[0]!r}", f"known: {sorted(KEYS)}")
    for key in ("database", "dest", "upload", "not-ready-file"):
        if key in section and not isinstance(section[key], str):
            raise InputError(f"{source}: {key} must be a string", f'e.g. {key} = "..."')
    for key in ("keep-daily", "keep-weekly", "keep-monthly"):
        value = section.get(key)
        if value is not None and (not isinstance(value, int) or value < 0):
            raise InputError(f"{source}: {key} must be a whole number ≥ 0", f"e.g. {key} = 7")
    files = section.get("files", [])
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise InputError(f"{source}: files must be a list of paths", 'e.g. files = ["uploads"]')
    alert = section.get("alert", [])
    if not isinstance(alert, list) or not all(isinstance(url, str) for url in alert):
        raise InputError(f"{source}: alert must be a list of URLs", 'e.g. alert = ["ntfy://t"]')
    return BackupConfig(
        files=tuple(files),
        alert=tuple(alert),
        database=section.get("database"),
        dest=section.get("dest"),
        upload=section.get("upload"),
        not_ready_file=section.get("not-ready-file"),
        keep_daily=section.get("keep-daily"),
        keep_weekly=section.get("keep-weekly"),
        keep_monthly=section.get("keep-monthly"),
        source=source,
    )

"""Where the database to back up and the backups live: a flag, else `[tool.prodready.backup]`,
else `DATABASE_URL` in the environment, else the app's production env files (the Project)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from prodready.backup.config import BackupConfig, load_backup_config
from prodready.backup.mariadb import MARIADB_URL, MariaServer
from prodready.backup.pg import POSTGRES_URL, PgServer
from prodready.backup.sqlitedb import SQLITE_URL, sqlite_path
from prodready.backup.store import Store, default_dest
from prodready.errors import InputError


@dataclass(frozen=True)
class Setup:
    database: PgServer | MariaServer | Path  # a PostgreSQL or MariaDB server, or a SQLite file
    store: Store
    where: str  # what named the database, for messages
    config: BackupConfig
    files: list[Path]


def resolve(
    root: Path, database: str | None, dest: Path | None, files: list[Path] | None = None
) -> Setup:
    if not root.is_dir():
        raise InputError(f"{root} is not a folder", "pass --dir with the app's folder")
    config = load_backup_config(root)
    url, where = _database_url(root, database, config)
    paths = [Path(f) for f in files] if files else [root / f for f in config.files]
    paths = [p.absolute() for p in paths]
    store = store_of(root, dest, config)
    if POSTGRES_URL.match(url.strip()):
        return Setup(PgServer.from_url(url), store, where, config, paths)
    if MARIADB_URL.match(url.strip()):
        return Setup(MariaServer.from_url(url), store, where, config, paths)
    if SQLITE_URL.match(url.strip()):
        return Setup(sqlite_path(url, root), store, where, config, paths)
    raise InputError(
        f"the database ({where}) is not a PostgreSQL, MariaDB/MySQL or SQLite URL",
        "pass --database postgresql://..., mysql://... or sqlite:///...",
    )


def store_of(root: Path, dest: Path | None, config: BackupConfig | None = None) -> Store:
    """The backups' folder: --dest, else the config's dest, else the per-app default."""
    config = config or load_backup_config(root)
    folder = dest or (Path(config.dest) if config.dest else default_dest(root))
    return Store(folder.expanduser().absolute())


def _database_url(root: Path, flag: str | None, config: BackupConfig) -> tuple[str, str]:
    if flag:
        return flag, "--database"
    if config.database:
        return config.database, str(config.source)
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"], "DATABASE_URL in the environment"
    from prodready.project import detect  # the full scan costs ~0.6 s: only when needed
    from prodready.project.databases import database_urls

    found = database_urls(detect(root))
    if found:
        return found[0].url, found[0].where
    raise InputError(
        "no database to back up: no --database, no DATABASE_URL and none in the env files",
        "pass --database postgresql://USER@HOST/DB or set database in [tool.prodready.backup]",
    )

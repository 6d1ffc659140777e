"""`prodready backup` (take one, then prove it by a restore), `prodready backup verify`, and
`prodready restore` (restore into a new database and swap; `--undo`, `--list`)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from prodready.errors import EXIT_FINDINGS, UsageError

EXIT_INTERRUPTED = 130

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="PostgreSQL URL. [tool.prodready.backup] database, else $DATABASE_URL, "
        "else the app's .env.production",
    ),
]
DirOpt = Annotated[Path, typer.Option("--dir", help="The app's folder.", file_okay=False)]
DestOpt = Annotated[
    Path | None,
    typer.Option(
        "--dest", help="Folder of the backups. [~/.local/share/prodready/backups/<app folder>]"
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="A JSON summary on stdout.")]
KeyFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        help="256-bit key (64 hex digits) to encrypt or decrypt with. [$PRODREADY_BACKUP_KEY]",
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")]

KeepDaily = Annotated[
    int | None, typer.Option("--keep-daily", min=0, help="Days to keep one backup of. [7]")
]
KeepWeekly = Annotated[
    int | None, typer.Option("--keep-weekly", min=0, help="Weeks to keep one backup of. [4]")
]
KeepMonthly = Annotated[
    int | None, typer.Option("--keep-monthly", min=0, help="Months to keep one backup of. [6]")
]

backup_app = typer.Typer(
    help="Back up the app's PostgreSQL database; every backup is proven by a restore.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@backup_app.callback()
def backup(
    ctx: typer.Context,
    database: DatabaseOpt = None,
    directory: DirOpt = Path("."),
    dest: DestOpt = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify/--no-verify", help="Restore it into a scratch database and compare."
        ),
    ] = True,
    release: Annotated[
        str | None, typer.Option("--release", help="The app release, for the manifest.")
    ] = None,
    files: Annotated[
        list[Path] | None,
        typer.Option("--files", help="A folder or file to back up too (repeatable). [config]"),
    ] = None,
    keep_daily: KeepDaily = None,
    keep_weekly: KeepWeekly = None,
    keep_monthly: KeepMonthly = None,
    key_file: KeyFileOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Back up the app's PostgreSQL database; every backup is proven by a restore. With
    --keep-* (or keep-* in the config), old backups are pruned after a verified one."""
    if ctx.invoked_subcommand is not None:
        return
    from prodready.backup.crypto import load_key
    from prodready.backup.dump import DumpTools, take_backup
    from prodready.backup.pg import PgServer
    from prodready.backup.progress import Progress
    from prodready.backup.source import resolve
    from prodready.backup.verify import verify_backup

    setup = resolve(directory, database, dest, files)
    key = load_key(key_file)
    progress = Progress.auto(quiet or as_json)
    tools = DumpTools.find() if isinstance(setup.database, PgServer) else None
    with _interruptible("no backup was recorded"), setup.store.lock():
        manifest = take_backup(
            setup.database,
            setup.files,
            setup.store,
            tools,
            progress,
            app_release=release or os.environ.get("PRODREADY_RELEASE"),
            key=key,
        )
        verdict = None
        if verify:
            entry = setup.store.entry(manifest.id)
            verdict = verify_backup(setup.database, setup.store, entry, tools, progress, key)
        keeps = (keep_daily, keep_weekly, keep_monthly)
        config = setup.config
        configured = (config.keep_daily, config.keep_weekly, config.keep_monthly)
        pruning = any(k is not None for k in (*keeps, *configured))
        pruned: list[str] = []
        if pruning and verdict is not None and verdict.ok:
            from prodready.backup.retention import apply, plan, policy_of

            decisions = plan(setup.store.entries(), policy_of(config, *keeps))
            apply(setup.store, decisions)
            pruned = [d.entry.id for d in decisions if not d.keep]
    progress.done()
    summary: dict[str, Any] = {
        "id": manifest.id,
        "path": str(setup.store.root / manifest.id),
        "database": manifest.source,
        "size": manifest.size,
        "tables": len(manifest.row_counts),
        "rows": manifest.total_rows,
        "files": [p.source for p in manifest.parts if p.kind == "files"],
        "duration_s": manifest.duration_s,
        "verified": None if verdict is None else verdict.ok,
        "verification": None if verdict is None else verdict.reason,
        "pruned": pruned,
    }
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        typer.echo(
            f"backup {manifest.id}: {_size(manifest.size)}, {len(manifest.row_counts)} tables, "
            f"{manifest.total_rows:,} rows of {manifest.source}{_files_note(manifest)} in "
            f"{manifest.duration_s:.1f} s"
            f"\n  {summary['path']}"
        )
        if verdict is not None:
            word = "verified" if verdict.ok else "VERIFICATION FAILED"
            typer.echo(f"{word}: {verdict.reason} ({verdict.duration_s:.1f} s)")
        else:
            typer.echo("not verified (--no-verify): run `prodready backup verify --latest`")
        if pruned:
            typer.echo(f"pruned {len(pruned)} old backups: {', '.join(pruned)}")
    if verdict is not None and not verdict.ok:
        raise typer.Exit(EXIT_FINDINGS)


@backup_app.command("verify")
def verify_command(
    backup_id: Annotated[str | None, typer.Argument(help="The backup's id.")] = None,
    latest: Annotated[bool, typer.Option("--latest", help="The newest complete backup.")] = False,
    database: DatabaseOpt = None,
    directory: DirOpt = Path("."),
    dest: DestOpt = None,
    key_file: KeyFileOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Prove a backup: restore it into a scratch database, compare, drop it (a restore drill)."""
    from prodready.backup.crypto import load_key
    from prodready.backup.dump import DumpTools
    from prodready.backup.pg import PgServer
    from prodready.backup.progress import Progress
    from prodready.backup.source import resolve
    from prodready.backup.verify import verify_backup

    if (backup_id is None) == (not latest):
        raise UsageError("give a backup id or --latest (one of them)", "e.g. --latest")
    setup = resolve(directory, database, dest)
    progress = Progress.auto(quiet or as_json)
    tools = DumpTools.find() if isinstance(setup.database, PgServer) else None
    with _interruptible("the backup was not verified"), setup.store.lock():
        entry = setup.store.latest() if latest else setup.store.entry(str(backup_id))
        verdict = verify_backup(
            setup.database, setup.store, entry, tools, progress, load_key(key_file)
        )
    progress.done()
    if as_json:
        typer.echo(json.dumps({"id": entry.id, "ok": verdict.ok, "reason": verdict.reason}))
    else:
        word = "verified" if verdict.ok else "VERIFICATION FAILED"
        typer.echo(f"{entry.id} {word}: {verdict.reason} ({verdict.duration_s:.1f} s)")
    if not verdict.ok:
        raise typer.Exit(EXIT_FINDINGS)


@backup_app.command("prune")
def prune_command(
    keep_daily: KeepDaily = None,
    keep_weekly: KeepWeekly = None,
    keep_monthly: KeepMonthly = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would go.")] = False,
    directory: DirOpt = Path("."),
    dest: DestOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete old backups (GFS); never the newest verified one, never an unverified one."""
    from prodready.backup.config import load_backup_config
    from prodready.backup.retention import apply, plan, policy_of
    from prodready.backup.source import store_of

    config = load_backup_config(directory)
    policy = policy_of(config, keep_daily, keep_weekly, keep_monthly)
    store = store_of(directory, dest, config)
    with _interruptible("pruning stopped; what is left is whole"), store.lock():
        decisions = plan(store.entries(), policy)
        if not dry_run:
            apply(store, decisions)
    rows = [{"id": d.entry.id, "keep": d.keep, "why": d.why} for d in decisions]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    verb = "would delete" if dry_run else "deleted"
    for row in rows:
        typer.echo(f"{row['id']}  {'keep' if row['keep'] else verb:<12}  {row['why']}")
    gone = sum(not row["keep"] for row in rows)
    typer.echo(f"{verb} {gone} of {len(rows)} backups in {store.root}")


def restore(
    backup_id: Annotated[str | None, typer.Argument(help="The backup's id.")] = None,
    target: Annotated[
        str | None,
        typer.Option("--target", help="Database to replace. [the app's database]"),
    ] = None,
    undo: Annotated[bool, typer.Option("--undo", help="Swap the last restore back.")] = False,
    list_: Annotated[
        bool, typer.Option("--list", help="List the backups with their verification state.")
    ] = False,
    database: DatabaseOpt = None,
    directory: DirOpt = Path("."),
    dest: DestOpt = None,
    key_file: KeyFileOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Restore a backup into a new database and swap it in; the old one is kept (--undo)."""
    from prodready.backup.source import resolve

    modes = sum([backup_id is not None, undo, list_])
    if modes != 1:
        raise UsageError("give a backup id, --undo or --list (one of them)", "e.g. --list")
    if list_:  # needs no database: only the backups' folder
        from prodready.backup.source import store_of

        _list(store_of(directory, dest), as_json)
        return
    setup = resolve(directory, database, dest)
    from prodready.backup.crypto import load_key
    from prodready.backup.dump import DumpTools
    from prodready.backup.pg import PgServer
    from prodready.backup.progress import Progress
    from prodready.backup.restore import restore_backup, undo_last

    progress = Progress.auto(quiet or as_json)
    with _interruptible("the live database was not replaced"), setup.store.lock():
        if undo:
            swaps = undo_last(setup.database, setup.store)
        else:
            entry = setup.store.entry(str(backup_id))
            tools = DumpTools.find() if isinstance(setup.database, PgServer) else None
            key = load_key(key_file)
            swaps = restore_backup(setup.database, setup.store, entry, target, tools, progress, key)
    progress.done()
    if as_json:
        typer.echo(json.dumps([swap.__dict__ for swap in swaps]))
        return
    for swap in swaps:
        typer.echo(
            f"{swap.database} now holds {swap.restored_from}; "
            f"what it held before is kept as {swap.previous}"
        )
    typer.echo("`prodready restore --undo` swaps back")


def _list(store: Any, as_json: bool) -> None:
    entries = store.entries()
    rows = [
        {
            "id": e.id,
            "state": e.state,
            "size": e.manifest.size if e.manifest else None,
            "rows": e.manifest.total_rows if e.manifest else None,
            "database": e.manifest.source if e.manifest else None,
            "reason": (e.verification or {}).get("reason"),
        }
        for e in entries
    ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    if not rows:
        typer.echo(f"no backups in {store.root}")
        return
    for row in rows:
        size = _size(row["size"]) if row["size"] is not None else "-"
        count = f"{row['rows']:,} rows" if row["rows"] is not None else "-"
        line = f"{row['id']}  {row['state']:<10}  {size:>10}  {count:>14}  {row['database'] or ''}"
        if row["state"] == "failed":
            line += f"  ({row['reason']})"
        typer.echo(line.rstrip())


@contextlib.contextmanager
def _interruptible(what: str) -> Iterator[None]:
    """Ctrl-C and SIGTERM (systemd stop, kill, a timeout) unwind the work, so the scratch
    database and the partial backup are removed on the way out; then one line and exit 130."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    except KeyboardInterrupt:
        typer.echo(f"error: interrupted: {what}", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _files_note(manifest: Any) -> str:
    count = sum(part.kind == "files" for part in manifest.parts)
    return f" and {count} folder(s)/file(s)" if count else ""


def _size(size: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return str(size)


def register(app: typer.Typer) -> None:
    app.add_typer(backup_app, name="backup")
    app.command("restore")(restore)

"""`prodready backup` (take one, then prove it by a restore), `prodready backup verify`, and
`prodready restore` (restore into a new database and swap; `--undo`, `--list`); `--upload`,
`backup upload` and `restore --from` for S3-compatible storage."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from prodready.errors import EXIT_FINDINGS, EXIT_INTERRUPTED, UsageError, UserError

CLEANUP_LIMIT_S = 30.0
"""How long an interrupted backup or restore may take to clean up before it just exits."""

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="PostgreSQL, MariaDB/MySQL or SQLite URL. [tool.prodready.backup] database, "
        "else $DATABASE_URL, else the app's .env.production",
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
UploadOpt = Annotated[
    str | None,
    typer.Option(
        "--upload",
        help="Then send it to S3-compatible storage, s3://bucket/prefix (AWS_* environment). "
        "[config upload]",
    ),
]
AlertOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--alert",
        envvar="PRODREADY_BACKUP_ALERT",
        help="Webhook or apprise URL told when the backup fails (repeatable). [config alert]",
    ),
]

DEFAULT_NOT_READY_WAIT_S = 5.0
"""Long enough for a probe every few seconds to see 503 before the app's sessions are ended."""

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
    help="Back up the app's database; every backup is proven by a restore.",
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
    alert: AlertOpt = None,
    upload: UploadOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Back up the app's database; every backup is proven by a restore. With
    --keep-* (or keep-* in the config), old backups are pruned after a verified one. With
    --upload, it is then sent to S3 (with any earlier upload there left unfinished)."""
    if ctx.invoked_subcommand is not None:
        return
    urls = _alert_urls(alert, directory)
    with _alerting_on_failure(urls, directory) as failure:
        from prodready.backup.crypto import load_key
        from prodready.backup.dump import DumpTools, take_backup
        from prodready.backup.pg import PgServer
        from prodready.backup.progress import Progress
        from prodready.backup.source import resolve
        from prodready.backup.verify import verify_backup

        setup = resolve(directory, database, dest, files)
        key = load_key(key_file)
        bucket = _bucket(upload or setup.config.upload)  # checked before any work is done
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
            pushed = []
            if bucket is not None and (verdict is None or verdict.ok):
                pushed = _send(bucket, setup.store, manifest.id, progress)
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
            "upload": pushed[0].summary() if pushed else None,
            "resumed_uploads": [p.summary() for p in pushed[1:]],
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
            _echo_pushed(pushed)
            if bucket is not None and verdict is not None and not verdict.ok:
                typer.echo(f"not sent to {bucket.url}: it failed its verification")
        if verdict is not None and not verdict.ok:
            failure.append(f"backup {manifest.id} failed its verification: {verdict.reason}")
            raise typer.Exit(EXIT_FINDINGS)
        for failed in [p for p in pushed if not p.ok]:
            failure.append(f"the upload of {failed.id} to {failed.url} failed: {failed.reason}")
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


@backup_app.command("upload")
def upload_command(
    backup_id: Annotated[str | None, typer.Argument(help="The backup's id.")] = None,
    latest: Annotated[bool, typer.Option("--latest", help="The newest verified backup.")] = False,
    to: Annotated[
        str | None, typer.Option("--to", help="s3://bucket/prefix. [config upload]")
    ] = None,
    directory: DirOpt = Path("."),
    dest: DestOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Send a local backup to S3-compatible storage, or finish sending it: an interrupted upload
    resumes with the parts that landed; each object is checked against the manifest's sha256."""
    from prodready.backup.config import load_backup_config
    from prodready.backup.progress import Progress
    from prodready.backup.source import store_of

    if (backup_id is None) == (not latest):
        raise UsageError("give a backup id or --latest (one of them)", "e.g. --latest")
    config = load_backup_config(directory)
    bucket = _bucket(to or config.upload)
    if bucket is None:
        raise UsageError(
            "where to? give --to s3://bucket/prefix", "or set upload in [tool.prodready.backup]"
        )
    store = store_of(directory, dest, config)
    progress = Progress.auto(quiet or as_json)
    with _interruptible("nothing was sent"), store.lock():
        entry = store.latest(verified_only=True) if latest else store.entry(str(backup_id))
        pushed = _send(bucket, store, entry.id, progress, resume_others=False)
    progress.done()
    if as_json:
        typer.echo(json.dumps(pushed[0].summary()))
    else:
        _echo_pushed(pushed)
    if not pushed[0].ok:
        raise typer.Exit(EXIT_FINDINGS)


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
    from_: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="s3://bucket/prefix: list the backups there, or fetch one into --dest (its "
            "checksums checked) and restore it.",
        ),
    ] = None,
    key_file: KeyFileOpt = None,
    not_ready_file: Annotated[
        Path | None,
        typer.Option(
            "--not-ready-file",
            envvar="PRODREADY_NOT_READY_FILE",
            help="The file the app's PRODREADY_NOT_READY_FILE names: written while the data is "
            "swapped, so the app's readiness answers 503. [config not-ready-file]",
        ),
    ] = None,
    not_ready_wait: Annotated[
        float,
        typer.Option(
            "--not-ready-wait",
            min=0,
            help="Seconds between marking the app not-ready and ending its sessions, for load "
            "balancers to notice.",
        ),
    ] = DEFAULT_NOT_READY_WAIT_S,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Restore a backup into a new database and swap it in; the old one is kept (--undo)."""
    from prodready.backup.source import resolve

    modes = sum([backup_id is not None, undo, list_])
    if modes != 1:
        raise UsageError("give a backup id, --undo or --list (one of them)", "e.g. --list")
    if undo and from_:
        raise UsageError("--undo swaps back locally: it takes no --from", "drop --from")
    if list_ and from_:  # needs no database and no local folder
        from prodready.backup.remote import list_remote

        bucket = _bucket(from_)
        assert bucket is not None
        _list(list_remote(bucket), str(bucket.url), as_json)
        return
    if list_:  # needs no database: only the backups' folder
        from prodready.backup.source import store_of

        store = store_of(directory, dest)
        _list(store.entries(), str(store.root), as_json)
        return
    setup = resolve(directory, database, dest)
    from prodready.backup.crypto import load_key
    from prodready.backup.dump import DumpTools
    from prodready.backup.notready import NotReadyWindow
    from prodready.backup.pg import PgServer
    from prodready.backup.progress import Progress
    from prodready.backup.restore import restore_backup, undo_last

    progress = Progress.auto(quiet or as_json)
    bucket = _bucket(from_)
    configured = setup.config.not_ready_file  # relative to the app's folder
    flag = not_ready_file or (directory / configured if configured else None)
    with (
        _interruptible("the live database was not replaced"),
        setup.store.lock(),
        NotReadyWindow(flag, not_ready_wait, progress) as window,
    ):
        if undo:
            swaps = undo_last(setup.database, setup.store, window)
        else:
            key = load_key(key_file)
            if bucket is not None:  # fetched into the store, every part checked, then as usual
                from prodready.backup.remote import pull

                entry = pull(setup.store, bucket, str(backup_id), progress, key is not None)
            else:
                entry = setup.store.entry(str(backup_id))
            tools = DumpTools.find() if isinstance(setup.database, PgServer) else None
            swaps = restore_backup(
                setup.database, setup.store, entry, target, tools, progress, key, window
            )
    progress.done()
    if as_json:
        typer.echo(json.dumps([swap.__dict__ for swap in swaps]))
        return
    for swap in swaps:
        typer.echo(
            f"{swap.database} now holds {swap.restored_from}; "
            f"what it held before is kept as {swap.previous}"
        )
    if window.not_ready_s is not None:
        typer.echo(f"the app was marked not-ready for {window.not_ready_s:.1f} s ({flag})")
    typer.echo("`prodready restore --undo` swaps back")


def _list(entries: list[Any], where: str, as_json: bool) -> None:
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
        typer.echo(f"no backups in {where}")
        return
    for row in rows:
        size = _size(row["size"]) if row["size"] is not None else "-"
        count = f"{row['rows']:,} rows" if row["rows"] is not None else "-"
        line = f"{row['id']}  {row['state']:<10}  {size:>10}  {count:>14}  {row['database'] or ''}"
        if row["state"] == "failed":
            line += f"  ({row['reason']})"
        typer.echo(line.rstrip())


def _bucket(url: str | None) -> Any:
    """The S3 destination of `url` (None for none), reached and listed once: a bad URL, a
    missing bucket, refused credentials or an unreachable endpoint stop here, before any
    work. boto3 is imported only now."""
    if not url:
        return None
    from prodready.backup.s3 import S3Url, connect

    return connect(S3Url.parse(url))


def _send(
    bucket: Any, store: Any, backup_id: str, progress: Any, resume_others: bool = True
) -> list[Any]:
    """Sends the backup, then finishes the uploads to the same place that earlier runs left
    unfinished (`resume_others`). The caller holds the store's lock. A failure that stops the
    upload says that the backup itself is kept and how to resume."""
    from prodready.backup.remote import pending, push

    url = str(bucket.url)
    entry = store.entry(backup_id)
    entries = [entry, *(pending(store, url, besides=backup_id) if resume_others else [])]
    resume = f"`prodready backup upload {backup_id} --to {url}` resumes the upload"
    pushed = []
    with _interruptible(f"backup {backup_id} is kept in {entry.path}; {resume}"):
        for each in entries:
            try:
                pushed.append(push(store, each, bucket, progress))
            except UserError as error:
                raise type(error)(
                    f"backup {each.id} is kept in {each.path} but not sent to {url}: "
                    f"{error.message}",
                    error.hint,
                ) from None
    return pushed


def _echo_pushed(pushed: list[Any]) -> None:
    for each in pushed:
        sent = f"{_size(each.sent)} sent"
        if each.reused_parts or each.already_there:
            sent += (
                f"; {_plural(each.reused_parts, 'part')} of an interrupted upload and "
                f"{_plural(each.already_there, 'file')} found there already"
            )
        if each.ok:
            typer.echo(
                f"uploaded {each.id} to {each.url}/{each.id} ({sent}): {each.reason} "
                f"({each.duration_s:.1f} s)"
            )
        else:
            typer.echo(
                f"UPLOAD FAILED: {each.reason}; the manifest was not sent, so {each.url}/{each.id} "
                f"stays incomplete ({sent})"
            )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _alert_urls(flag: list[str] | None, directory: Path) -> list[str]:
    """--alert (or $PRODREADY_BACKUP_ALERT), else the config's alert list. A config that cannot
    be read gives none here: the backup itself then fails on it, loudly."""
    from prodready.backup.alert import check_alert_urls
    from prodready.backup.config import load_backup_config

    urls = list(flag or [])
    if not urls:
        with contextlib.suppress(UserError):
            urls = list(load_backup_config(directory).alert)
    check_alert_urls(urls)
    return urls


@contextlib.contextmanager
def _alerting_on_failure(urls: list[str], directory: Path) -> Iterator[list[str]]:
    """Sends every alert URL one message when the backup fails in any way it lives to see: bad
    input, a failed tool, a failed verification, an interrupt. Yields a list the body appends
    the failure's reason to when it exits non-zero by itself."""
    reasons: list[str] = []
    try:
        yield reasons
    except typer.Exit as stop:
        if stop.exit_code == EXIT_INTERRUPTED:
            reasons.append("the backup was interrupted (SIGTERM or Ctrl-C, e.g. a timeout)")
        if stop.exit_code:
            _alert(urls, directory, reasons[-1] if reasons else f"exit code {stop.exit_code}")
        raise
    except UserError as error:
        _alert(urls, directory, f"{error.message}" + (f" ({error.hint})" if error.hint else ""))
        raise
    except Exception as error:
        _alert(urls, directory, f"unexpected error: {type(error).__name__}: {error}")
        raise


def _alert(urls: list[str], directory: Path, reason: str) -> None:
    if not urls:
        return
    from prodready.backup.alert import failure_title, send_alert

    for failed in send_alert(urls, failure_title(directory.resolve().name), reason):
        typer.echo(f"warning: the failure alert was not delivered to {failed}", err=True)


@contextlib.contextmanager
def _interruptible(what: str) -> Iterator[None]:
    """Ctrl-C and SIGTERM (systemd stop, kill, a timeout) unwind the work, so the scratch
    database and the partial backup are removed on the way out; then one line and exit 130.
    Either also alarms the watchdog: a clean-up still running after CLEANUP_LIMIT_S ends the
    process as SIGKILL would (the swap is one transaction either way; a scratch database may be
    left, as after SIGKILL)."""
    from prodready.backup.watchdog import CleanupWatchdog
    from prodready.interrupts import unwinding

    signals = (signal.SIGTERM, signal.SIGINT)
    with CleanupWatchdog(CLEANUP_LIMIT_S, what) as watchdog:
        try:
            with unwinding(signals, lambda _: KeyboardInterrupt(), first=watchdog.alarm):
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

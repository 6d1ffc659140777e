"""`prodready init [DIR]`: parse options, generate the deployment files, report each one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from prodready.errors import EXIT_FINDINGS

if TYPE_CHECKING:
    from prodready.generate.run import InitResult

# The generate package (Jinja2, serve's plan) is imported when `init` runs, not when any
# prodready command starts.


def init(
    directory: Path = typer.Argument(Path("."), help="The app's directory."),
    app: str | None = typer.Option(
        None, "--app", help="The app as MODULE:ATTR when several are found."
    ),
    only: str | None = typer.Option(
        None,
        "--only",
        help="Only these kinds: gunicorn,dockerfile,compose,systemd,nginx,prometheus,env,"
        "kubernetes.",
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite files that differ."),
    diff: bool = typer.Option(False, "--diff", help="Show how existing files differ."),
    server_name: str = typer.Option(
        "app.example.com", "--server-name", help="The public host name nginx serves."
    ),
    nginx_version: str | None = typer.Option(
        None, "--nginx-version", help="Target nginx MAJOR.MINOR (default: the local nginx -V)."
    ),
    openssl_version: str | None = typer.Option(
        None, "--openssl-version", help="Target OpenSSL MAJOR.MINOR (default: nginx's)."
    ),
    validate_files: bool = typer.Option(
        False, "--validate", help="Run nginx -t, systemd-analyze, hadolint, promtool on them."
    ),
    deploy_root: Path | None = typer.Option(
        None,
        "--deploy-root",
        help="Where `prodready deploy` keeps releases on the host: nginx then reaches the app "
        "through the upstream include deploy writes there.",
    ),
    no_color: bool = typer.Option(False, "--no-color", help="Plain text output."),
) -> None:
    """Write production deployment files tuned to the detected app."""
    from prodready.generate.context import Options
    from prodready.generate.run import init_project, parse_only

    options = Options(
        app=app,
        server_name=server_name,
        nginx_version=nginx_version,
        openssl_version=openssl_version,
        deploy_root=str(deploy_root.absolute()) if deploy_root else None,
    )
    result = init_project(directory, options, parse_only(only), force=force)
    console = Console(no_color=no_color, highlight=False, soft_wrap=True)
    _report(result, console, diff)
    if validate_files and not _validate(result, directory, console):
        raise typer.Exit(EXIT_FINDINGS)
    if validate_files and result.context.conflicts:
        raise typer.Exit(EXIT_FINDINGS)  # the files are valid, but they do not agree


def _report(result: InitResult, console: Console, show_diff: bool) -> None:
    from prodready.generate.writer import Status

    ctx = result.context
    console.print(
        f"{ctx.target} ({ctx.app.framework}, {ctx.app.interface.upper()}), Python "
        f"{ctx.python_version} ({ctx.python_version_source}), dependencies with "
        f"{ctx.install.manager}, nginx "
        f"{'.'.join(map(str, ctx.nginx.nginx))} ({ctx.nginx.source})"
    )
    for outcome in result.outcomes:
        why = f" ({outcome.diff})" if outcome.status == Status.LEFT_OUT else ""
        console.print(f"  {outcome.status.value:<20} {outcome.rendered.rel}{why}")
    for note in ctx.notes:
        console.print(f"note: {note}")
    for conflict in ctx.conflicts:
        console.print(f"conflict: {conflict}")
    differing = [o for o in result.outcomes if o.status == Status.DIFFERS]
    if show_diff:
        for outcome in differing:
            console.print(outcome.diff, markup=False, end="")
    elif differing:
        console.print(
            f"{len(differing)} existing file(s) differ and were left alone: "
            "--diff shows how, --force overwrites"
        )


def _validate(result: InitResult, directory: Path, console: Console) -> bool:
    from prodready.generate import validate
    from prodready.generate.writer import Status

    ctx = result.context
    left = (Status.DIFFERS, Status.LEFT_OUT)
    written = {o.rendered.rel for o in result.outcomes if o.status not in left}
    deploy = ctx.deploy_dir
    checks: list[validate.ToolCheck] = []
    if any(rel.startswith(f"{deploy}/nginx/") for rel in written):
        checks.append(validate.check_nginx(ctx))
    for rel in sorted(written):
        path = directory / rel
        if rel in ("Dockerfile", f"{deploy}/backup/Dockerfile"):
            checks.append(validate.check_hadolint(path, rel))
        elif rel.startswith(f"{deploy}/systemd/"):
            checks.extend(validate.check_systemd(ctx, path))
        elif rel.startswith(f"{deploy}/prometheus/"):
            checks.append(validate.check_promtool(path))
    for item in checks:
        state = "skipped (not installed)" if item.skipped else "ok" if item.ok else "FAILED"
        detail = item.output.splitlines()[-1] if item.output and item.ok else ""
        console.print(f"  {item.tool:<26} {item.file:<24} {state} {detail}".rstrip())
        if not item.ok and not item.skipped:
            console.print(item.output, markup=False)
    return all(item.ok or item.skipped for item in checks)


def register(app: typer.Typer) -> None:
    app.command("init")(init)

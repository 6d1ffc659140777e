"""`prodready deploy`, `prodready deploy --status` and `prodready rollback`: parse options,
call prodready.deploy, render. A failed deploy exits 1; bad input exits 2."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from prodready.errors import EXIT_FINDINGS, UsageError

if TYPE_CHECKING:
    from prodready.deploy.run import DeployOptions, Outcome

RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root", help="The app's deploy root. [/srv/NAME, NAME from the app's directory]"
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine output on stdout.")]
ProgressOption = Annotated[
    bool | None,
    typer.Option("--progress/--quiet", help="Each step on stderr. [on a terminal]"),
]


def deploy(
    source: Annotated[
        str, typer.Argument(help="The app's directory, or a git ref of --repo.")
    ] = ".",
    root: RootOption = None,
    repo: Annotated[
        Path, typer.Option("--repo", help="The git repository a ref is read from.")
    ] = Path("."),
    app: Annotated[str | None, typer.Option("--app", help="MODULE:ATTR. [detected]")] = None,
    server: Annotated[str, typer.Option("--server", help="gunicorn or granian.")] = "gunicorn",
    supervisor: Annotated[
        str, typer.Option("--supervisor", help="process (pid file) or systemd (APP@.service).")
    ] = "process",
    proxy: Annotated[str, typer.Option("--proxy", help="nginx or none.")] = "nginx",
    nginx_conf: Annotated[
        Path | None, typer.Option("--nginx-conf", help="nginx's main config. [nginx's default]")
    ] = None,
    nginx_prefix: Annotated[
        Path | None, typer.Option("--nginx-prefix", help="nginx's -p prefix. [nginx's default]")
    ] = None,
    health_path: Annotated[
        str | None,
        typer.Option(
            "--health-path", help="Readiness route. [/health/ready of the kit, else detected]"
        ),
    ] = None,
    passes: Annotated[
        int, typer.Option("--passes", min=1, help="Consecutive healthy answers required.")
    ] = 3,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds the health gate waits.")
    ] = 60.0,
    warmup: Annotated[
        list[str] | None, typer.Option("--warmup", help="A path requested once before the switch.")
    ] = None,
    keep: Annotated[int, typer.Option("--keep", min=2, help="Releases kept on disk.")] = 5,
    release_command: Annotated[
        str | None,
        typer.Option("--release-command", help="Run once before the start. [detected migrations]"),
    ] = None,
    allow_breaking_migration: Annotated[
        bool,
        typer.Option("--allow-breaking-migration", help="Run migrations that drop or rename."),
    ] = False,
    skip_check: Annotated[
        bool, typer.Option("--skip-check", help="Do not run prodready check (logged).")
    ] = False,
    graceful_timeout: Annotated[
        int, typer.Option("--graceful-timeout", min=1, help="Seconds the old generation drains.")
    ] = 25,
    show_status: Annotated[
        bool, typer.Option("--status", help="Show releases, generations and the last deploy.")
    ] = False,
    as_json: JsonOption = False,
    progress: ProgressOption = None,
) -> None:
    """Deploy a release beside the running one, gate it on health, switch, drain the old one."""
    from prodready.deploy.build import resolve_source
    from prodready.deploy.run import deploy as run_deploy

    if show_status:
        _status(_root(root, Path(source) if Path(source).is_dir() else Path(".")), as_json)
        return
    options = _options(
        root, Path(source) if Path(source).is_dir() else repo, app, server, supervisor, proxy,
        nginx_conf, nginx_prefix, health_path, passes, timeout, warmup, keep, release_command,
        allow_breaking_migration, skip_check, graceful_timeout,
    )  # fmt: skip
    resolved = resolve_source(source, repo)
    outcome = _run(lambda shown: run_deploy(resolved, options, _check_release, shown), progress)
    _report(outcome, options, as_json)


def rollback(
    to: Annotated[str | None, typer.Option("--to", help="Release id. [the previous one]")] = None,
    root: RootOption = None,
    health_passes: Annotated[int, typer.Option("--passes", min=1)] = 3,
    timeout: Annotated[float, typer.Option("--timeout", min=1)] = 60.0,
    server: Annotated[str, typer.Option("--server", help="gunicorn or granian.")] = "gunicorn",
    supervisor: Annotated[str, typer.Option("--supervisor")] = "process",
    proxy: Annotated[str, typer.Option("--proxy", help="nginx or none.")] = "nginx",
    nginx_conf: Annotated[Path | None, typer.Option("--nginx-conf")] = None,
    nginx_prefix: Annotated[Path | None, typer.Option("--nginx-prefix")] = None,
    graceful_timeout: Annotated[int, typer.Option("--graceful-timeout", min=1)] = 25,
    as_json: JsonOption = False,
    progress: ProgressOption = None,
) -> None:
    """Switch back to the previous (or --to) release, through the same health gate."""
    from prodready.deploy.run import rollback as run_rollback

    options = _options(
        root, Path("."), None, server, supervisor, proxy, nginx_conf, nginx_prefix, None,
        health_passes, timeout, None, 5, None, False, True, graceful_timeout,
    )  # fmt: skip
    outcome = _run(lambda shown: run_rollback(to, options, shown), progress)
    _report(outcome, options, as_json)


def _options(
    root: Path | None,
    app_dir: Path,
    app: str | None,
    server: str,
    supervisor: str,
    proxy: str,
    nginx_conf: Path | None,
    nginx_prefix: Path | None,
    health_path: str | None,
    passes: int,
    timeout: float,
    warmup: list[str] | None,
    keep: int,
    release_command: str | None,
    allow_breaking: bool,
    skip_check: bool,
    graceful_timeout: int,
) -> DeployOptions:
    from prodready.deploy.run import DeployOptions
    from prodready.deploy.supervisors import ServeOptions
    from prodready.deploy.switch import Nginx
    from prodready.generate.context import service_name

    _choice("--server", server, ("gunicorn", "granian"))
    _choice("--supervisor", supervisor, ("process", "systemd"))
    _choice("--proxy", proxy, ("nginx", "none"))
    for path in [health_path, *(warmup or [])]:
        if path is not None and not path.startswith("/"):
            raise UsageError(f"bad path {path!r}", "give an absolute URL path, e.g. /health/ready")
    return DeployOptions(
        root=_root(root, app_dir),
        serve=ServeOptions(server=server, app=app, graceful_timeout=graceful_timeout),
        supervisor=supervisor,
        unit=service_name(app_dir),
        proxy=proxy,
        nginx=Nginx(
            prefix=nginx_prefix.resolve() if nginx_prefix else None,
            conf=nginx_conf.resolve() if nginx_conf else None,
        ),
        health_path=health_path,
        passes=passes,
        timeout_s=timeout,
        warmup=tuple(warmup or ()),
        keep=keep,
        release_command=release_command,
        allow_breaking=allow_breaking,
        skip_check=skip_check,
    )


def _root(root: Path | None, app_dir: Path) -> Path:
    from prodready.generate.context import service_name

    return (root or Path("/srv") / service_name(app_dir)).resolve()


def _choice(option: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise UsageError(f"bad {option} {value!r}", f"choose {' or '.join(allowed)}")


def _run(call: Callable[[Callable[[str], None]], Outcome], progress: bool | None) -> Outcome:
    """Runs the deploy; a DeployFailed is printed (message, details, hint) and exits 1."""
    from prodready.deploy.failure import DeployFailed

    shown = sys.stderr.isatty() if progress is None else progress
    start = time.monotonic()

    def show(step: str) -> None:
        if shown:
            typer.echo(f"{time.monotonic() - start:6.2f} s  {step}", err=True)

    try:
        return call(show)
    except DeployFailed as failure:
        typer.echo(f"error: {failure.message}", err=True)
        if failure.details:
            typer.echo(failure.details, err=True)
        if failure.hint:
            typer.echo(f"hint: {failure.hint}", err=True)
        raise typer.Exit(EXIT_FINDINGS) from None
    except KeyboardInterrupt:
        typer.echo("error: interrupted before the deploy started: nothing changed", err=True)
        raise typer.Exit(EXIT_FINDINGS) from None


def _report(outcome: Outcome, options: DeployOptions, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({**outcome.__dict__, "root": str(options.root)}))
        return
    was = f" (was {outcome.previous})" if outcome.previous else ""
    verb = "deployed" if outcome.action == "deploy" else "rolled back to"
    typer.echo(f"{verb} {outcome.release}{was} in {outcome.seconds:.1f} s: {options.root}/current")
    for note in outcome.notes:
        typer.echo(f"  {note}")


def _status(root: Path, as_json: bool) -> None:
    from prodready.deploy.status import render, status

    report = status(root)
    typer.echo(json.dumps(report) if as_json else render(report))


def _check_release(release: Path) -> list[str]:
    """`prodready check --fail-on error` on the release, in-process: its error findings."""
    from prodready.check.engine import run_check
    from prodready.check.model import Severity

    findings = run_check(release).findings
    return [
        f"{f.path}:{f.line} {f.rule_id} {f.message}"
        for f in findings
        if f.severity == Severity.ERROR
    ]


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy)
    app.command("rollback")(rollback)

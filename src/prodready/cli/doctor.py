"""`prodready doctor`: whether this machine can run prodready's parts, and why not."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from prodready.errors import EXIT_FINDINGS, EXIT_OK, InputError


def doctor(
    env_file: Path | None = typer.Option(
        None,
        "--env-file",
        help="The app's .env: each PostgreSQL or Redis URL in it is tried from here.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
) -> None:
    """Check Python, the servers, the validation tools, services and limits; exit 1 if a needed
    part is missing."""
    from prodready.doctor.checks import read_settings, run_checks

    if env_file is not None and not env_file.is_file():
        raise InputError(f"no such file: {env_file}", "give the app's .env file to --env-file")
    checks = run_checks(read_settings(env_file) if env_file is not None else None)
    failed = any(check.failed for check in checks)
    if as_json:
        payload = {"ok": not failed, "checks": [check.as_dict() for check in checks]}
        typer.echo(json.dumps(payload, indent=2))
    else:
        width = max(len(check.name) for check in checks)
        for check in checks:
            typer.echo(f"{check.status.value:<12} {check.name:<{width}}  {check.detail}")
            if check.fix and check.status.value != "ok":
                typer.echo(f"{'':<12} {'':<{width}}  fix: {check.fix}")
        needed = [check for check in checks if check.failed]
        summary = (
            f"{len(needed)} needed part(s) missing or unusable"
            if needed
            else "everything prodready needs is here"
        )
        typer.echo(f"\n{summary}.")
    raise typer.Exit(EXIT_FINDINGS if failed else EXIT_OK)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)

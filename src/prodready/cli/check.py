"""`prodready check [DIR]`: parse options, run the check, render."""

from __future__ import annotations

import io
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from prodready.errors import EXIT_OK, InputError, UsageError

if TYPE_CHECKING:
    from prodready.check.engine import CheckResult

# The check engine, its rules and parsers are imported when `check` runs, not when any
# prodready command starts (every command pays for what is imported here).


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


class FailOn(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    NEVER = "never"


def check(
    directory: Path = typer.Argument(Path("."), help="The app's directory.", show_default=True),
    output_format: OutputFormat = typer.Option(
        OutputFormat.TEXT, "--format", "-f", help="text for people; json or sarif for machines."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the report to FILE instead of stdout."
    ),
    fail_on: FailOn | None = typer.Option(
        None,
        "--fail-on",
        help="Lowest severity that makes the exit code 1 "
        "(default: warning, or fail-on in the config).",
    ),
    baseline: Path | None = typer.Option(
        None, "--baseline", help="Report only findings not recorded in FILE."
    ),
    write_baseline: Path | None = typer.Option(
        None, "--write-baseline", help="Record today's findings in FILE."
    ),
    select: str | None = typer.Option(None, "--select", help="Only these rules, e.g. PR101,PR203."),
    fix: bool = typer.Option(False, "--fix", help="Apply safe autofixes and list them."),
    unsafe_fixes: bool = typer.Option(
        False,
        "--unsafe-fixes",
        help="Show fixes that change behaviour; with --fix, apply them too.",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress, only the report."),
    no_color: bool = typer.Option(False, "--no-color", help="Plain text output."),
    show_env: bool = typer.Option(
        False,
        "--show-env",
        help="Text output: first list where each file, compose service and Dockerfile stage "
        "runs (production, development, test, one-shot) and why.",
    ),
) -> None:
    """Audit code and deployment files, and the way they fit together."""
    from prodready.check import baseline as baseline_module
    from prodready.check.engine import exit_code
    from prodready.check.fix import apply_fixes

    selected = _parse_select(select)
    for option, target in (("--output", output), ("--write-baseline", write_baseline)):
        if target is not None:
            _check_writable_target(option, target)
    stdout = Console(no_color=no_color or output is not None, highlight=False, soft_wrap=True)
    stderr = Console(stderr=True, no_color=no_color, highlight=False)
    result = _run(directory, baseline, selected, stderr, quiet)
    if fix:
        applied = apply_fixes(directory, result.findings, unsafe=unsafe_fixes)
        for item in applied:
            f = item.finding
            stderr.print(f"fixed {f.path}:{f.line} {f.rule_id} {item.description}")
        if applied:
            stderr.print(f"Applied {len(applied)} fix{'es' if len(applied) != 1 else ''}.")
            result = _run(directory, baseline, selected, stderr, quiet=True)
    if write_baseline is not None:
        baseline_module.write(write_baseline, result.fingerprints)
        stderr.print(f"Wrote {len(result.fingerprints)} findings to baseline {write_baseline}.")
    _emit(result, output_format, output, stdout, show_env, unsafe_fixes)
    if write_baseline is not None:
        raise typer.Exit(EXIT_OK)  # writing the baseline was the job: it is not a gate
    threshold = (fail_on.value if fail_on else None) or result.config.fail_on or "warning"
    raise typer.Exit(exit_code(result.findings, threshold))


def _parse_select(select: str | None) -> set[str] | None:
    from prodready.check.registry import load_rules

    if select is None:
        return None
    ids = {part.strip().upper() for part in select.split(",") if part.strip()}
    unknown = sorted(ids - set(load_rules()))
    if unknown:
        raise UsageError(
            f"--select names unknown rule {unknown[0]}", "`prodready rules` lists every rule id"
        )
    return ids


def _check_writable_target(option: str, target: Path) -> None:
    """Refuses, before the check runs, a report or baseline path that cannot be written."""
    if target.is_dir():
        raise UsageError(
            f"{option} {target} is a directory", f"give a file name, e.g. {option} FILE"
        )
    parent = target.parent
    if not parent.is_dir():
        raise UsageError(f"{option} {target}: directory {parent} does not exist", "create it first")


def _run(
    directory: Path, baseline: Path | None, select: set[str] | None, stderr: Console, quiet: bool
) -> CheckResult:
    from prodready.check.engine import run_check

    if quiet or not stderr.is_terminal:
        return run_check(directory, baseline=baseline, select=select)
    with stderr.status(f"Checking {directory} ...", spinner="dots"):
        return run_check(directory, baseline=baseline, select=select)


def _emit(
    result: CheckResult,
    fmt: OutputFormat,
    output: Path | None,
    stdout: Console,
    show_env: bool,
    unsafe_fixes: bool,
) -> None:
    from prodready.check import report

    if fmt == OutputFormat.TEXT:
        if output is None:
            _text(result, stdout, show_env, unsafe_fixes)
            return
        buffer = io.StringIO()
        _text(result, Console(file=buffer, no_color=True, width=120), show_env, unsafe_fixes)
        text = buffer.getvalue()
    else:
        rendered = (
            report.render_json(result) if fmt == OutputFormat.JSON else report.render_sarif(result)
        )
        text = rendered + "\n"
        if output is None:
            sys.stdout.write(text)
            return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise InputError(
            f"cannot write the report to {output}: {error.strerror or error}",
            "give a writable file path",
        ) from None


def _text(result: CheckResult, console: Console, show_env: bool, unsafe_fixes: bool) -> None:
    from prodready.check import report

    if show_env:
        report.render_environments(result.project, console)
    report.render_text(result, console, unsafe_fixes)


def register(app: typer.Typer) -> None:
    app.command("check")(check)

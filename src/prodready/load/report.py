"""Machine output: the JSON report, written to a file or to stdout (`-`)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from prodready import __version__
from prodready.errors import InputError
from prodready.load.result import LoadResult
from prodready.load.slo import Verdict, is_default_gate

SCHEMA_VERSION = 1


def report_dict(result: LoadResult, verdicts: list[Verdict]) -> dict[str, Any]:
    report: dict[str, Any] = {
        "tool": "prodready load",
        "version": __version__,
        "schema_version": SCHEMA_VERSION,
    }
    report.update(result.to_dict())
    report["slo"] = {
        "passed": all(v.passed for v in verdicts),
        "default_gate": is_default_gate(verdicts),
        "checks": [v.to_dict() for v in verdicts],
    }
    return report


def write_text(destination: str, text: str) -> None:
    """Writes to a file, or to stdout for `-`."""
    if destination == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        Path(destination).write_text(text, encoding="utf-8")
    except OSError as error:
        raise InputError(
            f"cannot write {destination}: {error.strerror}", "check the directory exists"
        ) from None


def write_json(destination: str, result: LoadResult, verdicts: list[Verdict]) -> None:
    write_text(destination, json.dumps(report_dict(result, verdicts), indent=2) + "\n")


def check_destination(destination: str | None) -> None:
    """Fails before the run, not after it, when a report could not be written."""
    if destination is None or destination == "-":
        return
    path = Path(destination)
    parent = path.resolve().parent
    if not parent.is_dir():
        raise InputError(f"cannot write {destination}: no directory {parent}", "create it first")
    if path.is_dir():
        raise InputError(
            f"cannot write {destination}: it is a directory", "give a file name, e.g. report.html"
        )
    if not os.access(path if path.exists() else parent, os.W_OK):
        raise InputError(
            f"cannot write {destination}: permission denied", "choose a path you can write"
        )

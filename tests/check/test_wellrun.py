"""Well-run production projects get near-silence from `prodready check`.

Each tree under wellrun/ is written the way experienced teams write their deployment files:
multi-stage non-root images with a Python healthcheck, compose with `x-` anchors and required
variables, nginx with Mozilla's intermediate TLS (guidelines v6.0), HSTS and security headers
repeated through `include` snippets, hardened systemd units, sane Gunicorn settings and
locked dependencies. Every error or warning on them is a false positive; an info finding is
allowed only when listed in ALLOWED_INFO with the reason it is defensible."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodready.check.engine import run_check
from prodready.check.model import Severity

WELLRUN = Path(__file__).parent / "wellrun"
PROJECTS = sorted(p.name for p in WELLRUN.iterdir() if p.is_dir())

ALLOWED_INFO: dict[tuple[str, str, str], str] = {}
"""(project, path, rule id) -> why the info finding is fair on a well-run project."""


def test_there_are_three_well_run_projects() -> None:
    assert PROJECTS == ["djangoshop", "fastapi_uv", "flask_poetry"]


@pytest.mark.parametrize("project", PROJECTS)
def test_well_run_project_gets_no_error_or_warning(project: str) -> None:
    findings = run_check(WELLRUN / project).findings
    shown = [
        f"{f.path}:{f.line} {f.rule_id} {f.severity} {f.message}"
        for f in findings
        if f.severity != Severity.INFO or (project, f.path, f.rule_id) not in ALLOWED_INFO
    ]
    assert not shown, "\n".join(shown)

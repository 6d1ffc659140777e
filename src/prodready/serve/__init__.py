"""`prodready serve` and `prodready reload`: run an app with computed production settings.

    from prodready.serve import prepare
    plan = prepare(Path("."), Overrides(target="app:app"))
    print(plan.explain())             # each value and why
    print(plan.to_gunicorn_conf())    # the equivalent gunicorn.conf.py

`prepare` detects the project, loads the app once in a throwaway process (`probe.py`: one clear
error line for each way an app fails to load, and its memory per worker) and computes the plan
(`plan.py`). `launch.run_plan` execs Gunicorn or Granian; `reload.reload_server` replaces the
workers of a running server, new ones ready before old ones stop.
"""

from __future__ import annotations

from pathlib import Path

from prodready.project import detect
from prodready.serve.machine import Machine
from prodready.serve.plan import Overrides, ServerPlan, compute_plan
from prodready.serve.probe import AppTarget, probe_app

__all__ = ["Overrides", "ServerPlan", "compute_plan", "prepare"]


def prepare(root: Path, overrides: Overrides, machine: Machine | None = None) -> ServerPlan:
    project = detect(root)
    target = overrides.target or (project.app.target if project.app else None)
    probe = probe_app(AppTarget.parse(target), root) if target else None
    return compute_plan(project, machine, overrides, probe)

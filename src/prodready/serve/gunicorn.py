"""Runs a plan under Gunicorn: the plan's gunicorn.conf.py, written into the state dir."""

from __future__ import annotations

import sys

from prodready.serve.plan import ServerPlan


def gunicorn_argv(plan: ServerPlan) -> list[str]:
    """Writes the plan's config into its state dir and returns the command that runs it.

    The file stays there while the server runs: Gunicorn reads it again on HUP.
    """
    conf = plan.state_dir / "gunicorn.conf.py"
    conf.write_text(plan.to_gunicorn_conf(), encoding="utf-8")
    return [sys.executable, "-m", "gunicorn", "--config", str(conf)]

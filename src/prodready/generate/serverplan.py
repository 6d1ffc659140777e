"""The Gunicorn settings `prodready serve` would choose, for a machine we cannot see.

serve's plan decides worker class, threads, timeouts, keep-alive behind a proxy and recycling;
those do not depend on the machine. The worker count does, so gunicorn.conf.py computes it
where it runs (with the plan's formula) instead of freezing this machine's CPU count into it."""

from __future__ import annotations

from prodready.project.model import AppCandidate, Project
from prodready.serve.machine import Machine
from prodready.serve.plan import Overrides, Setting, compute_plan
from prodready.serve.probe import AppTarget, ProbeResult

MACHINE_INDEPENDENT = (
    "worker_class",
    "threads",
    "timeout",
    "graceful_timeout",
    "keepalive",
    "max_requests",
    "max_requests_jitter",
)
UNSEEN_MACHINE = Machine(
    cpus=1,
    cpus_why="counted by gunicorn.conf.py where it runs",
    memory_bytes=1 << 40,
    memory_why="not capped here: set WEB_CONCURRENCY where memory is tight",
    shm_dir="/dev/shm",
)


def server_settings(project: Project, app: AppCandidate) -> list[Setting]:
    """The machine-independent settings, in plan order; behind nginx on the same host.

    The interface is the chosen app's (detected, or inferred for an --app detection missed),
    handed over as a probe result without a memory measurement: the app is never imported."""
    overrides = Overrides(
        target=app.target, proxies=("127.0.0.1",), state_dir="/run/app", project_config=False
    )
    interface = ProbeResult(AppTarget.parse(app.target), app.interface, rss_bytes=0)
    plan = compute_plan(project, UNSEEN_MACHINE, overrides, interface)
    return [s for s in plan.settings if s.name in MACHINE_INDEPENDENT]

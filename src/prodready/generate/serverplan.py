"""The Gunicorn settings `prodready serve` would choose, for a machine we cannot see.

serve's plan decides worker class, threads, timeouts, keep-alive behind a proxy and recycling;
those do not depend on the machine. The worker count does, so gunicorn.conf.py computes it
where it runs (with the plan's formula) instead of freezing this machine's CPU count into it."""

from __future__ import annotations

from prodready.project.model import AppCandidate, Project
from prodready.serve.machine import Machine
from prodready.serve.plan import THREAD_WORKER, Overrides, Setting, compute_plan
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
    return [_plain_gthread(s) for s in plan.settings if s.name in MACHINE_INDEPENDENT]


def _plain_gthread(setting: Setting) -> Setting:
    """Gunicorn's own gthread instead of prodready's: the file must run where prodready is not
    installed, and behind nginx, which buffers each request whole before it connects upstream,
    idle or slow clients never reach Gunicorn's threads."""
    if setting.name != "worker_class" or setting.value != THREAD_WORKER:
        return setting
    return Setting(
        "worker_class",
        "gthread",
        "threads serve requests while others wait on I/O, and kept-alive connections cost a "
        "poller entry, not a worker; nginx in front buffers each request whole, so idle or "
        "slow clients never hold a thread",
    )

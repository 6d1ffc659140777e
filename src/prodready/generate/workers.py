"""The app's background worker (Celery, RQ, Dramatiq, Huey): a task queue's jobs run in a
process of their own, which production must start and restart like the web server. Found from
the production dependencies and the module that imports the queue library."""

from __future__ import annotations

from dataclasses import dataclass

from prodready.project.model import Project

WORKER_NAMES = ("celery", "worker", "tasks", "jobs", "queue")
"""Module names that usually hold the queue's app; preferred over others importing it."""


@dataclass(frozen=True)
class Worker:
    library: str
    command: tuple[str, ...]
    """argv from the app's directory, with the program as installed in the virtualenv."""
    evidence: str
    environment: tuple[tuple[str, str], ...] = ()
    """Variables the worker reads beyond the app's own (RQ's Redis URL)."""


def background_worker(project: Project) -> Worker | None:
    """The worker the project's queue library needs, or None when it uses none."""
    production = {d.name for d in project.dependencies if not d.dev}
    for library in ("celery", "rq", "dramatiq", "huey"):
        if library in production:
            module = _queue_module(project, library)
            if module is not None or library == "rq":
                return _worker(library, module, project)
    return None


def _queue_module(project: Project, library: str) -> str | None:
    importing = [
        summary
        for rel, summary in sorted(project.modules.items())
        if library in summary.imports and not _dev(project, rel)
    ]
    if not importing:
        return None
    preferred = [s for s in importing if s.module.rsplit(".", 1)[-1] in WORKER_NAMES]
    return min(preferred or importing, key=lambda s: (s.module.count("."), s.module)).module


def _dev(project: Project, rel: str) -> bool:
    source = project.file(rel)
    return source is not None and source.dev_only


def _worker(library: str, module: str | None, project: Project) -> Worker:
    where = f"{library} imported in {module}" if module else f"dependency {library}"
    if library == "celery":
        command = ("celery", "--app", str(module), "worker", "--loglevel", "INFO")
        return Worker(library, command, where)
    if library == "rq":
        redis_url = "redis://redis:6379/0" if project.uses_service("redis") else ""
        environment = (("RQ_REDIS_URL", redis_url),) if redis_url else ()
        return Worker(library, ("rq", "worker", *_rq_queues(project)), where, environment)
    if library == "dramatiq":
        return Worker(library, ("dramatiq", str(module)), where)
    return Worker(library, ("huey_consumer", f"{module}.huey"), where)


def _rq_queues(project: Project) -> list[str]:
    """The queues the app enqueues on, in the order first seen; none (rq's own "default")
    when it names only that one or none at all."""
    names: list[str] = []
    for rel, summary in sorted(project.modules.items()):
        if not _dev(project, rel):
            names.extend(name for name in summary.rq_queues if name not in names)
    return [] if names in ([], ["default"]) else names

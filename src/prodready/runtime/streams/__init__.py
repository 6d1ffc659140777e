"""Server-Sent Events that survive production: replay, heartbeats, disconnects, drain.

    reports = prod.stream("reports", broker="redis://127.0.0.1:6379/0")

    @app.get("/reports/<task_id>/events")           # Flask; FastAPI, Django: the same call
    def report_events(task_id):
        return reports.response(task_id)

    reports.publish(task_id, {"done": 40}, event="progress")   # any process, any thread

A publisher outside the app (a Celery task, a script) makes its own
`Stream("reports", broker="redis://...")` with the same name and broker.

Loaded only when used: `import prodready.runtime` does not import this package.
"""

from __future__ import annotations

from prodready.runtime.streams.brokers import Event, MemoryBroker, RedisBroker
from prodready.runtime.streams.stream import Stream

__all__ = ["Event", "MemoryBroker", "RedisBroker", "Stream"]

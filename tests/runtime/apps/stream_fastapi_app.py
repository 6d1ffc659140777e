"""FastAPI app with one SSE stream family; publishes in-process for the memory broker."""

from fastapi import FastAPI
from stream_options import stream_options

from prodready.runtime import Production

app = FastAPI()
prod = Production(app)
reports = prod.stream("reports", **stream_options())


@app.get("/reports/{task_id}/events")
async def report_events(task_id: str):
    return reports.response(task_id)


@app.post("/reports/{task_id}/publish")
async def publish(task_id: str, count: int = 1, start: int = 0):
    """Publishes `count` events in one go, without yielding to the event loop."""
    ids = [reports.publish(task_id, {"n": start + i}, event="progress") for i in range(count)]
    return {"ids": ids}

"""Flask app with one SSE stream family."""

from flask import Flask, request
from stream_options import stream_options

from prodready.runtime import Production

app = Flask(__name__)
prod = Production(app)
reports = prod.stream("reports", **stream_options())


@app.get("/reports/<task_id>/events")
def report_events(task_id):
    return reports.response(task_id)


@app.post("/reports/<task_id>/publish")
def publish(task_id):
    count = int(request.args.get("count", 1))
    start = int(request.args.get("start", 0))
    ids = [reports.publish(task_id, {"n": start + i}, event="progress") for i in range(count)]
    return {"ids": ids}

"""A small Flask app: a CPU-light route, a route that waits on I/O, a slow route, and the
version of the code it was loaded with (`version.py` beside it, rewritten by reload tests)."""

import time

from flask import Flask, request

from prodready.runtime.health import is_draining

try:
    from version import NUMBER
except ImportError:
    NUMBER = 0

app = Flask(__name__)


@app.get("/ping")
def ping():
    return {"ok": True}


@app.get("/wait")
def wait():
    waited_ms = int(request.args.get("ms", 50))
    time.sleep(waited_ms / 1000)
    return {"waited_ms": waited_ms}


@app.get("/slow")
def slow():
    time.sleep(2)
    return {"slow": True, "draining_when_done": is_draining()}


@app.get("/draining")
def draining():
    return {"draining": is_draining()}


@app.get("/version")
def version():
    return {"version": NUMBER}

"""A small Flask app: a CPU-light route, a route that waits on I/O, a slow route, and the
version of the code it was loaded with (`version.py` beside it, rewritten by reload tests)."""

import time

from flask import Flask

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
    time.sleep(0.05)
    return {"waited_ms": 50}


@app.get("/slow")
def slow():
    time.sleep(2)
    return {"slow": True, "draining_when_done": is_draining()}


@app.get("/version")
def version():
    return {"version": NUMBER}

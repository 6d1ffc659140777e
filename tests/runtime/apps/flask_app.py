"""Flask test app."""

import logging
import time

import _configure
from flask import Flask, request

from prodready.runtime.health import is_draining

app = Flask(__name__)
log = logging.getLogger("flask_app")


@app.get("/hello")
def hello():
    return {"hello": "world"}


@app.get("/items/<int:item_id>")
def item(item_id):
    log.warning("looking up item %s", item_id)
    return {"id": item_id}


@app.get("/boom")
def boom():
    raise RuntimeError("unhandled in a handler")


@app.post("/upload")
def upload():
    return {"size": len(request.get_data())}


@app.get("/draining")
def draining():
    time.sleep(1)
    return {"draining": is_draining()}


prod = _configure.install(app)

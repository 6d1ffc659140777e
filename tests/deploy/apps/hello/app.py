"""A small Flask app for the deploy tests: its version comes from VERSION, its readiness
from /ready; a release built with BROKEN=import fails to import. It notes the CPU priority it
was imported at in BOOT_NICE."""

import os
from pathlib import Path

from flask import Flask

VERSION = (Path(__file__).parent / "VERSION").read_text().strip()
(Path(__file__).parent / "BOOT_NICE").write_text(f"{os.nice(0)}\n")  # the deploy's priority test
if VERSION == "broken-import":
    raise ImportError("this release cannot import (deploy test)")

app = Flask(__name__)


@app.get("/ready")
def ready():
    if VERSION == "broken-health":
        return {"ready": False}, 503
    return {"ready": True}


@app.get("/version")
def version():
    return {"version": VERSION}

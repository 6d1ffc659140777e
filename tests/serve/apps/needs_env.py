"""An app that needs a secret from its environment at import, as most real ones do."""

import os

from flask import Flask

SECRET = os.environ["SERVE_TEST_SECRET"]
app = Flask(__name__)


@app.get("/ping")
def ping():
    return {"ok": True}

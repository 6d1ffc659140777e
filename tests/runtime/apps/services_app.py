"""Flask app with lazy services: a model, and a dependency that cannot be reached."""

import os

import _configure
from flask import Flask

from prodready.runtime import ServiceUnavailable

app = Flask(__name__)
prod = _configure.install(app)
attempts = {"model": 0, "feature_store": 0}


def load_model():
    attempts["model"] += 1
    return {"built_in": os.getpid()}


def connect_feature_store():
    attempts["feature_store"] += 1
    raise ConnectionError("feature store unreachable")


model = prod.service("model", load_model)
feature_store = prod.service("feature_store", connect_feature_store)

if os.environ.get("USE_MODEL_AT_IMPORT"):
    model.get()  # a mistake real apps make; under --preload this runs in the master


@app.get("/predict")
def predict():
    return {"built_in": model.get()["built_in"], "served_by": os.getpid()}


@app.get("/features")
def features():
    try:
        feature_store.get()
    except ServiceUnavailable as error:
        return {"error": str(error), "attempts": attempts["feature_store"]}, 503
    return {}

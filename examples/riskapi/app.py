"""Risk-scoring API: scores a loan application with a small logistic model.

Modelled on a real team's service that went to production the way it was written on a laptop.
See README.md and EXPECTED.md for what is wrong with it.
"""

import datetime
import json
import math
import os
import time
import urllib.request
from pathlib import Path

from flask import Flask, jsonify, request

app = Flask(__name__)

MODEL_PATH = Path(os.environ.get("MODEL_PATH", Path(__file__).parent / "model" / "weights.json"))
DATABASE_URL = os.getenv("DATABASE_URL", "postgresql://risk:risk123@db:5432/risk")
ALERT_WEBHOOK = os.environ.get("ALERT_WEBHOOK", "")



def load_model(path: Path) -> dict | None:
    """Reads the model weights; a missing file is silently swallowed."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


# Loaded once per process, at import time: every Gunicorn worker (and every test that imports
# this module) pays for it before it can answer.
MODEL = load_model(MODEL_PATH)

_db = None


def get_db():
    """Connects on first use, so importing the app never needs the database."""
    global _db
    if _db is None:
        import psycopg

        _db = psycopg.connect(DATABASE_URL)
    return _db


def score(features: dict) -> float:
    weights = MODEL["weights"]
    z = MODEL["bias"] + sum(weights[name] * float(features.get(name, 0)) for name in weights)
    return 1.0 / (1.0 + math.exp(-z))


def alert_fraud_team(application_id: str, risk: float) -> None:
    body = json.dumps({"application": application_id, "risk": risk}).encode()
    req = urllib.request.Request(ALERT_WEBHOOK, data=body, method="POST")
    urllib.request.urlopen(req)


@app.get("/health")
def health():
    # Always claims the model is loaded, even when MODEL is None.
    return jsonify(status="ok", model_loaded=True)


@app.get("/api/ping")
def ping():
    return jsonify(pong=True, model=MODEL["version"] if MODEL else None)


@app.get("/api/lookup")
def lookup():
    time.sleep(0.05)  # stands for the call to the credit bureau
    return jsonify(customer=request.args.get("id", "0"), bureau_score=712)


@app.post("/api/score")
def score_application():
    payload = request.get_json(force=True)
    try:
        risk = score(payload["features"])
    except Exception as exc:
        return jsonify(error=str(exc)), 500
    if risk > 0.9 and ALERT_WEBHOOK:
        alert_fraud_team(payload.get("id", "?"), risk)
    return jsonify(
        id=payload.get("id"),
        risk=round(risk, 4),
        scored_at=datetime.datetime.utcnow().isoformat(),
    )


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000, debug=True)

from flask import Blueprint
from sqlalchemy import text

from ledger.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}

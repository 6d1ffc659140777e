from datetime import UTC, datetime

import requests
from flask import Blueprint, abort, current_app

bp = Blueprint("accounts", __name__)


@bp.get("/<int:account_id>")
def account(account_id: int):
    response = requests.get(
        f"{current_app.config['RATES_URL']}/accounts/{account_id}", timeout=(3.05, 10)
    )
    if response.status_code == 404:
        abort(404)
    response.raise_for_status()
    return {"account": response.json(), "fetched_at": datetime.now(UTC).isoformat()}

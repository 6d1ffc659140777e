import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from ledger.extensions import db


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_prefixed_env("LEDGER")
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", os.environ["DATABASE_URL"])
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS", {"pool_size": 5, "max_overflow": 2, "pool_pre_ping": True}
    )
    app.config["SESSION_COOKIE_SECURE"] = True
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if config:
        app.config.update(config)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    db.init_app(app)

    from ledger.views import accounts, health

    app.register_blueprint(health.bp)
    app.register_blueprint(accounts.bp, url_prefix="/api/accounts")
    return app

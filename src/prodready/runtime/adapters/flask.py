"""Flask: the WSGI core wraps `app.wsgi_app`; a before_request hook notes the URL rule."""

from __future__ import annotations

from typing import Any

from prodready.runtime.adapters.routes import ROUTE_KEY, stored_route
from prodready.runtime.core.wsgi import KitWSGIMiddleware
from prodready.runtime.kit import Kit


def install(app: Any, kit: Kit) -> None:
    from flask import request

    def note_route() -> None:
        rule = request.url_rule
        if rule is not None:
            request.environ[ROUTE_KEY] = rule.rule

    app.before_request(note_route)
    app.wsgi_app = KitWSGIMiddleware(app.wsgi_app, kit, stored_route)

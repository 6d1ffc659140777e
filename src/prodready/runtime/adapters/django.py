"""Django: the core wraps the WSGI or ASGI handler; route templates come from URL resolution.

`resolve_request` is wrapped on the handler instance, so no settings change is needed.
"""

from __future__ import annotations

from typing import Any

from prodready.runtime.adapters.routes import ROUTE_KEY, stored_route
from prodready.runtime.core.asgi import KitASGIMiddleware
from prodready.runtime.core.wsgi import KitWSGIMiddleware
from prodready.runtime.kit import Kit


def install(handler: Any, kit: Kit, asgi: bool) -> Any:
    resolve = handler.resolve_request

    def resolve_and_note_route(request: Any) -> Any:
        match = resolve(request)
        carrier = request.scope if asgi else request.environ
        carrier[ROUTE_KEY] = "/" + match.route
        return match

    handler.resolve_request = resolve_and_note_route
    if asgi:
        return KitASGIMiddleware(handler, kit, stored_route)
    return KitWSGIMiddleware(handler, kit, stored_route)
